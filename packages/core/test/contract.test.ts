import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Primus, defineTransformer, type ConnectionSink, type ConnectionSocket, type DrainOptions, type Parser, type Spark, type TransformerContext } from '@primus/core';
import websockets from '@primus/transformer-ws';
import { request } from '@primus/transformer-test-suite';
import { flush } from './helpers';

/** What a transformer double saw of the core. */
interface Seen {
  context?: TransformerContext;
  sent: Array<string | Buffer | Uint8Array>;
  closed: number;
  drains: DrainOptions[];
  order: string[];
}

/**
 * A transformer that takes no connections of its own: the test opens them through the context, as
 * a real transformer would from its framework's callbacks.
 */
function double(options: { textOnly?: boolean; drain?: (seen: Seen, options: DrainOptions) => void | Promise<void>; request?: boolean } = {}) {
  const seen: Seen = { sent: [], closed: 0, drains: [], order: [] };
  const transformer = defineTransformer({
    name: 'double',
    textOnly: options.textOnly,
    server(context) {
      seen.context = context;
      return {
        ...(options.request ? { request: (_req: unknown, res: http.ServerResponse) => res.end('mine') } : {}),
        drain(drainOptions) {
          seen.drains.push(drainOptions);
          seen.order.push('drain');
          return options.drain?.(seen, drainOptions);
        },
        close() {
          seen.order.push('transformer close');
        },
      };
    },
    client: websockets.client,
    browser: () => 'null',
  });
  return { transformer, seen };
}

const socket = (seen: Seen): ConnectionSocket => ({
  send(payload) {
    seen.sent.push(payload);
  },
  close() {
    seen.closed++;
  },
});

/** Open a connection through the context and wait for its spark's `connection` event. */
async function connect(primus: Primus, seen: Seen): Promise<{ sink: ConnectionSink; spark: Spark }> {
  const announced = new Promise<Spark>((resolve) => primus.once('connection', resolve));
  const sink = seen.context!.connect({ headers: { host: 'example' }, address: { remoteAddress: '127.0.0.1', remotePort: 1 } }, socket(seen));
  return { sink, spark: await announced };
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function listening(server: http.Server = http.createServer()): Promise<http.Server> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const destroy = (primus: Primus, options: { close?: boolean } = {}): Promise<void> => new Promise((resolve) => primus.destroy(options, () => resolve()));

/** Bytes on the wire, for the text-only tests. */
const bytesParser: Parser = {
  name: 'bytes',
  encode: (data: unknown) => Buffer.from(JSON.stringify(data)),
  decode: (raw: unknown) => JSON.parse(String(raw)) as unknown,
};

describe('the transformer context', () => {
  it('gives the transformer options, a logger, the server and connect(), and nothing of Primus', async () => {
    const { transformer, seen } = double();
    const server = await listening();
    const primus = new Primus(server, { transformer });
    const context = seen.context!;
    expect(Object.keys(context).sort()).toEqual(['connect', 'flushSoon', 'logger', 'options', 'server']);
    expect(context.options).toMatchObject({ pathname: '/primus', maxLength: 10 * 1024 * 1024, compression: false, highWaterMark: 1024 * 1024 });
    expect(context.server).toMatchObject({ listening: true, secure: false });
    expect(context.server!.node).toBe(server);
    const logged = new Promise<unknown[]>((resolve) => primus.once('log', (...args: unknown[]) => resolve(args)));
    context.logger.warn('careful', 1);
    expect(await logged).toEqual(['warn', 'careful', 1]);
    await destroy(primus, { close: false });
    expect(context.server!.listening).toBe(false);
  });

  it('tells a TLS server apart, and gives no server to Primus.createSocket()', () => {
    const { transformer, seen } = double();
    const primus = new Primus(https.createServer(), { transformer });
    expect(seen.context!.server!.secure).toBe(true);
    primus.destroy({ close: false });
    Primus.createSocket({ transformer });
    expect(seen.context!.server).toBeNull();
  });

  it('returns a sink that reports to the spark: id, data, ping, end', async () => {
    const { transformer, seen } = double();
    const primus = new Primus(await listening(), { transformer });
    const { sink, spark } = await connect(primus, seen);
    expect(sink.id).toBe(spark.id);
    expect(sink).not.toBe(spark);
    const data = new Promise<unknown>((resolve) => spark.once('data', resolve));
    sink.data('{"hello":"world"}');
    expect(await data).toEqual({ hello: 'world' });
    let heartbeats = 0;
    spark.on('heartbeat', () => heartbeats++);
    sink.ping();
    expect(heartbeats).toBe(1);
    const ended = new Promise<void>((resolve) => spark.once('end', resolve));
    sink.end();
    await ended;
    expect(primus.connected).toBe(0);
    // Reports after the end are harmless.
    expect(() => (sink.data('"late"'), sink.ping(), sink.drain(), sink.error(new Error('late')), sink.end())).not.toThrow();
    await destroy(primus);
  });

  it('ends the spark and tells the client not to reconnect on sink.error()', async () => {
    const { transformer, seen } = double();
    const primus = new Primus(await listening(), { transformer });
    const { sink, spark } = await connect(primus, seen);
    const errors: Error[] = [];
    spark.on('error', (err: Error) => errors.push(err));
    sink.error(new Error('transport broke'));
    expect(errors.map((e) => e.message)).toEqual(['transport broke']);
    expect(seen.sent.map(String)).toEqual(['"primus::server::close"']);
    expect(seen.closed).toBe(1);
    await destroy(primus);
  });

  it('emits drain after send() returned false once the sink reports drain', async () => {
    const { transformer, seen } = double();
    const primus = new Primus(await listening(), { transformer });
    let full = true;
    const announced = new Promise<Spark>((resolve) => primus.once('connection', resolve));
    const sink = seen.context!.connect({ headers: {}, address: {} }, { send: () => !full, close() {} });
    const spark = await announced;
    expect(spark.write('a')).toBe(false);
    let drained = 0;
    spark.on('drain', () => drained++);
    full = false;
    sink.drain();
    expect(drained).toBe(1);
    expect(spark.write('b')).toBe(true);
    await destroy(primus);
  });
});

describe('per-tick flushing (context.flushSoon)', () => {
  it('flushes every connection that asked, once, in order, before the tick ends', async () => {
    const { transformer, seen } = double();
    const primus = new Primus(await listening(), { transformer });
    const wire: string[] = [];
    const held = new Map<string, string[]>();
    const holding = (name: string): ConnectionSocket => {
      const socket: ConnectionSocket = {
        send(payload) {
          if (!held.has(name)) {
            held.set(name, []);
            seen.context!.flushSoon(socket);
          }
          held.get(name)!.push(String(payload));
        },
        flush() {
          wire.push(`${name}: ${held.get(name)!.join(' ')}`);
          held.delete(name);
        },
        close() {},
      };
      return socket;
    };
    const sparks: Spark[] = [];
    for (const name of ['a', 'b']) {
      const announced = new Promise<Spark>((resolve) => primus.once('connection', resolve));
      seen.context!.connect({ headers: {}, address: {} }, holding(name));
      sparks.push(await announced);
    }
    const [a, b] = sparks as [Spark, Spark];
    a.write(1);
    b.write(2);
    a.write(3);
    expect(wire).toEqual([]);
    // In the nextTick queue: before a callback queued after the writes, so before any I/O.
    await new Promise<void>((resolve) => process.nextTick(resolve));
    expect(wire).toEqual(['a: 1 3', 'b: 2']);
    // The next tick starts a new batch.
    b.write(4);
    await new Promise<void>((resolve) => process.nextTick(resolve));
    expect(wire).toEqual(['a: 1 3', 'b: 2', 'b: 4']);
    await destroy(primus);
  });
});

describe('broadcast frames (TransformerServer.frame, ConnectionSocket.sendFrame)', () => {
  it('builds the frame once and hands the same object to every connection that can take it', async () => {
    const frames: unknown[] = [];
    const got: Array<[string, unknown, unknown]> = [];
    const transformer = defineTransformer({
      name: 'framing',
      server(context) {
        framingContext = context;
        return {
          frame(payload) {
            const frame = { framed: String(payload) };
            frames.push(frame);
            return frame;
          },
        };
      },
      client: websockets.client,
      browser: () => 'null',
    });
    let framingContext: TransformerContext | undefined;
    const primus = new Primus(await listening(), { transformer });
    const sparks: Spark[] = [];
    const sockets: ConnectionSocket[] = [
      { send: (payload) => void got.push(['a send', payload, undefined]), sendFrame: (frame, payload) => void got.push(['a frame', frame, payload]), close() {} },
      { send: (payload) => void got.push(['b send', payload, undefined]), close() {} },
    ];
    for (const socket of sockets) {
      const announced = new Promise<Spark>((resolve) => primus.once('connection', resolve));
      framingContext!.connect({ headers: {}, address: {} }, socket);
      sparks.push(await announced);
    }
    const outgoing: unknown[] = [];
    sparks[0]!.on('outgoing::data', (payload: unknown) => outgoing.push(payload));
    expect(primus.write({ to: 'all' })).toBe(true);
    expect(frames).toEqual([{ framed: '{"to":"all"}' }]);
    expect(got).toEqual([
      ['a frame', frames[0], '{"to":"all"}'],
      ['b send', '{"to":"all"}', undefined],
    ]);
    expect(outgoing).toEqual(['{"to":"all"}']);
    // A spark's own write is not a broadcast.
    sparks[0]!.write('one');
    expect(got[2]).toEqual(['a send', '"one"', undefined]);
    expect(frames).toHaveLength(1);
    await destroy(primus);
  });
});

describe('text-only transformers', () => {
  it('get strings in send() and have incoming bytes decoded', async () => {
    const { transformer, seen } = double({ textOnly: true });
    const primus = new Primus(await listening(), { transformer, parser: bytesParser });
    const { sink, spark } = await connect(primus, seen);
    const outgoing: unknown[] = [];
    spark.on('outgoing::data', (payload: unknown) => outgoing.push(payload));
    spark.write({ text: 'ÅÉÎ €' });
    primus.write('everyone');
    expect(seen.sent).toEqual(['{"text":"ÅÉÎ €"}', '"everyone"']);
    // Listeners still see what the parser made.
    expect(Buffer.isBuffer(outgoing[0])).toBe(true);
    const data = new Promise<unknown>((resolve) => spark.once('data', (_data: unknown, raw: unknown) => resolve(raw)));
    sink.data(Buffer.from('"😀"'));
    expect(await data).toBe('"😀"');
    const array = new Promise<unknown>((resolve) => spark.once('data', resolve));
    sink.data(new Uint8Array(Buffer.from('"from an array"')));
    expect(await array).toBe('from an array');
    await destroy(primus);
  });

  it('leave other transformers with the bytes', async () => {
    const { transformer, seen } = double();
    const primus = new Primus(await listening(), { transformer, parser: bytesParser });
    const { sink, spark } = await connect(primus, seen);
    spark.write('bytes');
    expect(Buffer.isBuffer(seen.sent[0])).toBe(true);
    const data = new Promise<unknown>((resolve) => spark.once('data', (_data: unknown, raw: unknown) => resolve(raw)));
    const raw = Buffer.from('"raw"');
    sink.data(raw);
    expect(await data).toBe(raw);
    await destroy(primus);
  });
});

describe('the core answers for upgrade-only transformers', () => {
  it('426 for a plain request under the pathname when the transformer has no request handler', async () => {
    const { transformer } = double();
    const server = await listening();
    const primus = new Primus(server, { transformer });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const res = await request(`${url}/primus/anything`);
    expect(res.status).toBe(426);
    expect(res.headers['content-type']).toBe('text/plain');
    expect(res.body).toBe('Upgrade Required');
    await destroy(primus);
  });

  it('hands the request to a transformer that has a handler', async () => {
    const { transformer } = double({ request: true });
    const server = await listening();
    const primus = new Primus(server, { transformer });
    const res = await request(`http://127.0.0.1:${(server.address() as AddressInfo).port}/primus/anything`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('mine');
    await destroy(primus);
  });
});

describe('shutdown through drain()', () => {
  it('calls drain() after the sparks ended and waits for it before close listeners and close()', async () => {
    let release!: () => void;
    const { transformer, seen } = double({
      drain: (s) => {
        s.order.push(`sparks open: ${primus.connected}`);
        return new Promise<void>((resolve) => (release = resolve));
      },
    });
    const server = await listening();
    const primus = new Primus(server, { transformer });
    primus.on('close', () => void seen.order.push('close event'));
    await connect(primus, seen);
    const done = destroy(primus, { close: false });
    await flush();
    expect(seen.order).toEqual(['drain', 'sparks open: 0']);
    expect(seen.drains).toEqual([{ close: false }]);
    // Requests are still routed to the transformer while it drains.
    expect(seen.context!.server!.listening).toBe(true);
    release();
    await done;
    expect(seen.order).toEqual(['drain', 'sparks open: 0', 'close event', 'transformer close']);
  });

  it('says close: true when the HTTP server closes too, and survives a drain() that rejects', async () => {
    const { transformer, seen } = double({ drain: () => Promise.reject(new Error('drain failed')) });
    const primus = new Primus(await listening(), { transformer });
    const logged: unknown[][] = [];
    primus.on('log', (...args: unknown[]) => logged.push(args));
    await destroy(primus);
    expect(seen.drains).toEqual([{ close: true }]);
    expect(seen.order).toEqual(['drain', 'transformer close']);
    expect(logged.some(([level, err]) => level === 'error' && (err as Error).message === 'drain failed')).toBe(true);
  });
});

describe('the published types', () => {
  const dts = join(__dirname, '..', 'dist', 'index.d.ts');
  const declaration = (name: string): string => {
    const text = readFileSync(dts, 'utf8');
    const start = text.indexOf(`declare class ${name} `);
    expect(start).toBeGreaterThanOrEqual(0);
    return text.slice(start, text.indexOf('\n}\n', start));
  };

  it('show the application API of Spark only', () => {
    // The root `test` script builds first; a bare `jest` run after a build sees the same file.
    expect(existsSync(dts)).toBe(true);
    const spark = declaration('SparkBase') + declaration('Spark');
    const members = [...spark.matchAll(/^ {4}(?:(?:private|protected|static|readonly|get|set) )*([\w$]+)\??[(:<]/gm)].map((m) => m[1]);
    for (const internal of [
      'incomingData',
      'incomingPing',
      'incomingDrain',
      'incomingError',
      'incomingEnd',
      'hbPrev',
      'hbNext',
      'hbDeadline',
      'hbList',
      'socket',
      'announce',
      'queue',
      'onHeartbeatExpired',
      'needDrain',
      'state',
      'remote',
    ]) {
      expect(members).not.toContain(internal);
    }
    expect(spark).not.toMatch(/^ {4}(private|protected) /m);
    expect(members).toEqual(expect.arrayContaining(['id', 'headers', 'request', 'query', 'write', 'end', 'primus', 'address', 'readyState']));
    for (const api of ['write(data: unknown): boolean', 'end(data?: unknown', 'readonly primus: Primus', 'get address(): Address', 'query: SparkQuery']) {
      expect(spark).toContain(api);
    }
  });
});
