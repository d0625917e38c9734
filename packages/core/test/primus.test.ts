import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import websockets from '@primus/transformer-ws';
import { json } from '@primus/parser-json';
import { Primus, Spark, VERSION, type Parser, type Packet } from '@primus/core';
import { collect, nextData, nextSpark, once, request, waitFor } from '@primus/transformer-test-suite';
import { cleanup, connectRaw, detached, flush, sent, start } from './helpers';

afterEach(cleanup);

/** JSON, with a spy on encode to count how often messages are encoded. */
function countingParser(): Parser & { encode: jest.Mock<(data: unknown) => string> } {
  return { name: 'counting', encode: jest.fn((data: unknown) => JSON.stringify(data)), decode: (raw: string) => JSON.parse(raw) as unknown };
}

async function sparks(primus: Primus, n: number): Promise<Spark[]> {
  const made = Array.from({ length: n }, () => new primus.Spark());
  await flush();
  return made;
}

describe('exports and versions', () => {
  it('reports the version of packages/core/package.json everywhere', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
    const primus = detached();
    expect(VERSION).toBe(pkg.version);
    expect(Primus.version).toBe(pkg.version);
    expect(primus.version).toBe(pkg.version);
    expect(primus.spec.version).toBe(pkg.version);
    expect(new primus.Socket({ manual: true }).version).toBe(pkg.version);
  });

  it('exposes the Spark base class', () => {
    expect(Primus.Spark).toBe(Spark);
  });

  it('reserves its own events, case-sensitively', () => {
    const primus = detached();
    for (const evt of ['incoming::x', 'outgoing::x', 'disconnection', 'initialised', 'connection', 'plugout', 'plugin', 'close', 'log']) {
      expect(primus.reserved(evt)).toBe(true);
    }
    for (const evt of ['ERROR', 'heartbeat-skipped', 'flatline', 'custom']) expect(primus.reserved(evt)).toBe(false);
  });

  it('emits initialised on the next tick with the transformer, parser and options', async () => {
    const primus = detached({ transformer: websockets, pathname: '/init' });
    const [transformer, parser, options] = await once(primus, 'initialised');
    expect(transformer).toBe(websockets);
    expect(parser).toBe(json);
    expect(options).toBe(primus.options);
    expect(options.pathname).toBe('/init');
  });
});

describe('connections', () => {
  it('counts sparks from the tick after they are made until they end', async () => {
    const primus = detached();
    const spark = new primus.Spark();
    expect(primus.connected).toBe(0);
    await flush();
    expect(primus.connected).toBe(1);
    expect(primus.connections[spark.id]).toBe(spark);
    expect(primus.spark(spark.id)).toBe(spark);
    spark.end();
    expect(primus.connected).toBe(0);
    expect(primus.spark(spark.id)).toBeUndefined();
    expect(Object.keys(primus.connections)).toEqual([]);
  });

  it('ends every spark on destroy, each with one disconnection', async () => {
    const primus = detached();
    const connected = collect(primus, 'connection', 10);
    const all = await sparks(primus, 10);
    await connected;
    const gone: Spark[] = [];
    primus.on('disconnection', (spark: Spark) => gone.push(spark));
    await new Promise<void>((resolve) => primus.destroy({ close: false }, () => resolve()));
    expect(gone).toHaveLength(10);
    expect(new Set(gone)).toEqual(new Set(all));
  });

  it('keeps real connections in sync as clients come and go', async () => {
    const server = await start();
    const a = await connectRaw(server);
    const b = await connectRaw(server);
    expect(server.primus.connected).toBe(2);
    expect(Object.keys(server.primus.connections).sort()).toEqual([a.spark.id, b.spark.id].sort());
    a.ws.close();
    await once(a.spark, 'end');
    expect(server.primus.connected).toBe(1);
    expect(server.primus.spark(a.spark.id)).toBeUndefined();
    expect(server.primus.spark(b.spark.id)).toBe(b.spark);
  });
});

describe('forEach()', () => {
  it('visits every spark synchronously with (spark, id, connections)', async () => {
    const primus = detached();
    const all = await sparks(primus, 2);
    const seen: unknown[][] = [];
    expect(primus.forEach((spark, id, connections) => void seen.push([spark, id, connections]))).toBe(primus);
    expect(seen).toEqual(all.map((spark) => [spark, spark.id, primus.connections]));
  });

  it('stops when the callback returns false', async () => {
    const primus = detached();
    await sparks(primus, 3);
    let visits = 0;
    primus.forEach(() => {
      visits++;
      return false;
    });
    expect(visits).toBe(1);
  });

  it('asynchronously also visits sparks that connect during the iteration', async () => {
    const primus = detached();
    await sparks(primus, 4);
    const visited: Spark[] = [];
    let grown = false;
    await new Promise<void>((resolve, reject) => {
      primus.forEach(
        (spark: Spark, next: (err?: Error | null, more?: boolean) => void) => {
          visited.push(spark);
          if (grown) return void setImmediate(next);
          grown = true;
          void sparks(primus, 4).then(() => next());
        },
        (err?: Error) => (err ? reject(err) : resolve()),
      );
    });
    expect(visited).toHaveLength(8);
    expect(new Set(visited).size).toBe(8);
  });

  it('asynchronously stops on next(undefined, false) and passes next(err) to done', async () => {
    const primus = detached();
    await sparks(primus, 3);
    let visits = 0;
    const stopped = await new Promise<Error | undefined>((resolve) => {
      primus.forEach((_spark: Spark, next: (err?: Error | null, more?: boolean) => void) => {
        visits++;
        next(undefined, false);
      }, resolve);
    });
    expect(visits).toBe(1);
    expect(stopped).toBeUndefined();
    const failed = await new Promise<Error | undefined>((resolve) => {
      primus.forEach((_spark: Spark, next: (err?: Error | null) => void) => next(new Error('stop here')), resolve);
    });
    expect(failed?.message).toBe('stop here');
  });

  it('asynchronously skips sparks that ended before their turn', async () => {
    const primus = detached();
    const [first, second, third] = await sparks(primus, 3);
    const visited: Spark[] = [];
    await new Promise<void>((resolve) => {
      primus.forEach(
        (spark: Spark, next: () => void) => {
          visited.push(spark);
          if (spark === first) second!.end();
          next();
        },
        () => resolve(),
      );
    });
    expect(visited).toEqual([first, third]);
  });
});

describe('broadcast: primus.write()', () => {
  it('encodes the message once for all sparks', async () => {
    const parser = countingParser();
    const primus = detached({ parser });
    const all = await sparks(primus, 5);
    const payloads = all.map((spark) => {
      const seen: unknown[] = [];
      spark.on('outgoing::data', (payload) => seen.push(payload));
      return seen;
    });
    parser.encode.mockClear();
    expect(primus.write({ news: '\u2028' })).toBe(true);
    expect(parser.encode).toHaveBeenCalledTimes(1);
    for (const seen of payloads) expect(seen).toEqual(['{"news":"\\u2028"}']);
  });

  it('runs outgoing message transformers per spark', async () => {
    const primus = detached();
    const all = await sparks(primus, 2);
    primus.transform('outgoing', function (this: Spark, packet: Packet) {
      packet.data = `${String(packet.data)} for ${this.id}`;
    });
    const payloads = all.map(sent);
    primus.write('hello');
    expect(payloads).toEqual(all.map((spark) => [`hello for ${spark.id}`]));
  });

  it('reaches every connected client', async () => {
    const server = await start();
    const clients = [server.client(), server.client(), server.client()];
    await waitFor(() => server.primus.connected === 3, 5000, 'three connections');
    const received = Promise.all(clients.map((client) => once(client, 'data')));
    server.primus.write({ to: 'all' });
    expect((await received).map(([data]) => data)).toEqual([{ to: 'all' }, { to: 'all' }, { to: 'all' }]);
  });

  it('logs and returns false when the message cannot be encoded', async () => {
    const primus = detached();
    await sparks(primus, 1);
    const logged: unknown[] = [];
    primus.on('log', (level: string, err: unknown) => level === 'error' && logged.push(err));
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(primus.write(circular)).toBe(false);
    expect((logged[0] as { code?: string }).code).toBe('PRIMUS_ERR_PARSER_ENCODE');
  });
});

describe('message transformers', () => {
  it('only accepts the incoming and outgoing types, and functions', () => {
    const primus = detached();
    expect(() => primus.transform('cowsack' as 'incoming', () => {})).toThrow(/transformer/);
    expect(() => primus.transform('cowsack' as 'incoming', () => {})).toThrow(expect.objectContaining({ code: 'PRIMUS_ERR_TRANSFORM_TYPE' }));
    expect(() => primus.transform('incoming', 'nope' as never)).toThrow(/function/);
  });

  it('ignores a transformer registered twice', async () => {
    const primus = detached();
    const [spark] = await sparks(primus, 1);
    let calls = 0;
    const count = (_packet: Packet): void => void calls++;
    primus.transform('incoming', count).transform('incoming', count);
    spark!.incomingData('"x"');
    expect(calls).toBe(1);
  });

  describe('incoming', () => {
    it('rewrites data synchronously, with this === spark and the raw message', async () => {
      const primus = detached();
      const [spark] = await sparks(primus, 1);
      const seen: unknown[] = [];
      primus.transform('incoming', function (this: Spark, packet: Packet) {
        seen.push([this, packet.raw]);
        packet.data = { wrapped: packet.data };
      });
      const data = once(spark!, 'data');
      spark!.incomingData('"x"');
      expect(await data).toEqual([{ wrapped: 'x' }, '"x"']);
      expect(seen).toEqual([[spark, '"x"']]);
    });

    it('rewrites data asynchronously', async () => {
      const primus = detached();
      const [spark] = await sparks(primus, 1);
      primus.transform('incoming', (packet: Packet, next: () => void) => {
        setImmediate(() => {
          packet.data = 'later';
          next();
        });
      });
      const data = once(spark!, 'data');
      spark!.incomingData('"now"');
      expect((await data)[0]).toBe('later');
    });

    it('drops a message when a synchronous transformer returns false or an async one calls next(undefined, false)', async () => {
      const primus = detached();
      const [spark] = await sparks(primus, 1);
      primus.transform('incoming', (packet: Packet) => packet.data !== 'sync-drop');
      primus.transform('incoming', (packet: Packet, next: (err?: Error | null, keep?: boolean) => void) => next(undefined, packet.data !== 'async-drop'));
      const seen: unknown[] = [];
      spark!.on('data', (data) => seen.push(data));
      for (const message of ['sync-drop', 'async-drop', 'kept']) spark!.incomingData(JSON.stringify(message));
      expect(seen).toEqual(['kept']);
    });

    it('reports a failing transformer as a spark error, or a log entry when nobody listens', async () => {
      const primus = detached();
      const [listened, unheard] = await sparks(primus, 2);
      primus.transform('incoming', (_packet: Packet, next: (err?: Error) => void) => next(new Error('bad packet')));
      const errors: Array<Error & { code?: string }> = [];
      listened!.on('error', (err) => errors.push(err));
      const logged: unknown[] = [];
      primus.on('log', (level: string, err: unknown) => level === 'error' && logged.push(err));
      listened!.incomingData('"x"');
      expect(() => unheard!.incomingData('"x"')).not.toThrow();
      expect(errors.map((err) => err.code)).toEqual(['PRIMUS_ERR_TRANSFORM']);
      expect(errors[0]!.message).toContain('bad packet');
      expect(logged).toHaveLength(2);
      expect(unheard!.readyState).toBe(3);
    });
  });

  describe('outgoing', () => {
    it('rewrites data synchronously and asynchronously, with this === spark', async () => {
      const primus = detached();
      const [spark] = await sparks(primus, 1);
      const contexts: unknown[] = [];
      primus.transform('outgoing', function (this: Spark, packet: Packet) {
        contexts.push(this);
        packet.data = [packet.data];
      });
      primus.transform('outgoing', (packet: Packet, next: () => void) => {
        packet.data = { list: packet.data };
        next();
      });
      const payloads = sent(spark!);
      expect(spark!.write('x')).toBe(true);
      expect(payloads).toEqual([{ list: ['x'] }]);
      expect(contexts).toEqual([spark]);
    });

    it('drops a message: no outgoing::data', async () => {
      const primus = detached();
      const [spark] = await sparks(primus, 1);
      primus.transform('outgoing', (packet: Packet) => packet.data !== 'secret');
      primus.transform('outgoing', (packet: Packet, next: (err?: Error | null, keep?: boolean) => void) => next(null, packet.data !== 'also secret'));
      const payloads = sent(spark!);
      spark!.write('secret');
      spark!.write('also secret');
      spark!.write('public');
      expect(payloads).toEqual(['public']);
    });

    it('does not apply to control messages', async () => {
      const primus = detached();
      const [spark] = await sparks(primus, 1);
      primus.transform('outgoing', (packet: Packet) => {
        packet.data = 'rewritten';
      });
      const payloads = sent(spark!);
      spark!.incomingData('"primus::id::"');
      spark!.end();
      expect(payloads).toEqual([`primus::id::${spark!.id}`, 'primus::server::close']);
    });

    it('changes what a real client receives', async () => {
      const server = await start();
      server.primus.transform('outgoing', (packet: Packet) => {
        packet.data = { transformed: packet.data };
      });
      const sparkReady = nextSpark(server.primus);
      const client = server.client();
      const spark = await sparkReady;
      const data = once(client, 'data');
      spark.write('hi');
      expect((await data)[0]).toEqual({ transformed: 'hi' });
    });
  });
});

describe('parsers()', () => {
  it('switches to a callback-style parser at run time, called with this === spark', async () => {
    const server = await start();
    server.primus.parsers({
      encoder(this: { tag?: string }, data: unknown, fn: (err: Error | null, out?: string) => void) {
        fn(null, JSON.stringify({ tag: this.tag ?? 'none', data }));
      },
      decoder(this: { tag?: string }, raw: unknown, fn: (err: Error | null, out?: unknown) => void) {
        const parsed = JSON.parse(String(raw)) as { data: unknown };
        fn(null, typeof parsed === 'object' && parsed && 'data' in parsed ? { via: this.tag ?? 'none', data: parsed.data } : parsed);
      },
    });
    expect(server.primus.spec.parser).toBe('custom');
    server.primus.on('connection', (spark: Spark) => {
      (spark as Spark & { tag?: string }).tag = `spark ${spark.id}`;
      spark.write('ready');
    });
    const sparkReady = nextSpark(server.primus);
    const client = server.client();
    const spark = await sparkReady;
    // The client class was compiled with the same parser; its `this` is the client (no tag).
    const [ready] = await once(client, 'data');
    expect(ready).toEqual({ via: 'none', data: 'ready' });
    const received = once(spark, 'data');
    client.write('hello');
    expect((await received)[0]).toEqual({ via: `spark ${spark.id}`, data: 'hello' });
  });

  it('refuses a callback-style parser that does not call back synchronously', async () => {
    const primus = detached();
    primus.parsers({
      encoder(data: unknown, fn: (err: null, out: unknown) => void) {
        setImmediate(() => fn(null, JSON.stringify(data)));
      },
      decoder(raw: unknown, fn: (err: null, out: unknown) => void) {
        fn(null, raw);
      },
    });
    const [spark] = await sparks(primus, 1);
    const errors: Array<Error & { code?: string }> = [];
    spark!.on('error', (err) => errors.push(err));
    spark!.write('x');
    expect(errors[0]!.code).toBe('PRIMUS_ERR_PARSER_ENCODE');
    expect(errors[0]!.message).toMatch(/synchronously/);
  });
});

describe('destroy()', () => {
  it('calls back every caller, however many times it is called', async () => {
    const server = await start();
    const done = Array.from({ length: 4 }, () => new Promise<void>((resolve) => server.primus.destroy(() => resolve())));
    await Promise.all(done);
    await new Promise<void>((resolve) => server.primus.destroy(() => resolve()));
  });

  it('emits close with the options it was given', async () => {
    const a = detached();
    const closeA = once(a, 'close');
    a.destroy();
    expect(await closeA).toEqual([{}]);
    const b = detached();
    const closeB = once(b, 'close');
    b.destroy({ close: false, timeout: 0 });
    expect((await closeB)[0]).toEqual({ close: false, timeout: 0 });
  });

  it('waits for an asynchronous close listener before calling back', async () => {
    const primus = detached();
    const order: string[] = [];
    primus.on('close', (_options: unknown, next?: () => void) => {
      setTimeout(() => {
        order.push('listener done');
        next!();
      }, 10);
    });
    await new Promise<void>((resolve) => primus.destroy(() => resolve()));
    order.push('destroyed');
    expect(order).toEqual(['listener done', 'destroyed']);
  });

  it('tells clients not to reconnect and stops the HTTP server', async () => {
    const server = await start();
    const raw = await connectRaw(server);
    await new Promise<void>((resolve) => server.primus.destroy(() => resolve()));
    expect(await raw.next()).toBe('"primus::server::close"');
    expect(await raw.closed).toBe(1000);
    expect(server.server.listening).toBe(false);
  });

  it('with close: false, leaves the HTTP server to the application', async () => {
    const server = await start();
    await new Promise<void>((resolve) => server.primus.destroy({ close: false }, () => resolve()));
    expect(server.server.listening).toBe(true);
    expect((await request(`${server.url}/primus/spec`)).body).toBe('the application handler was reached');
  });

  it('with reconnect: true, makes clients schedule a reconnect', async () => {
    const server = await start();
    const sparkReady = nextSpark(server.primus);
    const client = server.client();
    await sparkReady;
    await once(client, 'open');
    const scheduled = once(client, 'reconnect scheduled');
    server.primus.destroy({ reconnect: true });
    await scheduled;
  });

  it('waits `timeout` ms before ending sparks', async () => {
    const primus = detached();
    const [spark] = await sparks(primus, 1);
    const start = Date.now();
    primus.destroy({ timeout: 50, close: false });
    expect(spark!.readyState).toBe(3);
    await once(spark!, 'end');
    expect(Date.now() - start).toBeGreaterThanOrEqual(45);
  });

  it('is also available as end()', async () => {
    const primus = detached();
    await new Promise<void>((resolve) => primus.end({ close: false }, () => resolve()));
    expect(primus.server).toBeNull();
  });
});

describe('client classes', () => {
  it('primus.Socket connects and exchanges messages', async () => {
    const server = await start();
    server.primus.on('connection', (spark: Spark) => spark.on('data', (data) => spark.write({ echo: data })));
    const client = new server.primus.Socket(server.url);
    try {
      client.write('hello');
      expect((await once(client, 'data'))[0]).toEqual({ echo: 'hello' });
    } finally {
      client.destroy();
    }
  });

  it.each([
    [{}, 25000],
    [{ timeout: 60000 }, 50000],
    [{ timeout: false as const }, false],
  ])('compiles the default client ping from the server timeout (%p gives %p)', (options, ping) => {
    const primus = detached(options);
    expect(new primus.Socket({ manual: true }).options.ping).toBe(ping);
    expect(new primus.Socket({ manual: true, ping: 100 }).options.ping).toBe(100);
  });

  it('Primus.createSocket() builds a working client class with plugins, without a server', async () => {
    const server = await start({ pathname: '/custom' });
    const Socket = Primus.createSocket({
      transformer: websockets,
      pathname: '/custom',
      plugin: {
        greeter: {
          client(primus) {
            (primus as unknown as { greet(): void }).greet = () => primus.write('hello from the plugin');
          },
        },
      },
    });
    const first = nextData(server.primus);
    const client = new Socket(server.url, { manual: true });
    try {
      expect(client.pathname).toBe('/custom');
      (client as unknown as { greet(): void }).greet();
      client.open();
      expect((await first)[0]).toBe('hello from the plugin');
    } finally {
      client.destroy();
    }
  });

  it('Primus.createSocket() builds its server from the exported class (or the class it is called on)', () => {
    const seen: unknown[] = [];
    const probe = {
      server: function (this: unknown) {
        seen.push(this);
      },
      client() {},
    };
    Primus.createSocket({ transformer: websockets, plugin: { probe } });
    class Custom extends Primus {}
    Custom.createSocket({ transformer: websockets, plugin: { probe } });
    expect(seen[0]).toBeInstanceOf(Primus);
    expect(seen[1]).toBeInstanceOf(Custom);
  });

  it('Primus.createSocket() accepts the transformer by name', () => {
    const Socket = Primus.createSocket({ transformer: 'websockets', authorization: (_req, done) => done() });
    const client = new Socket({ manual: true });
    expect(client.authorization).toBe(true);
    expect(client.options.strategy).toBe('disconnect,online');
  });
});
