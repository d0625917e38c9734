import { afterEach, describe, expect, it } from '@jest/globals';
import { PrimusClient, type ClientOptions } from '@primus/client';
import { memoryPrimus } from './memory-transport';

const created: PrimusClient[] = [];

function track<T extends PrimusClient>(client: T): T {
  created.push(client);
  return client;
}

afterEach(() => {
  for (const client of created.splice(0)) client.destroy();
});

describe('client options', () => {
  it('writes the defaults back into the options object it was given', () => {
    const { Primus } = memoryPrimus();
    const options: ClientOptions = { manual: true };
    const client = track(new Primus('http://localhost:8080', options));

    expect(client.options).toBe(options);
    expect(options).toMatchObject({
      queueSize: Infinity,
      timeout: 10000,
      ping: 25000,
      pong: 10000,
      strategy: 'disconnect,online,timeout',
      reconnect: {},
      transport: {},
      manual: true,
    });
  });

  it('defaults ping to the value compiled in from the server, and lets the client override it', () => {
    const { Primus: Compiled } = memoryPrimus({ ping: 5000 });
    expect(track(new Compiled('http://localhost', { manual: true })).options.ping).toBe(5000);
    expect(track(new Compiled('http://localhost', { manual: true, ping: 700 })).options.ping).toBe(700);

    const { Primus: NoHeartbeat } = memoryPrimus({ ping: false });
    expect(track(new NoHeartbeat('http://localhost', { manual: true })).options.ping).toBe(false);
  });

  it('leaves timeout out of the default strategy when the server has authorization', () => {
    const { Primus } = memoryPrimus({ authorization: true });
    expect(track(new Primus('http://localhost', { manual: true })).options.strategy).toBe('disconnect,online');
  });

  it.each<[ClientOptions['strategy'], string]>([
    [' Disconnect ,TIMEOUT  ', 'disconnect,timeout'],
    ['online', 'online'],
    [['Online', ' disconnect'], 'online,disconnect'],
    [[], 'disconnect,online,timeout'],
    [false, ''],
  ])('normalises strategy %p to %p', (strategy, expected) => {
    const { Primus } = memoryPrimus();
    expect(track(new Primus('http://localhost', { manual: true, strategy })).options.strategy).toBe(expected);
  });

  it('rejects an unknown strategy with a TypeError naming the option', () => {
    const { Primus } = memoryPrimus();
    expect(() => new Primus('http://localhost', { manual: true, strategy: 'disconnect,reboot' })).toThrow(TypeError);
    expect(() => new Primus('http://localhost', { manual: true, strategy: 'disconnect,reboot' })).toThrow(/options\.strategy.*reboot/);
    expect(() => new Primus('http://localhost', { manual: true, strategy: 42 as never })).toThrow(/options\.strategy/);
  });

  it.each<[string, unknown]>([
    ['queueSize', 'lots'],
    ['queueSize', -1],
    ['timeout', '10s'],
    ['ping', 'often'],
    ['pong', false],
    ['pong', Number.NaN],
    ['transport', 'ws'],
  ])('rejects options.%s = %p with a TypeError naming it', (key, value) => {
    const { Primus } = memoryPrimus();
    const build = (): unknown => new Primus('http://localhost', { manual: true, [key]: value });
    expect(build).toThrow(TypeError);
    expect(build).toThrow(new RegExp(`options\\.${key}\\b`));
  });

  it('rejects bad reconnect options at construction', () => {
    const { Primus } = memoryPrimus();
    expect(() => new Primus('http://localhost', { manual: true, reconnect: { retries: 'many' as never } })).toThrow(/options\.reconnect\.retries/);
  });

  it('accepts timeout:false and ping:false', () => {
    const { Primus } = memoryPrimus();
    const client = track(new Primus('http://localhost', { manual: true, timeout: false, ping: false }));
    expect(client.options.timeout).toBe(false);
    expect(client.options.ping).toBe(false);
  });

  it('refuses a class that was never compiled', () => {
    expect(() => new PrimusClient('http://localhost')).toThrow(/compiled/);
  });
});

describe('constructing a client', () => {
  it('works with and without new, and through Primus.connect()', () => {
    const { Primus } = memoryPrimus();
    const withNew = track(new Primus('http://localhost:1', { manual: true, timeout: 50000 }));
    const withoutNew = track(Primus('http://localhost:2', { manual: true, timeout: 50000 }));
    const connected = track(Primus.connect('http://localhost:3', { manual: true }));

    for (const client of [withNew, withoutNew, connected]) {
      expect(client).toBeInstanceOf(Primus);
      expect(client).toBeInstanceOf(PrimusClient);
    }
    expect(withoutNew.options.timeout).toBe(50000);
    expect(withoutNew.url.host).toBe('localhost:2');
    expect(connected.url.host).toBe('localhost:3');
  });

  it('gives `new Primus()` the class prototype and a subclass its own', () => {
    const { Primus } = memoryPrimus();
    class Custom extends Primus {
      custom(): string {
        return this.url.host;
      }
    }
    const plain = track(new Primus('http://localhost:1', { manual: true }));
    const custom = track(new Custom('http://localhost:2', { manual: true }));

    expect(Object.getPrototypeOf(plain)).toBe(Primus.prototype);
    expect(Object.getPrototypeOf(custom)).toBe(Custom.prototype);
    expect(custom).toBeInstanceOf(Primus);
    expect(custom.custom()).toBe('localhost:2');
  });

  it('takes the url from options.url or options.uri when the first argument is an object', () => {
    const { Primus } = memoryPrimus();
    const byUrl = track(new Primus({ url: 'http://example.com:8080', manual: true, pong: 5000 }));
    const byUri = track(new Primus({ uri: 'https://example.org', manual: true }));

    expect(byUrl.uri({ protocol: 'ws:' })).toBe('ws://example.com:8080/primus');
    expect(byUrl.options.pong).toBe(5000);
    expect(byUri.uri({ protocol: 'ws:' })).toBe('wss://example.org/primus');
  });

  it('connects to http://127.0.0.1 when Node has no url to go on', () => {
    const { Primus } = memoryPrimus();
    const client = track(new Primus({ manual: true }));
    expect(client.uri({ protocol: 'ws:' })).toBe('ws://127.0.0.1/primus');
    expect(track(new Primus(undefined, { manual: true })).url.host).toBe('127.0.0.1');
  });

  it('rejects a url that is not a string or cannot be parsed', () => {
    const { Primus } = memoryPrimus();
    expect(() => new Primus(42 as never, { manual: true })).toThrow(TypeError);
    expect(() => new Primus('http://[not-ipv6', { manual: true })).toThrow('Primus: url must be a valid URL, got "http://[not-ipv6"');
  });

  it('exposes the readyState constants with the same numbers as a Spark', () => {
    const { Primus } = memoryPrimus();
    expect([Primus.OPENING, Primus.CLOSED, Primus.OPEN]).toEqual([1, 2, 3]);
    expect(track(new Primus('http://localhost', { manual: true })).readyState).toBe(Primus.CLOSED);
  });
});
