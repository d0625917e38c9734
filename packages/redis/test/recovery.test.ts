// Connection-state recovery across the cluster, as deployed: three Primus processes with recovery
// on and the cluster plugin over a real redis-server, behind HAProxy with the configuration of
// deploy/ (sticky by client address, a dead server's clients sent to another). The client is the
// npm client with `recovery: true`; it reconnects to the same address and lands wherever the
// proxy sends it.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Primus, type PrimusClient } from '@primus/core';
import websockets from '@primus/transformer-ws';
import { once, waitFor } from '@primus/transformer-test-suite';
import { cleanup, onCleanup, startFixture, startRedis, type FixtureProcess, type RedisProcess } from './helpers/processes';
import { startProxy, type ProxyProcess } from './helpers/proxies';

jest.setTimeout(120_000);
afterEach(cleanup);

const Socket = Primus.createSocket({ transformer: websockets });

const TTL = 2000;

interface Deployment {
  redis: RedisProcess;
  nodes: FixtureProcess[];
  proxy: ProxyProcess;
  prefix: string;
}

async function startDeployment(recovery: unknown = true): Promise<Deployment> {
  const redis = await startRedis();
  const prefix = `rc-${randomUUID()}`;
  const settings = { url: redis.url, prefix, ttl: TTL, heartbeat: 400, timeout: 1000 };
  const nodes = await Promise.all(
    [1, 2, 3].map((n) =>
      startFixture('recovery-node', {
        PRIMUS_CLUSTER_OPTIONS: JSON.stringify({ ...settings, id: `node-${n}` }),
        PRIMUS_RECOVERY: JSON.stringify(recovery),
      }),
    ),
  );
  await waitFor(async () => (await Promise.all(nodes.map((node) => node.call<{ available: boolean }>('status')))).every((s) => s.available), 15_000, 'every node in the cluster');
  const proxy = await startProxy(
    'haproxy',
    nodes.map((node) => node.port),
  );
  return { redis, nodes, proxy, prefix };
}

interface Client {
  socket: PrimusClient;
  /** Every data message, in order. */
  received: Array<Record<string, number>>;
  opens: number;
  /** What the client said of each reconnection: `recovered`, or `recovery failed: <reason>`. */
  outcomes: string[];
  id(): Promise<string>;
}

async function connect(url: string, reconnect: Record<string, number> = { min: 50, max: 300, retries: 100 }): Promise<Client> {
  const socket = new Socket(url, { recovery: true, reconnect }) as PrimusClient;
  socket.on('error', () => {});
  onCleanup(() => void socket.destroy());
  const client: Client = {
    socket,
    received: [],
    opens: 0,
    outcomes: [],
    id: () => new Promise<string>((resolve) => socket.id(resolve)),
  };
  socket.on('recovered', () => void client.outcomes.push('recovered'));
  socket.on('recovery failed', (reason: string) => void client.outcomes.push(`recovery failed: ${reason}`));
  socket.on('data', (data: Record<string, number>) => void client.received.push(data));
  socket.on('open', () => void client.opens++);
  await once(socket, 'open', 15_000);
  return client;
}

/** The numbers a client received under `key` (`b` broadcasts, `d` sends, `e` echoes), in order. */
function numbers(client: Client, key: string): number[] {
  return client.received.flatMap((m) => (typeof m[key] === 'number' ? [m[key]!] : []));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(to - from + 1, 0) }, (_, i) => from + i);
}

async function home(nodes: FixtureProcess[], sparkId: string): Promise<FixtureProcess> {
  const where = await Promise.all(nodes.map((node) => node.call<string[]>('local')));
  const index = where.findIndex((ids) => ids.includes(sparkId));
  expect(index).toBeGreaterThanOrEqual(0);
  return nodes[index]!;
}

/** Bytes Redis holds for a deployment's keys (`MEMORY USAGE`, summed). */
async function usage(redis: RedisProcess, prefix: string): Promise<number> {
  const client = redis.client();
  let total = 0;
  for (const key of await client.keys(`${prefix}:*`)) total += (await client.memory('USAGE', key)) ?? 0;
  return total;
}

/** The session keys of a deployment in Redis (the broadcast stream and the clock are shared). */
async function sessionKeys(redis: RedisProcess, prefix: string): Promise<string[]> {
  return redis.client().keys(`${prefix}:rc:s:*`);
}

describe('recovery across the cluster', () => {
  it('recovers every broadcast, send and echo exactly once, in order, when the server of a client is killed mid-stream', async () => {
    const { nodes, proxy } = await startDeployment();
    const got: Array<{ node: string; spark: string; c: number }> = [];
    for (const node of nodes) node.onReport('got', (m) => void got.push(m as never));

    const client = await connect(proxy.url);
    const sparkId = await client.id();
    const victim = await home(nodes, sparkId);
    const [broadcaster, sender] = nodes.filter((node) => node !== victim) as [FixtureProcess, FixtureProcess];

    const N = 300;
    const EVERY = 10;
    const broadcasts = broadcaster.call('broadcasts', N, EVERY);
    const sends = sender.call('sends', sparkId, N, EVERY);
    let c = 0;
    const writes = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        client.socket.write({ c: ++c });
        if (c === N) {
          clearInterval(timer);
          resolve();
        }
      }, EVERY);
    });

    await waitFor(() => numbers(client, 'b').length >= N / 3 && numbers(client, 'e').length >= N / 3, 20_000, 'a third of the stream');
    await victim.kill();
    await Promise.all([broadcasts, sends, writes]);
    await waitFor(
      () => numbers(client, 'b').length >= N && numbers(client, 'd').length >= N && numbers(client, 'e').length >= N,
      30_000,
      'every message at the client after the failover',
    );

    // It did move: a second connection, to another server, with the same spark.
    expect(client.opens).toBe(2);
    expect(client.outcomes).toEqual(['recovered']);
    expect(await client.id()).toBe(sparkId);
    const now = await home(
      nodes.filter((node) => node !== victim),
      sparkId,
    );
    // On the server that took it over: a `connection` for the spark, then `recovered`.
    expect((await now.call<Array<{ spark: string; how: string }>>('arrivals')).filter((a) => a.spark === sparkId)).toEqual([
      { spark: sparkId, how: 'connection' },
      { spark: sparkId, how: 'recovered' },
    ]);

    // Server to client: every broadcast, every send, every echo, once and in order.
    expect(numbers(client, 'b')).toEqual(range(1, N));
    expect(numbers(client, 'd')).toEqual(range(1, N));
    expect(numbers(client, 'e')).toEqual(range(1, N));

    // Client to server: the survivor took over where the dead server's work survived, and
    // received every later message once. The dead server may have handled a few more whose
    // echoes it never got out: those are handled again, and echoed once (above).
    const survived = got.filter((m) => m.node !== victim.id).map((m) => m.c);
    const died = got.filter((m) => m.node === victim.id).map((m) => m.c);
    expect(died).toEqual(range(1, died.length));
    expect(survived).toEqual(range(survived[0]!, N));
    expect(survived[0]).toBeLessThanOrEqual(died.length + 1);
  });

  it('recovers on another server when the server of a client leaves for a restart', async () => {
    const { nodes, proxy } = await startDeployment();
    const client = await connect(proxy.url);
    const sparkId = await client.id();
    const leaving = await home(nodes, sparkId);
    const other = nodes.find((node) => node !== leaving)!;
    for (let b = 1; b <= 20; b++) await other.call('write', { b });
    await waitFor(() => numbers(client, 'b').length === 20, 5000, 'the first broadcasts');

    await leaving.call('leave');
    // Written while the client is between servers: kept in Redis for it.
    for (let b = 21; b <= 40; b++) await other.call('write', { b });
    await expect(other.call('sends', sparkId, 5, 0)).resolves.toBeNull();
    await waitFor(() => numbers(client, 'b').length >= 40 && numbers(client, 'd').length >= 5, 20_000, 'the messages written while it moved');
    expect(numbers(client, 'b')).toEqual(range(1, 40));
    expect(numbers(client, 'd')).toEqual(range(1, 5));
    expect(client.outcomes).toEqual(['recovered']);
    expect(await client.id()).toBe(sparkId);
  });

  it('expires the sessions of clients that never come back, whether their server lives or dies', async () => {
    const window = 1500;
    const { redis, nodes, proxy, prefix } = await startDeployment({ window });
    const clients = await Promise.all(Array.from({ length: 20 }, () => connect(proxy.url)));
    const ids = await Promise.all(clients.map((client) => client.id()));
    const victim = await home(nodes, ids[0]!);
    const alive = nodes.find((node) => node !== victim)!;
    for (let b = 1; b <= 50; b++) await alive.call('write', { b });
    await waitFor(() => clients.every((client) => numbers(client, 'b').length === 50), 10_000, 'the broadcasts at every client');
    expect((await sessionKeys(redis, prefix)).length).toBeGreaterThanOrEqual(20);
    // Twenty sessions take room; the same deployment without them, below, must not.
    expect(await usage(redis, prefix)).toBeGreaterThan(8 * 1024);

    // Half the clients go away for good while their server lives: it frees their sessions when the
    // window passes. Then the others go, and their server dies: the keys expire on their own.
    const key = (id: string): string => `${prefix}:rc:s:${id}`;
    for (const client of clients.slice(0, 10)) client.socket.destroy();
    await waitFor(
      async () => (await sessionKeys(redis, prefix)).filter((k) => ids.slice(0, 10).map(key).includes(k)).length === 0,
      window + 5000,
      'the sessions of the first clients to go',
    );
    expect((await sessionKeys(redis, prefix)).filter((k) => ids.slice(10).map(key).includes(k))).toHaveLength(10);
    for (const client of clients.slice(10)) client.socket.destroy();
    await victim.kill();
    await waitFor(async () => (await sessionKeys(redis, prefix)).length === 0, window + TTL + 5000, 'every session key to expire');
    // What is left is shared by every session: the clock and the broadcast stream (50 small entries).
    expect((await redis.client().keys(`${prefix}:rc:*`)).sort()).toEqual([`${prefix}:rc:b`, `${prefix}:rc:clock`]);
    expect(await usage(redis, prefix)).toBeLessThan(8 * 1024);
  });

  it('starts a new session, and says so, when the store has nothing for the client', async () => {
    const window = 500;
    const { nodes, proxy } = await startDeployment({ window });
    // The client waits longer than the window plus the dead server's lease before it comes back.
    const client = await connect(proxy.url, { min: window + TTL + 1500, max: window + TTL + 1500, retries: 5 });
    const sparkId = await client.id();
    const victim = await home(nodes, sparkId);
    const alive = nodes.find((node) => node !== victim)!;
    await alive.call('write', { b: 1 });
    await waitFor(() => numbers(client, 'b').length === 1, 5000, 'the first broadcast');
    await victim.kill();
    await waitFor(() => client.opens === 2, 20_000, 'the client to come back');
    const newId = await client.id();
    expect(newId).not.toBe(sparkId);
    expect(client.outcomes).toEqual(['recovery failed: unknown']);
    const now = await home(
      nodes.filter((node) => node !== victim),
      newId,
    );
    expect(await now.call('arrivals')).toEqual([{ spark: newId, how: 'connection' }]);
    await alive.call('write', { b: 2 });
    await waitFor(() => numbers(client, 'b').length === 2, 5000, 'a broadcast to the new session');
  });
});
