// Redis Sentinel for real: a primary, a replica and three sentinels (Debian's redis-server and
// redis-sentinel), three Primus servers in their own processes connected through the sentinels.
// The primary is triggered while one server broadcasts and another sends; Sentinel promotes the
// replica and the cluster carries on without any Primus server being restarted.
//
// PRIMUS_DEPLOY_REPORT=<dir> writes what the failover took and lost to <dir>/sentinel.json.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it, jest } from '@jest/globals';
import type { Redis } from 'ioredis';
import websockets from '@primus/transformer-ws';
import { once, startServer, waitFor } from '@primus/transformer-test-suite';
import { redisCluster } from '../src/index';
import { cleanup, connect, onCleanup, startNode, type ClusterNode, type TestClient } from './helpers/processes';
import { report } from './helpers/report';
import { DOWN_AFTER_MS, startSentinelGroup, type SentinelGroup } from './helpers/sentinel';

jest.setTimeout(120_000);
afterEach(cleanup);

/** ms between two broadcasts, and between two sends, while the primary dies. */
const BROADCAST_EVERY = 50;
const SEND_EVERY = 100;

type Seq = { seq: number };
const seqsOf = (client: TestClient): number[] => client.received.flatMap((m) => (typeof (m as Seq).seq === 'number' ? [(m as Seq).seq] : []));

/**
 * Run the cluster over Sentinel, call `trigger` while one server broadcasts and another sends,
 * wait until Sentinel has promoted the replica and the cluster works again, check what arrived,
 * and report the figures under `what`.
 */
async function failover(
  what: string,
  trigger: (group: SentinelGroup) => Promise<void>,
  moved?: (group: SentinelGroup) => Promise<void>,
): Promise<{ missed: number[]; sendsFailed: number; downs: number[] }> {
  const group = await startSentinelGroup();
  const settings = { redis: group.options, prefix: `sentinel-${randomUUID()}`, ttl: 2000, heartbeat: 400, timeout: 1000 };
  const nodes = await Promise.all([1, 2, 3].map((n) => startNode({ ...settings, id: `node-${n}` })));
  await Promise.all(nodes.map((node) => node.until(true)));
  const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
  const local = await Promise.all([connect(a.url), connect(a.url)]);
  const remote = await Promise.all([connect(b.url), connect(b.url), connect(c.url), connect(c.url)]);
  const target = remote[3]!;
  await waitFor(async () => (await a.call<string[]>('sparks')).length === 6, 10_000, 'every spark in the registry');

  // How many times each server lost Redis.
  const downs = nodes.map(() => 0);
  nodes.forEach((node, i) => node.onReport('down', () => void downs[i]!++));

  // node-1 broadcasts a numbered message every 50 ms, node-2 sends to a spark of node-3 every
  // 100 ms, from before the primary dies until after the cluster is back.
  const published: Array<{ seq: number; at: number }> = [];
  const sends: Array<{ at: number; ok: boolean; code?: string }> = [];
  let sent = 0;
  const broadcasting = setInterval(() => {
    const seq = published.length + 1;
    published.push({ seq, at: Date.now() });
    a.call('write', { seq }).catch(() => {});
  }, BROADCAST_EVERY);
  const sending = setInterval(() => {
    const at = Date.now();
    void b.reply('send', target.sparkId, { sent: ++sent }).then((answer) => sends.push({ at, ok: answer.ok && answer.result === true, code: answer.error?.code }));
  }, SEND_EVERY);
  try {
    await waitFor(() => remote.every((client) => seqsOf(client).length >= 10), 10_000, 'broadcasts before the failover');

    // On a starved machine Sentinel may call the primary down on its own, or pause itself (its
    // TILT mode, 30 s); the sentinels' own words then say so.
    const explain = (err: unknown): never => {
      throw new Error(`${(err as Error).message}\n${group.logs()}`);
    };
    if ((await group.currentPrimary()) !== group.primary.port) explain(new Error('Sentinel failed the primary over before the test did'));
    const triggered = Date.now();
    await trigger(group);
    await waitFor(async () => (await group.currentPrimary()) === group.replica.port, 45_000, 'Sentinel to promote the replica').catch(explain);
    const promoted = Date.now();
    // Every server moves to the promoted replica on its own, over both of its connections.
    await waitFor(
      async () => {
        const names = await group.clientNames(group.replica.port);
        return nodes.every((node) => names.includes(`primus:${node.id}`) && names.includes(`primus:${node.id}:sub`));
      },
      30_000,
      'every server on the promoted replica',
    ).catch(explain);
    const movedAt = Date.now();
    await moved?.(group);
    await Promise.all(nodes.map((node) => node.until(true, 30_000)));
    const recovered = published.length;
    await waitFor(() => remote.every((client) => seqsOf(client).some((seq) => seq > recovered + 10)), 15_000, 'broadcasts after the failover');
    await waitFor(() => sends.some((s) => s.ok && s.at > promoted), 15_000, 'a send after the failover');

    clearInterval(broadcasting);
    clearInterval(sending);
    const last = published.length;
    await waitFor(() => [...local, ...remote].every((client) => seqsOf(client).includes(last)), 10_000, 'the last broadcast everywhere');
    await waitFor(() => sends.length === sent, 10_000, 'every send to be answered');

    // None of the servers was restarted: the same processes answer, with every spark still there.
    for (const node of nodes) expect(node.exited).toBe(false);
    expect((await c.call<string[]>('servers')).sort()).toEqual(['node-1', 'node-2', 'node-3']);
    expect((await c.call<string[]>('sparks')).sort()).toEqual([...local, ...remote].map((client) => client.sparkId).sort());

    // The broadcasting server's own clients missed nothing; nobody got anything twice.
    for (const client of local) expect(seqsOf(client)).toEqual(published.map((p) => p.seq));
    for (const client of [...local, ...remote]) expect(new Set(seqsOf(client)).size).toBe(seqsOf(client).length);

    // Each of the other servers' clients missed one stretch of broadcasts (each server is back
    // at its own moment, its clients all at once) and got everything before and after it, in order.
    const missedBy = remote.map((client) => published.filter((p) => !seqsOf(client).includes(p.seq)));
    remote.forEach((client, i) => {
      const missed = missedBy[i]!;
      if (missed.length > 0) expect(missed.at(-1)!.seq - missed[0]!.seq + 1).toBe(missed.length);
      expect(seqsOf(client)).toEqual(published.filter((p) => !missed.includes(p)).map((p) => p.seq));
    });
    expect(missedBy[1]).toEqual(missedBy[0]);
    expect(missedBy[3]).toEqual(missedBy[2]);

    // Sends failed for one stretch at most, and every one that reported success arrived.
    const failed = sends.filter((s) => !s.ok);
    const backAt = failed.length ? sends.find((s) => s.ok && s.at > failed.at(-1)!.at)!.at : undefined;
    const delivered = target.received.filter((m) => typeof (m as { sent?: number }).sent === 'number').length;
    expect(delivered).toBe(sends.filter((s) => s.ok).length);

    const gaps = missedBy.map((missed) =>
      missed.length ? { missed: missed.length, gapMs: missed.at(-1)!.at - missed[0]!.at + BROADCAST_EVERY, fromTriggerMs: missed[0]!.at - triggered } : { missed: 0 },
    );
    report(what, {
      downAfterMs: DOWN_AFTER_MS,
      promotedAfterMs: promoted - triggered,
      serversMovedAfterMs: movedAt - triggered,
      sendsTotal: sends.length,
      broadcastsTotal: published.length,
      broadcastsEveryMs: BROADCAST_EVERY,
      broadcastsMissed: { [b.id]: gaps[0], [c.id]: gaps[2] },
      sendsEveryMs: SEND_EVERY,
      sendsFailed: failed.length,
      sendFailures: Object.fromEntries([...new Set(failed.map((s) => s.code ?? 'false'))].map((code) => [code, failed.filter((s) => (s.code ?? 'false') === code).length])),
      sendGapMs: backAt === undefined ? 0 : backAt - failed[0]!.at,
      sendFailuresFromTriggerMs: failed.length ? failed[0]!.at - triggered : null,
    });
    return { missed: missedBy.map((m) => m.length), sendsFailed: failed.length, downs };
  } finally {
    clearInterval(broadcasting);
    clearInterval(sending);
  }
}

it('resumes broadcasts and sends after the primary is killed and Sentinel fails over, without restarting any server', async () => {
  const { missed, sendsFailed } = await failover('primary killed', (group) => group.primary.kill());
  // Pub/sub keeps nothing: what was published while no primary was reachable is gone.
  for (const count of missed) expect(count).toBeGreaterThan(0);
  expect(sendsFailed).toBeGreaterThan(0);
});

it('follows a planned failover (SENTINEL FAILOVER) as soon as Sentinel announces it, without restarting any server', async () => {
  await failover(
    'planned failover',
    (group) => group.planned(),
    async (group) => {
      // The servers moved on Sentinel's announcement: the old primary, alive, has not even been
      // demoted yet (Sentinel waits several seconds for that). Servers that stayed on it would
      // not hear the broadcasts of servers that connect to the new primary meanwhile.
      expect(await group.role(group.primary.port)).toBe('master');
    },
  );
});

it('keeps the connections already on the new primary when a sentinel announces it late', async () => {
  const { downs } = await failover(
    'late announcement',
    async (group) => {
      // The third sentinel stops watching the group, so that it takes no part in the failover.
      await group.forget(group.sentinels[2]!.port);
      await group.planned();
    },
    async (group) => {
      // Every server is on the new primary. The third sentinel watches the group again from the
      // old primary; the others' hello messages tell it of the new one, which it then announces
      // (+switch-master), as a sentinel that was slow or cut off does.
      const late = group.sentinels[2]!.port;
      await group.monitor(late, group.primary.port);
      await waitFor(async () => (await group.currentPrimary(late)) === group.replica.port, 15_000, 'the third sentinel to learn of the new primary');
      // Time for the announcement to reach the servers, and for a connection it closed to be seen.
      await sleep(1000);
    },
  );
  // Each server moved once, on the first announcement; the late one changed nothing.
  expect(downs).toEqual([1, 1, 1]);
});

it('starts a Sentinel connection again when ioredis gives it up, and leaves no connection behind when closed', async () => {
  const group = await startSentinelGroup();
  const sentinelClients = (): Promise<number> => group.clientCount(group.sentinels[0]!.port);
  const before = await sentinelClients();
  const settings = { redis: group.options, prefix: `sentinel-${randomUUID()}`, ttl: 2000, heartbeat: 300, timeout: 1000 };
  const [a, b] = await Promise.all([1, 2].map(() => startServer({ transformer: websockets, plugin: { cluster: redisCluster(settings) } })));
  onCleanup(() => a!.close());
  onCleanup(() => b!.close());
  await Promise.all([a!.primus.cluster!.ready(5000), b!.primus.cluster!.ready(5000)]);
  const client = await connect(a!.url);

  // What ioredis does when a connection is closed (on a sentinel's announcement) while it asks the
  // sentinels where the primary is: the connection ends, and ioredis itself never opens it again.
  const down = once(a!.primus.cluster!, 'down');
  (a!.primus.cluster as unknown as { sub: Redis }).sub.disconnect();
  await down;
  await once(a!.primus.cluster!, 'up', 10_000);
  b!.primus.write('still one cluster');
  await waitFor(() => client.received.includes('still one cluster'), 5000, 'the broadcast of the other server');

  // Each server listens to every sentinel; closing the servers closes those connections too, or
  // they would keep the process alive.
  expect(await sentinelClients()).toBeGreaterThan(before);
  client.socket.destroy();
  await Promise.all([a!.close(), b!.close()]);
  await waitFor(async () => (await sentinelClients()) === before, 15_000, 'the connections to the sentinels to close');
});
