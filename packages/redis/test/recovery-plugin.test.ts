// The plugin with the server's `recovery` on, in one process: two Primus servers share a real
// redis-server. How it installs its store, and what goes through Redis (the failover itself is in
// recovery.test.ts, with real processes).
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { MemoryRecoveryStore, type PrimusOptions } from '@primus/core';
import websockets from '@primus/transformer-ws';
import { startServer, waitFor, type TestServer } from '@primus/transformer-test-suite';
import { redisCluster, RedisRecoveryStore, type RedisCluster, type RedisClusterOptions } from '../src/index';
import { cleanup, connect, onCleanup, startRedis, type RedisProcess } from './helpers/processes';

jest.setTimeout(30_000);
afterEach(cleanup);

async function node(settings: RedisClusterOptions, options: PrimusOptions = {}): Promise<TestServer & { cluster: RedisCluster }> {
  const server = await startServer({ transformer: websockets, ...options, plugin: { cluster: redisCluster(settings) } });
  onCleanup(() => server.close());
  return Object.assign(server, { cluster: server.primus.cluster! });
}

async function pair(redis: RedisProcess, options: PrimusOptions, extra: RedisClusterOptions = {}): Promise<Array<TestServer & { cluster: RedisCluster }>> {
  const settings = { url: redis.url, prefix: `test-${randomUUID()}`, ttl: 2000, heartbeat: 300, timeout: 1000, ...extra };
  const servers = [await node(settings, options), await node(settings, options)];
  await Promise.all(servers.map((s) => s.cluster.ready(5000)));
  return servers;
}

const storeOf = (server: TestServer): unknown => (server.primus.options.recovery as { store: unknown }).store;

describe('redisCluster() with recovery', () => {
  it('keeps the sessions in Redis when the server has recovery on, unless told otherwise', async () => {
    const redis = await startRedis();
    const [a] = await pair(redis, { recovery: true });
    expect(storeOf(a!)).toBeInstanceOf(RedisRecoveryStore);

    const [memory] = await pair(redis, { recovery: { window: 1000 } }, { recovery: false });
    expect(storeOf(memory!)).toBeInstanceOf(MemoryRecoveryStore);

    // A store of the application's own is kept.
    class OwnStore extends MemoryRecoveryStore {}
    const own = new OwnStore();
    const [mine] = await pair(redis, { recovery: { store: own } });
    expect(storeOf(mine!)).toBe(own);

    const [off] = await pair(redis, {});
    expect(off!.primus.options.recovery).toBe(false);
  });

  it('rejects a recovery option that is not a boolean, naming it', () => {
    expect(() => redisCluster({ recovery: 'yes' as never })).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'PRIMUS_ERR_INVALID_OPTION', message: expect.stringContaining('"recovery"') }),
    );
  });

  it('delivers every broadcast through the broadcast stream, once, in order, on every server, the writing one too', async () => {
    const redis = await startRedis();
    const prefix = `test-${randomUUID()}`;
    const [a, b] = await pair(redis, { recovery: { maxMessages: 20 } }, { prefix });
    const clients = await Promise.all([connect(a!.url), connect(a!.url), connect(b!.url)]);
    for (let n = 1; n <= 50; n++) a!.primus.write({ n });
    await waitFor(() => clients.every((c) => c.received.length === 50), 10_000, 'the broadcasts of the first server');
    await b!.cluster.broadcast({ n: 51 });
    await waitFor(() => clients.every((c) => c.received.length === 51), 10_000, 'every broadcast at every client');
    for (const client of clients) expect(client.received).toEqual(Array.from({ length: 51 }, (_, i) => ({ n: i + 1 })));

    // Kept in Redis, bounded by maxMessages; the newest one trimmed is remembered.
    const keys = redis.client();
    expect(await keys.xlen(`${prefix}:rc:b`)).toBe(20);
    const [[oldest]] = (await keys.xrange(`${prefix}:rc:b`, '-', '+', 'COUNT', 1)) as [[string, string[]]];
    const cut = await keys.get(`${prefix}:rc:b:cut`);
    expect(cut).not.toBeNull();
    const id = (x: string): number[] => x.split('-').map(Number);
    expect(id(cut!)[0]! < id(oldest)[0]! || (id(cut!)[0] === id(oldest)[0] && id(cut!)[1]! < id(oldest)[1]!)).toBe(true);
    expect(await keys.pttl(`${prefix}:rc:b`)).toBeGreaterThan(0);
  });
});
