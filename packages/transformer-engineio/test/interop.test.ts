import { afterEach, describe, expect, it } from '@jest/globals';
import { collect, once, waitFor } from '@primus/transformer-test-suite';
import type { EngineIoSparkSocket } from '../src';
import { HappnSocket, OurSocket, startHappn, startOurs, type AnyClient, type AnyServer, type AnySpark, type HeartbeatOptions } from './happn';

// Wire compatibility with the real happn-primus 6.0.1 and its engine.io 1.6 / engine.io-client 1.6
// (engine.io protocol 3) in both directions.

const TIMEOUT = 20000;
const CLOSED = 2;
const OPEN = 3;

/** Values whose encoding must survive both implementations unchanged. */
const samples: unknown[] = [
  { nested: { list: [1, 'two', { three: [3.5, null] }], yes: true, no: false }, empty: {}, none: null },
  'line\u2028paragraph\u2029end',
  'astral 😀 𝌆 \u{1F680}',
  'pongРУССКИЙ €€€ 中文',
  0,
];

/** The JSON text happn-primus puts on the wire: U+2028/U+2029 escaped after encoding. */
const wire = (value: unknown): string => JSON.stringify(value).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve<T extends AnyServer>(start: (options: HeartbeatOptions) => Promise<T>, options: HeartbeatOptions = {}): Promise<T> {
  const started = await start(options);
  cleanups.push(() => started.close());
  return started;
}

function connect(Client: new (url: string, options?: Record<string, unknown>) => AnyClient, target: AnyServer, options: Record<string, unknown> = {}): AnyClient {
  const client = new Client(target.url, options);
  // happn-primus's Node client is a Node stream: an unheard `error` would throw.
  client.on('error', () => {});
  cleanups.push(() => client.destroy());
  return client;
}

function nextSpark(target: AnyServer): Promise<AnySpark> {
  return once<[AnySpark]>(target.primus, 'connection').then(([spark]) => spark);
}

function echo(target: AnyServer): void {
  target.primus.on('connection', (spark: AnySpark) => spark.on('data', (data: unknown) => spark.write(data)));
}

/** Send every sample, collect the echoes, and check data and raw frames on both sides. */
async function roundTrip(target: AnyServer, client: AnyClient, spark: AnySpark): Promise<void> {
  const atServer: unknown[] = [];
  spark.on('data', (_data: unknown, raw: unknown) => atServer.push(raw));
  const echoed: [unknown, unknown][] = [];
  client.on('data', (data: unknown, raw: unknown) => echoed.push([data, raw]));
  for (const sample of samples) client.write(sample);
  await waitFor(() => echoed.length === samples.length, 10000, 'every echo');
  expect(echoed.map(([data]) => data)).toEqual(samples);
  expect(echoed.map(([, raw]) => raw)).toEqual(samples.map(wire));
  expect(atServer).toEqual(samples.map(wire));
  void target;
}

describe('happn-primus client (engine.io-client 1.6, protocol 3) -> our server', () => {
  it('connects over protocol 3, echoes unicode identically on the wire and upgrades to WebSocket', async () => {
    const target = await serve(startOurs);
    echo(target);
    const sparkP = nextSpark(target);
    const client = connect(HappnSocket, target);
    const spark = await sparkP;
    await once(client, 'open');

    // allowEIO3: engine.io 6 took the old client's handshake.
    expect(spark.query.EIO).toBe('3');
    expect(spark.query.transport).toBe('polling');
    expect(spark.query.ping).toBe(25000);
    await roundTrip(target, client, spark);

    const engineSocket = (spark as unknown as { socket: EngineIoSparkSocket }).socket.socket;
    await waitFor(() => engineSocket.transport.name === 'websocket', 10000, 'the upgrade to WebSocket');
    client.write({ after: 'the upgrade 😀' });
    expect((await once(client, 'data'))[0]).toEqual({ after: 'the upgrade 😀' });
  }, TIMEOUT);

  it('keeps the Primus heartbeat going: every ping gets its pong, no disconnect', async () => {
    // Pongs closer together than pongSkipTime are not sent again; keep it below the ping.
    const target = await serve(startOurs, { pongSkipTime: 20 });
    const client = connect(HappnSocket, target, { ping: 100, pong: 2000 });
    await once(client, 'open');
    const closes: unknown[] = [];
    client.on('close', () => closes.push(true));
    const pings = collect<number>(client, 'outgoing::ping', 5);
    const pongs = collect<number>(client, 'incoming::pong', 5);
    const [sent, answered] = await Promise.all([pings, pongs]);
    expect(answered).toEqual(sent);
    expect(closes).toEqual([]);
    expect(client.readyState).toBe(OPEN);
  }, TIMEOUT);

  it('knows the spark id at once (the engine.io sid) and ends for good on spark.end()', async () => {
    const target = await serve(startOurs);
    const sparkP = nextSpark(target);
    const client = connect(HappnSocket, target, { reconnect: { min: 20 } });
    const spark = await sparkP;
    await once(client, 'open');
    const id = await new Promise<string>((resolve) => client.id(resolve));
    expect(id).toBe(spark.id);

    let reconnects = 0;
    client.on('reconnect scheduled', () => reconnects++);
    const received = once(client, 'data');
    const ended = once(client, 'end');
    spark.end('bye');
    expect((await received)[0]).toBe('bye');
    await ended;
    expect(reconnects).toBe(0);
    expect(client.readyState).toBe(CLOSED);
  }, TIMEOUT);
});

describe('our client (engine.io-client 6, protocol 4) -> happn-primus server (engine.io 1.6, protocol 3)', () => {
  const websocketOnly = { transport: { transports: ['websocket'] } };

  it('cannot long-poll: the protocol 3 payload framing is refused with an explanation', async () => {
    const target = await serve(startHappn);
    const client = connect(OurSocket, target, { strategy: false });
    const [err] = await once<[Error & { code?: string }]>(client, 'error');
    expect(err.code).toBe('parser error');
    expect(err.message).toMatch(/protocol 3/);
    expect(err.message).toMatch(/transports: \['websocket'\]/);
    expect(client.readyState).not.toBe(OPEN);
  }, TIMEOUT);

  it('talks over WebSocket only: echoes unicode identically on the wire, and the id is the spark id', async () => {
    const target = await serve(startHappn);
    echo(target);
    const sparkP = nextSpark(target);
    const client = connect(OurSocket, target, websocketOnly);
    const spark = await sparkP;
    await once(client, 'open');
    expect(spark.query.transport).toBe('websocket');
    expect(spark.query._primuscb).toEqual(expect.any(String));
    await roundTrip(target, client, spark);
    const id = await new Promise<string>((resolve) => client.id(resolve));
    expect(id).toBe(spark.id);
  }, TIMEOUT);

  it("stays connected past engine.io 1.6's ping timeout, which only Primus's heartbeat refreshes", async () => {
    const target = await serve(startHappn, { pongSkipTime: 20 });
    // engine.io 1.6 sends no pings (in protocol 3 the client pings): without the client's
    // workaround engine.io-client 6 would close after pingInterval + pingTimeout = 300 ms.
    target.engine.pingInterval = 150;
    target.engine.pingTimeout = 150;
    const client = connect(OurSocket, target, { ...websocketOnly, ping: 100, pong: 2000 });
    await once(client, 'open');
    const closes: unknown[] = [];
    client.on('close', () => closes.push(true));
    // Ten Primus heartbeats are a second, more than three times engine.io's timeout.
    const pings = collect<number>(client, 'outgoing::ping', 10);
    const pongs = collect<number>(client, 'incoming::pong', 10);
    const [sent, answered] = await Promise.all([pings, pongs]);
    expect(answered).toEqual(sent);
    expect(closes).toEqual([]);
    expect(client.readyState).toBe(OPEN);
  }, TIMEOUT);

  it('ends for good on spark.end(): primus::server::close arrives before the close', async () => {
    const target = await serve(startHappn);
    const sparkP = nextSpark(target);
    const client = connect(OurSocket, target, { ...websocketOnly, reconnect: { min: 20 } });
    const spark = await sparkP;
    await once(client, 'open');
    let reconnects = 0;
    client.on('reconnect scheduled', () => reconnects++);
    const frames: unknown[] = [];
    client.on('incoming::data', (raw: unknown) => frames.push(raw));
    const ended = once(client, 'end');
    spark.end();
    await ended;
    expect(frames).toEqual(['"primus::server::close"']);
    expect(reconnects).toBe(0);
    expect(client.readyState).toBe(CLOSED);
  }, TIMEOUT);
});
