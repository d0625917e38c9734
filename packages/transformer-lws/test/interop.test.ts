import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { WebSocket, WebSocketServer } from 'ws';
import { once, waitFor } from '@primus/transformer-test-suite';
import {
  HappnSocket,
  OurSocket,
  startHappn,
  startOurs,
  type AnyClient,
  type AnyClientClass,
  type AnyServer,
  type AnySpark,
  type HeartbeatOptions,
} from './happn';

// Wire compatibility with the real happn-primus 6.0.1. The lws wire is plain WebSocket, so its
// websockets client talks to our lws server, our lws client talks to its websockets server, and
// both sides are compared frame by frame.

const TIMEOUT = 20000;
const CLOSED = 2;
const OPEN = 3;

/** Values whose encoding must survive both implementations unchanged. */
const samples: unknown[] = [
  { nested: { list: [1, 'two', { three: [3.5, null] }], yes: true, no: false }, empty: {}, none: null },
  'line\u2028paragraph\u2029end',
  'astral 😀 𝌆 \u{1F680}',
  'pongРУССКИЙ €€€',
  0,
  [],
];

/** The JSON text happn-primus puts on the wire: U+2028/U+2029 escaped after encoding. */
const wire = (value: unknown): string => JSON.stringify(value).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function nextSpark(server: AnyServer): Promise<AnySpark> {
  return once<[AnySpark]>(server.primus, 'connection').then(([spark]) => spark);
}

/** Record the arguments of every emit of `events`, by name. */
function record(emitter: AnyClient | AnySpark | AnyServer['primus'], ...events: string[]): Record<string, unknown[][]> {
  const seen: Record<string, unknown[][]> = {};
  for (const event of events) {
    seen[event] = [];
    emitter.on(event, (...args: unknown[]) => seen[event]!.push(args));
  }
  return seen;
}

interface Pairing {
  name: string;
  start(options?: HeartbeatOptions): Promise<AnyServer>;
  Client: AnyClientClass;
}

const pairings: Pairing[] = [
  { name: 'happn-primus client -> our server', start: startOurs, Client: HappnSocket },
  { name: 'our client -> happn-primus server', start: startHappn, Client: OurSocket },
];

describe.each(pairings)('$name', ({ start, Client }) => {
  async function server(options: HeartbeatOptions = {}): Promise<AnyServer> {
    const started = await start(options);
    cleanups.push(() => started.close());
    return started;
  }

  function connect(target: AnyServer, options: Record<string, unknown> = {}): AnyClient {
    const client = new Client(target.url, options);
    // happn-primus's Node client is a Node stream: an unheard `error` would throw.
    client.on('error', () => {});
    cleanups.push(() => client.destroy());
    return client;
  }

  function echo(target: AnyServer): void {
    target.primus.on('connection', (spark: AnySpark) => spark.on('data', (data: unknown) => spark.write(data)));
  }

  /** A client that announces a heartbeat in its query but never pings. */
  function silent(target: AnyServer, options: Record<string, unknown> = {}): AnyClient {
    const client = connect(target, { ping: 100, pong: 200, ...options });
    client.heartbeat = () => client;
    return client;
  }

  it('connects and echoes objects, nested values and unicode, escaped identically on the wire', async () => {
    const target = await server();
    const received: unknown[] = [];
    target.primus.on('connection', (spark: AnySpark) => spark.on('data', (_data: unknown, raw: unknown) => received.push(raw)));
    echo(target);
    const client = connect(target);
    await once(client, 'open');
    const echoed: [unknown, unknown][] = [];
    client.on('data', (data: unknown, raw: unknown) => echoed.push([data, raw]));
    for (const sample of samples) client.write(sample);
    await waitFor(() => echoed.length === samples.length, 5000, 'every echo');

    expect(echoed.map(([data]) => data)).toEqual(samples);
    expect(echoed.map(([, raw]) => raw)).toEqual(samples.map(wire));
    expect(received).toEqual(samples.map(wire));
    expect(received[1]).toBe('"line\\u2028paragraph\\u2029end"');
  }, TIMEOUT);

  it('keeps the heartbeat going for several rounds without a skip or a disconnect', async () => {
    const target = await server({ pongSkipTime: 20 });
    const skipped = record(target.primus, 'heartbeat-skipped', 'flatline');
    const spark = nextSpark(target);
    const client = connect(target, { ping: 100, pong: 2000 });
    const events = record(client, 'outgoing::ping', 'incoming::pong', 'close', 'offline', 'reconnect scheduled');
    const sparkEvents = record(await spark, 'heartbeat', 'outgoing::pong');

    await waitFor(() => events['incoming::pong']!.length >= 5, 5000, 'five pongs');

    expect(events['outgoing::ping']!.length).toBeGreaterThanOrEqual(5);
    // Every pong answers a ping and carries that ping's own timestamp.
    const pings = events['outgoing::ping']!.map(([time]) => time);
    for (const [time] of events['incoming::pong']!) expect(pings).toContain(time);
    expect(sparkEvents['outgoing::pong']!.length).toBeGreaterThanOrEqual(5);
    expect(sparkEvents.heartbeat!.length).toBeGreaterThanOrEqual(5);
    expect(skipped['heartbeat-skipped']).toEqual([]);
    expect(skipped.flatline).toEqual([]);
    expect(events.close).toEqual([]);
    expect(events.offline).toEqual([]);
    expect(events['reconnect scheduled']).toEqual([]);
    expect(client.readyState).toBe(OPEN);
    expect(typeof client.latency).toBe('number');
    expect(client.latency).toBeGreaterThanOrEqual(0);
    expect(client.latency).toBeLessThan(2000);
  }, TIMEOUT);

  it("gives the client the server's spark id", async () => {
    const target = await server();
    const spark = nextSpark(target);
    const client = connect(target);
    await once(client, 'open');
    const id = await new Promise<string>((resolve) => client.id(resolve));
    expect(id).toBe((await spark).id);
    expect(id.length).toBeGreaterThan(0);
  }, TIMEOUT);

  it('ends the client for good on spark.end(): primus::server::close, no reconnect', async () => {
    const target = await server();
    const spark = nextSpark(target);
    const client = connect(target, { reconnect: { min: 20 } });
    await once(client, 'open');
    const events = record(client, 'incoming::data', 'close', 'reconnect scheduled', 'reconnect');
    const ended = once(client, 'end');
    (await spark).end();
    await ended;

    expect(events['incoming::data']).toEqual([['"primus::server::close"']]);
    expect(events.close).toHaveLength(1);
    expect(events['reconnect scheduled']).toEqual([]);
    expect(client.readyState).toBe(CLOSED);
    expect(client.recovery.reconnecting()).toBe(false);
  }, TIMEOUT);

  it('reconnects the client on spark.end(undefined, { reconnect: true })', async () => {
    const target = await server();
    const first = nextSpark(target);
    const client = connect(target, { reconnect: { min: 20 } });
    await once(client, 'open');
    const events = record(client, 'incoming::data', 'end');
    const order: string[] = [];
    for (const event of ['close', 'reconnect scheduled', 'reconnect', 'reconnected', 'open']) client.on(event, () => order.push(event));
    const second = once<[AnySpark]>(target.primus, 'connection');
    const reopened = once(client, 'open');
    (await first).end(undefined, { reconnect: true });
    await reopened;

    expect(order).toEqual(['close', 'reconnect scheduled', 'reconnect', 'reconnected', 'open']);
    expect(events['incoming::data']).toEqual([]);
    expect(events.end).toEqual([]);
    const [spark] = await second;
    expect(spark).not.toBe(await first);
    expect(client.readyState).toBe(OPEN);
  }, TIMEOUT);

  it("learns the client's ping and pong from the connect query", async () => {
    const target = await server();
    const spark = nextSpark(target);
    connect(target, { ping: 150, pong: 700 });
    const { query, timeout } = await spark;
    expect(query.ping).toBe(150);
    expect(query.pong).toBe(700);
    expect(query._primuscb).toEqual(expect.any(String));
    expect(timeout).not.toBeNull();
  }, TIMEOUT);

  it('keeps a ping:false client forever while it drops a silent one', async () => {
    const target = await server({ pongSkipTime: 1 });
    echo(target);
    const quiet = nextSpark(target);
    const unpinged = connect(target, { ping: false });
    const quietSpark = await quiet;
    await once(unpinged, 'open');
    const unpingedEvents = record(unpinged, 'close', 'incoming::pong');
    silent(target);
    const [skips] = await once<[number]>(target.primus, 'flatline', 5000);

    expect(skips).toBe(3);
    expect(quietSpark.query.ping).toBe('false');
    expect(quietSpark.timeout).toBeNull();
    // Still connected after the silent client's whole allowance has run out.
    unpinged.write({ still: 'here' });
    const [data] = await once(unpinged, 'data');
    expect(data).toEqual({ still: 'here' });
    expect(unpinged.readyState).toBe(OPEN);
    expect(unpingedEvents.close).toEqual([]);
    expect(unpingedEvents['incoming::pong']).toEqual([]);
  }, TIMEOUT);

  it('sends unsolicited pongs to a client that stops pinging, then drops it so it reconnects', async () => {
    // happn-primus reads pongSkipTime: 0 as "use the default of 1000 ms"; 1 ms lets every skip pong.
    const target = await server({ pongSkipTime: 1 });
    const serverEvents = record(target.primus, 'heartbeat-skipped', 'flatline');
    const first = nextSpark(target);
    const client = silent(target, { reconnect: { min: 20 } });
    const clientEvents = record(client, 'incoming::pong', 'incoming::data', 'end');
    await once(client, 'open');
    const connected = Date.now();
    const second = once<[AnySpark]>(target.primus, 'connection');
    const reconnected = once(client, 'reconnected');
    await once(target.primus, 'flatline', 5000);
    const dropped = Date.now() - connected;
    await reconnected;

    // T = ping + pong / 2 = 200 ms; two skips are tolerated, the third drops the spark.
    expect(serverEvents['heartbeat-skipped']!.map(([count]) => count)).toEqual([1, 2]);
    expect(serverEvents.flatline!.map(([count]) => count)).toEqual([3]);
    expect(dropped).toBeGreaterThanOrEqual(550);
    expect(clientEvents['incoming::pong']).toHaveLength(2);
    expect(clientEvents['incoming::data']!.map(([raw]) => raw)).toEqual([
      expect.stringMatching(/^"primus::pong::\d+"$/),
      expect.stringMatching(/^"primus::pong::\d+"$/),
    ]);
    expect(clientEvents.end).toEqual([]);
    const [spark] = await second;
    expect(spark).not.toBe(await first);
  }, TIMEOUT);

  it('delivers writes made before the connection opened, in order', async () => {
    const target = await server();
    const spark = nextSpark(target);
    const client = connect(target);
    const sent = [...samples, ...Array.from({ length: 10 }, (_, i) => i)];
    for (const value of sent) client.write(value);
    expect(client.readyState).not.toBe(OPEN);
    const received: unknown[] = [];
    (await spark).on('data', (data: unknown) => received.push(data));
    await waitFor(() => received.length === sent.length, 5000, 'every buffered write');
    expect(received).toEqual(sent);
  }, TIMEOUT);
});

describe('the same bytes on the wire', () => {
  /** Talk to a server through a bare WebSocket and record every frame it sends. */
  async function serverFrames(start: (options?: HeartbeatOptions) => Promise<AnyServer>): Promise<{ frames: string[]; id: string; code: number }> {
    const target = await start();
    cleanups.push(() => target.close());
    const connected = nextSpark(target);
    const url = target.url.replace('http:', 'ws:') + '/primus?_primuscb=Q8Nog6x&ping=60000&pong=10000';
    const socket = new WebSocket(url);
    cleanups.push(() => socket.terminate());
    const frames: string[] = [];
    socket.on('message', (data, isBinary) => frames.push(isBinary ? '<binary>' : data.toString()));
    const spark = await connected;
    for (const sample of samples) spark.write(sample);
    await waitFor(() => frames.length === samples.length, 5000, 'the samples');
    socket.send('"primus::ping::1496913600000"');
    await waitFor(() => frames.length === samples.length + 1, 5000, 'the pong');
    socket.send('"primus::id::"');
    await waitFor(() => frames.length === samples.length + 2, 5000, 'the id');
    // Read before the end: happn-primus's spark forgets its id once ended, which a slow run can show.
    const id = spark.id;
    const closed = once<[number]>(socket, 'close');
    spark.end();
    const [code] = await closed;
    return { frames, id, code };
  }

  it('both servers send identical frames for data, pong, id and server close', async () => {
    const happn = await serverFrames(startHappn);
    const ours = await serverFrames(startOurs);

    const expected = [
      ...samples.map(wire),
      '"primus::pong::1496913600000"',
      expect.any(String),
      '"primus::server::close"',
    ];
    expect(happn.frames).toEqual(expected);
    expect(ours.frames).toEqual(expected);
    expect(happn.frames[samples.length + 1]).toBe(JSON.stringify(`primus::id::${happn.id}`));
    expect(ours.frames[samples.length + 1]).toBe(JSON.stringify(`primus::id::${ours.id}`));
    expect(happn.code).toBe(1000);
    expect(ours.code).toBe(1000);
  }, TIMEOUT);

  /** Let a client talk to a bare WebSocket server and record its URL and every frame. */
  async function clientFrames(Client: AnyClientClass): Promise<{ path: string; query: [string, string][]; frames: string[]; code: number }> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => new Promise((resolve) => wss.close(resolve)));
    await once(wss, 'listening');
    const { port } = wss.address() as AddressInfo;
    const accepted = once<[WebSocket, { url: string }]>(wss, 'connection');
    const client = new Client(`http://127.0.0.1:${port}`, { ping: 50, pong: 5000, strategy: false });
    client.on('error', () => {});
    cleanups.push(() => client.destroy());
    for (const sample of samples) client.write(sample);
    const [socket, req] = await accepted;
    const frames: string[] = [];
    socket.on('message', (data, isBinary) => frames.push(isBinary ? '<binary>' : data.toString()));
    await waitFor(() => client.readyState === OPEN, 5000, 'open');
    client.id(() => {});
    await waitFor(() => frames.some((frame) => frame.startsWith('"primus::ping::')), 5000, 'a ping');
    const closed = once<[number]>(socket, 'close');
    client.end();
    const [code] = await closed;
    const url = new URL(req.url, 'http://localhost');
    return { path: url.pathname, query: [...url.searchParams], frames, code };
  }

  it('both clients send identical frames for data, id and ping, and the same connect query', async () => {
    const happn = await clientFrames(HappnSocket);
    const ours = await clientFrames(OurSocket);

    const expected = [...samples.map(wire), '"primus::id::"', expect.stringMatching(/^"primus::ping::\d{13}"$/)];
    expect(happn.frames).toEqual(expected);
    expect(ours.frames).toEqual(expected);
    expect(happn.path).toBe('/primus');
    expect(ours.path).toBe('/primus');
    const shape = (query: [string, string][]) => query.map(([key, value]) => [key, key === '_primuscb' ? 'yeast' : value]);
    expect(shape(happn.query)).toEqual([['_primuscb', 'yeast'], ['ping', '50'], ['pong', '5000']]);
    expect(shape(ours.query)).toEqual(shape(happn.query));
    // No status code from either client; a browser's WebSocket#close() sends none either.
    expect(ours.code).toBe(happn.code);
  }, TIMEOUT);
});
