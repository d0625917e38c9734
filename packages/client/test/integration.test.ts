import { afterEach, describe, expect, it } from '@jest/globals';
import { memoryTransformer, nextSpark, once, startServer, type TestServer } from '@primus/transformer-test-suite';
import { websockets } from '@primus/transformer-ws';
import type { ReconnectAttempt, UriOptions } from '@primus/client';
import { record } from './memory-transport';

const servers: TestServer[] = [];

// The client's behaviour against a real server; the transport under it is the in-process double.
const memory = memoryTransformer();

async function start(transformer = memory): Promise<TestServer> {
  const server = await startServer({ transformer });
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('client against a real server', () => {
  it('reconnects with back-off after spark.end(undefined, { reconnect: true })', async () => {
    const server = await start();
    const firstSpark = nextSpark(server.primus);
    const client = server.client({ reconnect: { min: 50 } });
    await once(client, 'open');
    const spark = await firstSpark;

    const events = record(client, ['close', 'end', 'reconnect scheduled', 'reconnect', 'reconnected', 'open']);
    const timers: number[] = [];
    client.on('close', () => timers.push(client.timers.size));
    const scheduled = once<[ReconnectAttempt]>(client, 'reconnect scheduled');
    const secondSpark = nextSpark(server.primus);
    const reopened = once(client, 'open');
    const started = Date.now();
    spark.end(undefined, { reconnect: true });

    const [attempt] = await scheduled;
    expect(attempt).toMatchObject({ attempt: 1, scheduled: 50, min: 50 });
    await reopened;
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect((await secondSpark).id).not.toBe(spark.id);
    expect(events).toEqual(['close', 'reconnect scheduled', 'reconnect', 'reconnected', 'open']);
    expect(timers).toEqual([0]);
    expect(client.recovery.attempt).toBeNull();

    // The new connection works both ways.
    const echoed = await secondSpark;
    echoed.on('data', (data: unknown) => echoed.write({ echo: data }));
    client.write('again');
    const [reply] = await once(client, 'data');
    expect(reply).toEqual({ echo: 'again' });
  }, 20000);

  it('lets an outgoing::url listener put its own query on the connect url', async () => {
    const server = await start();
    const spark = nextSpark(server.primus);
    const client = server.client({ query: 'replaced=1' });
    client.on('outgoing::url', (options: UriOptions) => {
      options.query = 'foo=bar';
    });
    const { query } = await spark;
    expect(query.foo).toBe('bar');
    expect(query.replaced).toBeUndefined();
    expect(typeof query._primuscb).toBe('string');
    expect(query.ping).toBe(25000);
    expect(query.pong).toBe(10000);
  }, 20000);

  it('ends for good when the server ends the spark without reconnect', async () => {
    const server = await start();
    const spark = nextSpark(server.primus);
    const client = server.client({ reconnect: { min: 20 } });
    await once(client, 'open');
    const events = record(client, ['close', 'end', 'reconnect scheduled']);
    const ended = once(client, 'end');
    (await spark).end();
    await ended;
    expect(events).toEqual(['close', 'end']);
    expect(client.readyState).toBe(2);
  }, 20000);

  it('gives up with end then reconnect failed once the server is gone', async () => {
    // A crash drops the TCP connections without a word: that takes a transformer on the network.
    const server = await start(websockets);
    const client = server.client({ reconnect: { min: 20, retries: 3 } });
    await once(client, 'open');

    const events = record(client, ['close', 'reconnect', 'error', 'end', 'reconnect failed']);
    // The attempt object is shared across the run, so read its count when each event fires.
    const attempts: number[] = [];
    client.on('reconnect scheduled', (opts: ReconnectAttempt) => attempts.push(opts.attempt));
    const failed = once<[Error, ReconnectAttempt]>(client, 'reconnect failed');
    await server.kill();

    const [err, opts] = await failed;
    expect(err.message).toBe('Unable to recover');
    expect(opts.attempt).toBe(3);
    expect(attempts).toEqual([1, 2, 3]);
    expect(events).toEqual(['close', 'reconnect', 'reconnect', 'reconnect', 'end', 'reconnect failed']);
    expect(client.readyState).toBe(2);
    expect(client.timers.size).toBe(0);
    expect(client.recovery.reconnecting()).toBe(false);
  }, 20000);
});
