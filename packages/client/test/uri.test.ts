import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { ClientOptions, PrimusClient, UriOptions } from '@primus/client';
import { memoryPrimus } from './memory-transport';

const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_';

/** The millisecond a yeast id such as `Q8Nog6x` encodes. */
function yeastTime(id: string): number {
  let time = 0;
  for (const char of id) time = time * 64 + alphabet.indexOf(char);
  return time;
}

const created: PrimusClient[] = [];

function client(url: string | undefined, options: ClientOptions = {}, config: Parameters<typeof memoryPrimus>[0] = {}): PrimusClient {
  const { Primus } = memoryPrimus(config);
  const socket = new Primus(url, { manual: true, ...options });
  created.push(socket);
  return socket;
}

beforeEach(() => {
  jest.useFakeTimers();
});

afterEach(() => {
  for (const socket of created.splice(0)) socket.destroy();
  jest.useRealTimers();
});

describe('uri()', () => {
  it('builds the websocket url with the cache buster, then ping, then pong', () => {
    jest.setSystemTime(yeastTime('Q8Nog6x'));
    expect(client('http://localhost:8080').uri({ protocol: 'ws:', query: true })).toBe('ws://localhost:8080/primus?_primuscb=Q8Nog6x&ping=25000&pong=10000');
  });

  it('adds a counter to the cache buster when called twice in one millisecond', () => {
    jest.setSystemTime(yeastTime('Q8Nog6z'));
    const socket = client('http://localhost:8080');
    const first = socket.uri({ protocol: 'ws:', query: true }) as string;
    const second = socket.uri({ protocol: 'ws:', query: true }) as string;
    expect(new URL(first).searchParams.get('_primuscb')).toBe('Q8Nog6z');
    expect(new URL(second).searchParams.get('_primuscb')).toBe('Q8Nog6z.0');
  });

  it('keeps auth and the user query ahead of the keys Primus adds, and switches to wss for https', () => {
    // A millisecond no other test uses: ids repeat with a counter within one millisecond.
    jest.setSystemTime(yeastTime('Q8Nog6y'));
    expect(client('https://usr:pass@example.com/?foo=bar&x=1').uri({ protocol: 'ws:', query: true })).toBe(
      'wss://usr:pass@example.com/primus?foo=bar&x=1&_primuscb=Q8Nog6y&ping=25000&pong=10000',
    );
  });

  it('keeps the brackets of an IPv6 host', () => {
    const url = client('http://[::1]:8080').uri({ protocol: 'ws:', query: true }) as string;
    expect(url).toMatch(/^ws:\/\/\[::1\]:8080\/primus\?_primuscb=[\w-]+&ping=25000&pong=10000$/);
  });

  it('announces ping=false when the heartbeat is off, and the client pong', () => {
    const url = client('http://localhost:8080', { ping: false, pong: 3000 }).uri({ protocol: 'ws:', query: true }) as string;
    expect(url).toMatch(/\?_primuscb=[\w.-]+&ping=false&pong=3000$/);
  });

  it('drops the whole query, cache buster included, unless the transport asks for it', () => {
    const socket = client('http://localhost:8080/?foo=bar');
    expect(socket.uri({ protocol: 'ws:' })).toBe('ws://localhost:8080/primus');
    expect(socket.uri({ protocol: 'ws:', query: false })).toBe('ws://localhost:8080/primus');
    expect(socket.uri()).toBe('http://localhost:8080/primus');
  });

  it('takes the pathname from the server, never from the url, without a trailing slash', () => {
    expect(client('http://localhost:8080/some/where/?a=1').uri({ protocol: 'ws:', query: true })).toMatch(/^ws:\/\/localhost:8080\/primus\?a=1&_primuscb=/);
    expect(client('http://localhost:8080', {}, { pathname: '/realtime/' }).uri({ protocol: 'ws:' })).toBe('ws://localhost:8080/realtime');
  });

  it('uses wss and https for secure urls, and lets the transport override it', () => {
    expect(client('wss://example.com').uri({ protocol: 'ws:' })).toBe('wss://example.com/primus');
    expect(client('https://example.com').uri({ protocol: 'http:' })).toBe('https://example.com/primus');
    expect(client('https://example.com').uri({ protocol: 'ws:', secure: false })).toBe('ws://example.com/primus');
    expect(client('http://example.com').uri({ protocol: 'ws:', secure: true })).toBe('wss://example.com/primus');
  });

  it('returns the completed options in object form, with the built query', () => {
    jest.setSystemTime(yeastTime('Q8Nog6x'));
    const options = client('https://usr:pass@example.com/?a=b').uri({ protocol: 'http:', query: true, object: true }) as UriOptions;
    expect(options).toMatchObject({
      protocol: 'http:',
      secure: true,
      auth: 'usr:pass',
      pathname: '/primus',
      port: 443,
      query: 'a=b&_primuscb=Q8Nog6x&ping=25000&pong=10000',
    });
    expect((client('http://example.com:3000').uri({ object: true }) as UriOptions).port).toBe(3000);
    expect((client('http://example.com').uri({ object: true }) as UriOptions).port).toBe(80);
  });

  it('lets an outgoing::url listener set the query before it is built', () => {
    const socket = client('http://localhost:8080/?dropped=1');
    const seen: UriOptions[] = [];
    socket.on('outgoing::url', (options: UriOptions) => {
      seen.push({ ...options });
      options.query = 'foo=bar';
    });
    const url = new URL(socket.uri({ protocol: 'ws:', query: true }) as string);
    expect([...url.searchParams.keys()]).toEqual(['foo', '_primuscb', 'ping', 'pong']);
    expect(url.searchParams.get('foo')).toBe('bar');
    expect(seen[0]).toMatchObject({ protocol: 'ws:', pathname: '/primus', port: 8080, secure: false, query: 'dropped=1' });
  });

  it('decodes the user query and encodes it again with encodeURIComponent', () => {
    const url = client('http://localhost/?name=a+b&city=%C3%A9').uri({ protocol: 'ws:', query: true }) as string;
    expect(url).toMatch(/\?name=a%20b&city=%C3%A9&_primuscb=/);
  });
});
