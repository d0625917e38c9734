import { afterEach, describe, expect, it } from '@jest/globals';
import type { Spark, SparkEndReason } from '@primus/core';
import { nextSpark, once } from '@primus/transformer-test-suite';
import { cleanup, connectRaw, start, WebSocket } from './helpers';

afterEach(cleanup);

/** The reason each spark had when the server's `disconnection` fired. */
function reasons(primus: { on(event: 'disconnection', fn: (spark: Spark) => void): unknown }): Array<SparkEndReason | undefined> {
  const seen: Array<SparkEndReason | undefined> = [];
  primus.on('disconnection', (spark) => seen.push(spark.endReason));
  return seen;
}

describe('spark.endReason', () => {
  it('is undefined while the spark is open', async () => {
    const server = await start();
    const { spark } = await connectRaw(server);
    expect(spark.endReason).toBeUndefined();
  });

  it("is 'client' when the client closes the connection", async () => {
    const server = await start();
    const seen = reasons(server.primus);
    const client = server.client();
    const spark = await nextSpark(server.primus);
    client.end();
    await once(spark, 'end');
    expect(seen).toEqual(['client']);
  });

  it("is 'server' when the application ends the spark", async () => {
    const server = await start();
    const seen = reasons(server.primus);
    const { spark, closed } = await connectRaw(server);
    spark.end();
    await closed;
    expect(seen).toEqual(['server']);
  });

  it("is 'heartbeat' when the client stops pinging", async () => {
    const server = await start();
    const seen = reasons(server.primus);
    // A raw client that asked for a 100 ms heartbeat and never pings.
    const { spark } = await connectRaw(server, 'ping=100&pong=100');
    await once(spark, 'end', 5000);
    expect(seen).toEqual(['heartbeat']);
  });

  it("is 'error' when a connection listener fails", async () => {
    const server = await start();
    const seen = reasons(server.primus);
    server.primus.on('connection', (_spark: Spark, next?: (err?: Error) => void) => next!(new Error('not today')));
    // The failing listener stops the announcement, so the spark is watched through the server.
    const ended = once(server.primus, 'disconnection');
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/primus`);
    ws.on('error', () => {});
    await ended;
    ws.terminate();
    expect(seen).toEqual(['error']);
  });
});

describe("the spark's backpressure event", () => {
  it('fires once when write() starts returning false, and drain follows when the client reads again', async () => {
    const server = await start({ highWaterMark: 16 * 1024 });
    const client = await connectRaw(server);
    const { spark } = client;
    let pressured = 0;
    spark.on('backpressure', () => pressured++);
    // Stop reading on the client until the server's buffers fill.
    (client.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    const chunk = 'x'.repeat(64 * 1024);
    let falses = 0;
    for (let i = 0; i < 1024 && falses < 3; i++) if (!spark.write(chunk)) falses++;
    expect(falses).toBe(3);
    expect(pressured).toBe(1);
    const drained = once(spark, 'drain');
    (client.ws as unknown as { _socket: import('node:net').Socket })._socket.resume();
    await drained;
    expect(spark.write('after')).toBe(true);
  });
});
