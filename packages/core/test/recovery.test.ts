import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { PrimusClient } from '@primus/client';
import { type MemoryRecoveryRecord, type Spark } from '@primus/core';
import { collect, memoryTransformer, nextSpark, once, startServer, waitFor, type TestServer } from '@primus/transformer-test-suite';
import { detachedWs, evaluateLibrary } from './helpers';

// Connection-state recovery over the in-process transformer double: the window, overflow,
// acknowledgements and the memory a spark holds. The transformer-level runs (10,000 messages each
// way through a fault proxy) are the recovery suite every transformer package runs.

const memory = memoryTransformer();
const servers: TestServer[] = [];

afterEach(async () => {
  jest.useRealTimers();
  for (const server of servers.splice(0)) await server.close();
});

async function start(recovery: unknown): Promise<TestServer> {
  const server = await startServer({ transformer: memory, recovery: recovery as never });
  servers.push(server);
  return server;
}

/** Connect a client and wait for its session to start. */
async function connect(server: TestServer, options: Record<string, unknown> = {}): Promise<{ client: PrimusClient; spark: Spark }> {
  const sparkArrived = nextSpark(server.primus);
  const client = server.client({ reconnect: { min: 10, max: 50 }, ...options });
  const spark = await sparkArrived;
  await waitFor(() => client.session?.id === spark.id, 5000, 'the session to start');
  return { client, spark };
}

/** Drop the client's connection as a network would: the client does not hear of it, the server does. */
function vanish(client: PrimusClient): void {
  (client as unknown as { _connection: { close(): void } })._connection.close();
}

const record = (spark: Spark): MemoryRecoveryRecord => spark.session!.record as MemoryRecoveryRecord;

describe('recovery: the session', () => {
  it('is announced by clients of a server with recovery, and not by others', async () => {
    const on = await start(true);
    const { client, spark } = await connect(on);
    expect(client.session).not.toBeNull();
    expect(spark.session).not.toBeNull();
    expect(spark.query).not.toHaveProperty('_primusrecovery');
    const off = await start(false);
    const sparkArrived = nextSpark(off.primus);
    const plain = off.client();
    const plainSpark = await sparkArrived;
    expect(plain.session).toBeNull();
    expect(plainSpark.session).toBeNull();
    expect(off.client({ recovery: true }).session).not.toBeNull();
  });

  it('primus.js of a server with recovery turns it on in its clients (the option can turn it off); of one without, not; /primus/spec says so', async () => {
    const on = detachedWs({ recovery: true });
    const Browser = evaluateLibrary(on.library()).Primus;
    const client = new Browser('http://127.0.0.1:1', { manual: true });
    expect(client.session).not.toBeNull();
    expect(new Browser('http://127.0.0.1:1', { manual: true, recovery: false }).session).toBeNull();
    expect(on.spec.recovery).toBe(true);
    const off = detachedWs();
    const Plain = evaluateLibrary(off.library()).Primus;
    expect(new Plain('http://127.0.0.1:1', { manual: true }).session).toBeNull();
    expect(off.spec).not.toHaveProperty('recovery');
    expect(off.library()).not.toContain('recovery: true');
  });

  it('a client that reconnects gets the same spark, its properties and what it missed, with recovered on both sides and no second connection', async () => {
    const server = await start(true);
    const { client, spark } = await connect(server);
    (spark as unknown as { room: string }).room = 'lobby';
    let connections = 0;
    server.primus.on('connection', () => connections++);
    const got: unknown[] = [];
    client.on('data', (data) => got.push(data));
    const serverGot: unknown[] = [];
    spark.on('data', (data) => serverGot.push(data));

    const suspended = once(spark, 'suspended');
    // The server closes the socket under the spark without ending it, as a dropped TCP connection.
    vanish(client);
    expect(await suspended).toEqual(['client']);
    expect(spark.suspended).toBe(true);
    expect(spark.readyState).toBe(1);
    spark.write('while away 1');
    server.primus.write('broadcast while away');
    client.write('from the client while the server thinks it is away');

    const recovered = Promise.all([once(client, 'recovered'), once(spark, 'recovered'), once(server.primus as never, 'recovered')]);
    // The client notices later (here: its next ping would fail), and reconnects.
    (client as unknown as { _onTransportEnd(): void })._onTransportEnd();
    const [[id], , [sameSpark]] = await recovered;
    expect(id).toBe(spark.id);
    expect(sameSpark).toBe(spark);
    expect((sameSpark as unknown as { room: string }).room).toBe('lobby');
    await waitFor(() => got.length === 2 && serverGot.length === 1);
    expect(got).toEqual(['while away 1', 'broadcast while away']);
    expect(serverGot).toEqual(['from the client while the server thinks it is away']);
    expect(connections).toBe(0);
    expect(spark.suspended).toBe(false);
    expect(spark.readyState).toBe(3);
  });

  it('a client that reconnects before the server noticed takes its spark over from the old connection', async () => {
    const server = await start(true);
    const { client, spark } = await connect(server);
    const old = spark.socket!;
    const recovered = once(client, 'recovered');
    // The client's side of the connection breaks; the server's still looks open.
    (client as unknown as { _closeTransport(): void; _onTransportEnd(): void })._onTransportEnd();
    await recovered;
    expect(spark.socket).not.toBe(old);
    const echoed = once(client, 'data');
    spark.write('on the new connection');
    expect(await echoed).toEqual(['on the new connection', expect.anything()]);
  });

  it('a client that ends on purpose ends its spark at once: no window', async () => {
    const server = await start(true);
    const { client, spark } = await connect(server);
    const ended = once(spark, 'end');
    client.end();
    await ended;
    expect(spark.endReason).toBe('client');
    expect(server.primus.connected).toBe(0);
  });

  it('the server acknowledges what it received and the client frees it; the client acknowledges and the spark frees it', async () => {
    const server = await start({ maxMessages: 1000 });
    // A ping just over the server's pongSkipTime (1000), so no pong is skipped and each ping acknowledges.
    const { client, spark } = await connect(server, { ping: 1100 });
    const arrived = collect(spark, 'data', 600);
    for (let i = 0; i < 600; i++) client.write(i);
    await arrived;
    // Every 250 messages (maxMessages / 4), and the rest with the next pong.
    await waitFor(() => client.session!.unacked.length === 0, 5000, 'the client to be acknowledged');
    const received = collect(client, 'data', 600);
    for (let i = 0; i < 600; i++) spark.write(i);
    expect(record(spark).size).toBeGreaterThan(0);
    await received;
    await waitFor(() => record(spark).size === 0, 5000, "the spark's record to be acknowledged");
    expect(record(spark).byteSize).toBe(0);
  });
});

describe('recovery: not recovered', () => {
  it('overflow: a client that missed more than maxMessages gets recovery failed (overflow) and a new spark', async () => {
    const server = await start({ maxMessages: 4 });
    const { client, spark } = await connect(server);
    const suspended = once(spark, 'suspended');
    vanish(client);
    await suspended;
    for (let i = 0; i < 10; i++) spark.write(i);
    expect(record(spark).size).toBe(4);
    const ended = once(spark, 'end');
    const newSpark = nextSpark(server.primus);
    const failures = Promise.all([once(client, 'recovery failed'), once(server.primus as never, 'recovery failed')]);
    const outcomes: string[] = [];
    server.primus.on('recovery', (outcome: string) => outcomes.push(outcome));
    (client as unknown as { _onTransportEnd(): void })._onTransportEnd();
    const [[clientReason], [failedSpark, serverReason]] = await failures;
    expect(clientReason).toBe('overflow');
    expect(serverReason).toBe('overflow');
    const fresh = await newSpark;
    expect(fresh).toBe(failedSpark);
    expect(fresh).not.toBe(spark);
    expect(fresh.id).not.toBe(spark.id);
    await ended;
    expect(outcomes).toEqual(['overflow']);
    await waitFor(() => client.session!.id === fresh.id);
  });

  it("id() on a new connection waits for the server's answer: after a failed recovery it gives the new spark's id, not the old one", async () => {
    const server = await start({ maxMessages: 1 });
    const { client, spark } = await connect(server);
    const suspended = once(spark, 'suspended');
    vanish(client);
    await suspended;
    for (let i = 0; i < 3; i++) spark.write(i);
    const newSpark = nextSpark(server.primus);
    // Asked as soon as the connection opens, before the server has said whether the session resumed.
    const idOnOpen = new Promise<string>((resolve) => client.once('open', () => client.id(resolve)));
    (client as unknown as { _onTransportEnd(): void })._onTransportEnd();
    const fresh = await newSpark;
    expect(fresh.id).not.toBe(spark.id);
    expect(await idOnOpen).toBe(fresh.id);
  });

  it('window expiry (fake timers): the spark ends after the window, frees everything, and a late client gets recovery failed (unknown)', async () => {
    const server = await start({ window: 60_000 });
    const { client, spark } = await connect(server);
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    const suspended = once(spark, 'suspended');
    vanish(client);
    await suspended;
    spark.write('kept for a while');
    const outcomes: string[] = [];
    server.primus.on('recovery', (outcome: string) => outcomes.push(outcome));
    let ended = false;
    spark.on('end', () => (ended = true));
    jest.advanceTimersByTime(59_999);
    expect(ended).toBe(false);
    expect(server.primus.spark(spark.id)).toBe(spark);
    jest.advanceTimersByTime(1);
    expect(ended).toBe(true);
    expect(outcomes).toEqual(['expired']);
    expect(spark.endReason).toBe('client');
    expect(server.primus.spark(spark.id)).toBeUndefined();
    expect(record(spark).size).toBe(0);
    jest.useRealTimers();

    const failed = once(client, 'recovery failed');
    const connection = nextSpark(server.primus);
    (client as unknown as { _onTransportEnd(): void })._onTransportEnd();
    expect(await failed).toEqual(['unknown']);
    expect((await connection).id).not.toBe(spark.id);
  });

  it('memory stays bounded for a client that never returns, and is freed after the window (fake timers)', async () => {
    const server = await start({ window: 1000, maxMessages: 100, maxBytes: 1_000_000 });
    const { client, spark } = await connect(server);
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    const suspended = once(spark, 'suspended');
    vanish(client);
    await suspended;
    for (let i = 0; i < 50_000; i++) server.primus.write({ n: i, pad: 'x'.repeat(20) });
    expect(record(spark).size).toBe(100);
    expect(record(spark).byteSize).toBeLessThanOrEqual(100 * 40);
    jest.advanceTimersByTime(1000);
    expect(record(spark).size).toBe(0);
    expect(server.primus.connected).toBe(0);
  });

  it('a server without the session (restarted, memory store) answers unknown', async () => {
    const first = await start(true);
    const { client } = await connect(first);
    const second = await start(true);
    // The client's session belongs to the first server; point it at the second.
    client.url.port = String(second.port);
    client.url.host = `127.0.0.1:${second.port}`;
    const failed = once(client, 'recovery failed');
    const failedOnServer = once(second.primus as never, 'recovery failed');
    (client as unknown as { _onTransportEnd(): void })._onTransportEnd();
    expect(await failed).toEqual(['unknown']);
    expect((await failedOnServer)[1]).toBe('unknown');
  });
});
