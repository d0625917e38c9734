// Three Primus servers, each in its own process, over a real redis-server: the scenarios of a
// scaled-out deployment, with clients connected to every server.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { waitFor } from '@primus/transformer-test-suite';
import { cleanup, connect, startNode, startRedis, type ClusterNode, type RedisProcess, type TestClient } from './helpers/processes';

jest.setTimeout(60_000);
afterEach(cleanup);

const TTL = 2000;
const HEARTBEAT = 400;
const TIMEOUT = 1000;

interface Cluster {
  redis: RedisProcess;
  nodes: ClusterNode[];
  /** Two clients per node, in node order. */
  clients: TestClient[][];
}

async function startCluster(options: { ttl?: number } = {}): Promise<Cluster> {
  const redis = await startRedis();
  const settings = { url: redis.url, prefix: `test-${randomUUID()}`, ttl: options.ttl ?? TTL, heartbeat: HEARTBEAT, timeout: TIMEOUT };
  const nodes = await Promise.all([1, 2, 3].map((n) => startNode({ ...settings, id: `node-${n}` })));
  await Promise.all(nodes.map((node) => node.until(true)));
  const clients = await Promise.all(nodes.map((node) => Promise.all([connect(node.url), connect(node.url)])));
  const all = clients.flat().map((c) => c.sparkId);
  await waitFor(async () => sameSet(await nodes[0]!.call<string[]>('sparks'), all), 10_000, 'every spark in the registry');
  return { redis, nodes, clients };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join() === [...b].sort().join();
}

/**
 * Broadcast a marker from each node and wait until every client has all of them. Redis keeps
 * each publisher's messages in order, so anything a node sent before its marker (a duplicate
 * included) has arrived by then.
 */
async function settle(nodes: ClusterNode[], clients: TestClient[], tag: string): Promise<void> {
  for (const node of nodes) await node.call('write', { marker: `${tag}:${node.id}` });
  await waitFor(
    () => clients.every((c) => nodes.every((node) => c.received.some((m) => (m as { marker?: string }).marker === `${tag}:${node.id}`))),
    10_000,
    `the "${tag}" markers at every client`,
  );
}

function withoutMarkers(received: unknown[]): unknown[] {
  return received.filter((m) => !(m as { marker?: string }).marker);
}

describe('three servers over Redis', () => {
  it('delivers a broadcast from any server to every client on every server, once', async () => {
    const { nodes, clients } = await startCluster();
    await nodes[0]!.call('write', { from: 'node-1' });
    await nodes[1]!.call('write', { from: 'node-2' });
    await settle(nodes, clients.flat(), 'end');
    for (const client of clients.flat()) {
      expect(
        withoutMarkers(client.received)
          .map((m) => (m as { from: string }).from)
          .sort(),
      ).toEqual(['node-1', 'node-2']);
      expect(client.received).toHaveLength(2 + nodes.length);
    }
  });

  it('sends to a spark on another server, and knows where every spark and server is', async () => {
    const { nodes, clients } = await startCluster();
    const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
    const target = clients[2]![1]!;

    await expect(a.call('send', target.sparkId, { only: 'you' })).resolves.toBe(true);
    await waitFor(() => target.received.length === 1, 5000, 'the sent message');
    expect(target.received).toEqual([{ only: 'you' }]);
    await settle([a], clients.flat(), 'after-send');
    for (const client of clients.flat().filter((x) => x !== target)) expect(withoutMarkers(client.received)).toEqual([]);

    await expect(a.call('send', 'no-such-spark', 'lost')).resolves.toBe(false);
    await expect(a.call('spark', target.sparkId)).resolves.toBe(c.id);
    await expect(b.call('spark', clients[1]![0]!.sparkId)).resolves.toBe(b.id);
    await expect(a.call('spark', 'no-such-spark')).resolves.toBeNull();
    expect((await a.call<string[]>('servers')).sort()).toEqual(['node-1', 'node-2', 'node-3']);
    expect(
      sameSet(
        await b.call<string[]>('sparks'),
        clients.flat().map((x) => x.sparkId),
      ),
    ).toBe(true);

    // A spark that leaves is gone from the registry, and sending to it reports false.
    const leaving = clients[1]![0]!;
    leaving.socket.end();
    await waitFor(async () => !(await a.call<string[]>('sparks')).includes(leaving.sparkId), 5000, 'the spark to leave the registry');
    await expect(a.call('send', leaving.sparkId, 'too late')).resolves.toBe(false);
  });

  it('forgets a killed server within the TTL while the others keep working', async () => {
    const { nodes, clients } = await startCluster();
    const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
    const dead = clients[2]!.map((x) => x.sparkId);
    const alive = [...clients[0]!, ...clients[1]!];

    const killed = Date.now();
    await c.kill();
    for (const client of clients[2]!) client.socket.destroy();
    // A crash says no goodbye: the entries are still there until the lease runs out.
    expect(await a.call<string[]>('servers')).toContain('node-3');
    await waitFor(
      async () => !(await a.call<string[]>('servers')).includes('node-3') && !(await a.call<string[]>('sparks')).some((id) => dead.includes(id)),
      TTL + 3000,
      'the dead server to expire',
    );
    // The slack covers the polling above, not a late expiry.
    expect(Date.now() - killed).toBeLessThanOrEqual(TTL + 1000);

    await expect(a.call('send', dead[0], 'to the dead')).resolves.toBe(false);
    await expect(a.call('send', clients[1]![0]!.sparkId, 'to the living')).resolves.toBe(true);
    await b.call('write', { still: 'here' });
    await settle([a, b], alive, 'after-kill');
    for (const client of alive) expect(withoutMarkers(client.received)).toContainEqual({ still: 'here' });
    expect(clients[1]![0]!.received).toContainEqual('to the living');
  });

  it('removes a cleanly stopped server from the registry at once', async () => {
    const { nodes, clients } = await startCluster({ ttl: 60_000 });
    const [a, , c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
    await c.stop();
    // No waiting: with a 60 s lease only the goodbye can explain it.
    expect((await a.call<string[]>('servers')).sort()).toEqual(['node-1', 'node-2']);
    expect(
      sameSet(
        await a.call<string[]>('sparks'),
        [...clients[0]!, ...clients[1]!].map((x) => x.sparkId),
      ),
    ).toBe(true);
  });

  it('fails cluster operations fast without Redis, keeps local delivery, and recovers without losses or duplicates', async () => {
    const { redis, nodes, clients } = await startCluster();
    const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
    for (let seq = 1; seq <= 3; seq++) await a.call('write', { seq });
    await settle(nodes, clients.flat(), 'before');

    await redis.kill();
    await Promise.all(nodes.map((node) => node.until(false)));

    // Local delivery goes on.
    await a.call('write', { seq: 4 });
    await waitFor(() => clients[0]!.every((x) => x.received.some((m) => (m as { seq?: number }).seq === 4)), 5000, 'local delivery without Redis');
    await expect(a.call('send', clients[0]![0]!.sparkId, 'local send')).resolves.toBe(true);

    // Cluster operations fail at once with a clear error.
    for (const [cmd, ...args] of [['send', clients[1]![0]!.sparkId, 'x'], ['sparks'], ['servers'], ['spark', 'unknown'], ['broadcast', 'x']] as const) {
      const answer = await a.reply(cmd, ...args);
      expect(answer.ok).toBe(false);
      expect(answer.error).toEqual({ code: 'PRIMUS_ERR_CLUSTER_UNAVAILABLE', message: expect.stringContaining(redis.url) });
      expect(answer.ms).toBeLessThan(200);
    }

    // The registry changes while Redis is away: one spark arrives on b, one leaves c.
    const late = await connect(b.url);
    const leaving = clients[2]![0]!;
    leaving.socket.end();
    await waitFor(async () => !(await c.call<string[]>('local')).includes(leaving.sparkId), 5000, 'the spark to leave node-3');

    await redis.start();
    await Promise.all(nodes.map((node) => node.until(true)));
    const now = [...clients.flat().filter((x) => x !== leaving), late];
    expect(
      sameSet(
        await a.call<string[]>('sparks'),
        now.map((x) => x.sparkId),
      ),
    ).toBe(true);
    expect((await b.call<string[]>('servers')).sort()).toEqual(['node-1', 'node-2', 'node-3']);

    for (let seq = 5; seq <= 7; seq++) await a.call('write', { seq });
    await expect(a.call('send', late.sparkId, 'welcome')).resolves.toBe(true);
    await settle(nodes, now, 'recovered');

    const seqs = (client: TestClient): number[] => client.received.flatMap((m) => ((m as { seq?: number }).seq === undefined ? [] : [(m as { seq: number }).seq]));
    // Broadcasts made while Redis was away reach only their own server's sparks (pub/sub keeps nothing).
    for (const client of clients[0]!) expect(seqs(client)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const client of [...clients[1]!, clients[2]![1]!]) expect(seqs(client)).toEqual([1, 2, 3, 5, 6, 7]);
    expect(seqs(late)).toEqual([5, 6, 7]);
    expect(late.received).toContain('welcome');
  });

  it('rejects a send whose server cannot answer instead of waiting for ever', async () => {
    const { nodes, clients } = await startCluster();
    const [a, , c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
    c.signal('SIGSTOP');
    try {
      const answer = await a.reply('send', clients[2]![0]!.sparkId, 'anyone?');
      expect(answer.ok).toBe(false);
      expect(answer.error?.code).toBe('PRIMUS_ERR_CLUSTER_TIMEOUT');
      expect(answer.ms).toBeGreaterThanOrEqual(TIMEOUT - 50);
      expect(answer.ms).toBeLessThan(TIMEOUT + 1000);
    } finally {
      c.signal('SIGCONT');
    }
  });
});
