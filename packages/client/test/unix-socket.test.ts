import { describe, expect, it } from '@jest/globals';
import { compile, type ClientTransport } from '@primus/client';
import { parseUnixUrl as parseUrl } from '../src/unix';
import { json } from '@primus/parser-json';

// `ws+unix:` URLs: parsed as `ws` writes them, completed from happn-primus's compiled-pathname
// form, and refused with a clear error by transports that cannot reach a Unix domain socket.

const noop = (): void => {};

function transport(unixSocket: boolean): ClientTransport {
  return { name: unixSocket ? 'able' : 'unable', unixSocket, connect: () => ({ send: noop, close: noop }) };
}

function client(url: string, pathname = '/primus', unixSocket = true) {
  const Primus = compile({ transport: transport(unixSocket), parser: json, pathname });
  return new Primus(url, { manual: true });
}

describe('parseUrl() with ws+unix:', () => {
  it('takes the path as the socket', () => {
    expect(parseUrl('ws+unix:///var/run/app.sock')).toMatchObject({
      protocol: 'ws+unix:',
      socketPath: '/var/run/app.sock',
      pathname: '',
      query: '',
      auth: '',
      hostname: 'localhost',
    });
  });

  it('splits off the HTTP path at the first colon, and keeps credentials, query and hash', () => {
    expect(parseUrl('ws+unix://user:p%40ss@/var/run/app.sock:/custom/path?token=a%20b#top')).toMatchObject({
      socketPath: '/var/run/app.sock',
      pathname: '/custom/path',
      query: '?token=a%20b',
      hash: '#top',
      auth: 'user:p%40ss',
    });
  });

  it('decodes the socket path, and takes the forms without slashes or with localhost', () => {
    expect(parseUrl('ws+unix:/tmp/my%20app+1.sock').socketPath).toBe('/tmp/my app+1.sock');
    expect(parseUrl('WS+UNIX://localhost/tmp/app.sock').socketPath).toBe('/tmp/app.sock');
  });

  it.each(['ws+unix://var/run/app.sock', 'ws+unix:relative.sock', 'ws+unix:///app.sock:relative'])('refuses %s with a sentence that shows the form', (url) => {
    expect(() => parseUrl(url)).toThrow(/write a Unix domain socket as "ws\+unix:\/\/\/path\/to\.sock"/);
  });
});

describe('a client for a ws+unix: url', () => {
  it('connects to the compiled pathname over the socket, with the query and credentials', () => {
    const socket = client('ws+unix://user:pw@/tmp/app.sock?token=1');
    expect(socket.url.socketPath).toBe('/tmp/app.sock');
    const uri = new URL(socket.uri({ protocol: 'http:', query: true }) as string);
    expect([uri.protocol, uri.host, uri.username, uri.password, uri.pathname]).toEqual(['http:', 'localhost', 'user', 'pw', '/primus']);
    expect(uri.searchParams.get('token')).toBe('1');
    expect(uri.searchParams.get('ping')).toBe('25000');
  });

  it('uses the HTTP path the url names', () => {
    const uri = client('ws+unix:///tmp/app.sock:/custom?token=1').uri({ protocol: 'ws:', query: true }) as string;
    expect(new URL(uri).pathname).toBe('/custom');
  });

  it('takes the socket from a compiled pathname "/path/to.sock:/primus", as happn-primus applications wrote it', () => {
    for (const url of ['ws+unix://', 'ws+unix://localhost']) {
      const socket = client(url, '/tmp/app.sock:/primus');
      expect(socket.url.socketPath).toBe('/tmp/app.sock');
      expect(new URL(socket.uri({ protocol: 'ws:' }) as string).pathname).toBe('/primus');
    }
  });

  it('refuses a url without a socket', () => {
    expect(() => client('ws+unix://')).toThrow(/names no socket; write it as "ws\+unix:\/\/\/path\/to\.sock"/);
  });

  it('refuses a ws+unix: url at construction when the transformer cannot reach a Unix domain socket', () => {
    expect(() => client('ws+unix:///tmp/app.sock', '/primus', false)).toThrow(
      "Primus: the unable transformer's client cannot connect to a Unix domain socket (ws+unix:///tmp/app.sock); the client README lists the transformers that can",
    );
  });

  it('leaves TCP urls alone', () => {
    const socket = client('http://example.com:8080/ignored?x=1');
    expect(socket.url.socketPath).toBe('');
    expect(new URL(socket.uri({ protocol: 'http:', query: true }) as string).pathname).toBe('/primus');
  });
});
