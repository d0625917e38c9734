import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from '@primus/transformer-test-suite';
import { exited, freePort, onCleanup } from './processes';

const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((file) => existsSync(file)) ?? 'redis-server';
const REDIS_SENTINEL = ['/usr/bin/redis-sentinel', '/usr/local/bin/redis-sentinel'].find((file) => existsSync(file));

/** The name of the monitored primary, as Sentinel and ioredis's `name` option know it. */
export const MASTER_NAME = 'primus';

/** How long the sentinels wait before they call an unanswering primary down. */
export const DOWN_AFTER_MS = 1000;

/** One redis-server or redis-sentinel process of the group. */
export interface RedisNode {
  port: number;
  /** Crash it: SIGKILL. */
  kill(): Promise<void>;
}

/** A primary, one replica and three sentinels, all on ports chosen at run time. */
export interface SentinelGroup {
  primary: RedisNode;
  replica: RedisNode;
  sentinels: RedisNode[];
  /** The `redis` option of `redisCluster()` that reaches the group through its sentinels. */
  options: { sentinels: Array<{ host: string; port: number }>; name: string };
  /** The primary's port as the first sentinel (or the sentinel on `port`) sees it now. */
  currentPrimary(port?: number): Promise<number | undefined>;
  /** Make the sentinel on `port` stop watching the group (`SENTINEL REMOVE`). */
  forget(port: number): Promise<void>;
  /** Make the sentinel on `port` watch the group again, as if its primary were on `primaryPort`. */
  monitor(port: number, primaryPort: number): Promise<void>;
  /** How many connections a process of the group has now, this helper's own included and the sentinels' links to each other left out. */
  clientCount(port: number): Promise<number>;
  /** The names of the connections a Redis of the group has now (`CLIENT LIST`). */
  clientNames(port: number): Promise<string[]>;
  /** What the sentinels printed so far, for the message of a failing test. */
  logs(): string;
  /** What a Redis of the group says it is now: `master` or `slave`. */
  role(port: number): Promise<string>;
  /** Ask a sentinel for a failover while the primary is healthy (`SENTINEL FAILOVER`). */
  planned(): Promise<void>;
}

/** A process of the group with everything it printed so far. */
type Started = { child: ChildProcess; output: () => string };

/** Start `command args`, resolve once its output contains `ready`; it is killed at cleanup. */
async function run(command: string, args: string[], ready: string, what: string): Promise<Started> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  onCleanup(() => exited(child, 2000));
  onCleanup(() => void child.kill('SIGKILL'));
  let output = '';
  // Keep reading after it is ready, so that a failing test can show what the sentinels did.
  const keep = (chunk: Buffer): void => void (output += chunk.toString());
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} was not ready within 10 s:\n${output}`)), 10_000);
    const onData = (): void => {
      if (output.includes(ready)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (err) => reject(new Error(`could not run ${command}: ${err.message}`)));
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before it was ready:\n${output}`)));
  });
  return { child, output: () => output };
}

function node({ child }: Started, port: number): RedisNode {
  return {
    port,
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
  };
}

/** A plain client of one process of the group, closed at cleanup. */
function client(port: number): Redis {
  const redis = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1, lazyConnect: false });
  redis.on('error', () => {});
  onCleanup(() => void redis.disconnect());
  return redis;
}

/**
 * Start a Sentinel-managed Redis: a primary, a replica of it, and three sentinels (quorum 2) that
 * call the primary down after `DOWN_AFTER_MS`. Resolves once the sentinels know the replica and
 * each other, so that a failover can happen; everything stops at cleanup.
 */
export async function startSentinelGroup(): Promise<SentinelGroup> {
  if (!REDIS_SENTINEL) throw new Error('redis-sentinel is not installed: run `node scripts/system-deps.mjs` (Debian package redis-sentinel)');
  const dir = mkdtempSync(path.join(tmpdir(), 'primus-sentinel-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];

  const primaryPort = await freePort();
  const primary = await run(REDIS_SERVER, ['--port', String(primaryPort), '--dir', dir, '--dbfilename', 'primary.rdb', ...common], 'Ready to accept connections', 'the primary');
  const replicaPort = await freePort();
  const replica = await run(
    REDIS_SERVER,
    ['--port', String(replicaPort), '--dir', dir, '--dbfilename', 'replica.rdb', '--replicaof', '127.0.0.1', String(primaryPort), ...common],
    'Ready to accept connections',
    'the replica',
  );
  const replicaClient = client(replicaPort);
  await waitFor(async () => (await replicaClient.info('replication')).includes('master_link_status:up'), 10_000, 'the replica to sync');

  const sentinels: RedisNode[] = [];
  const logs: Array<() => string> = [];
  for (let i = 1; i <= 3; i++) {
    const port = await freePort();
    const file = path.join(dir, `sentinel-${i}.conf`);
    // Sentinel rewrites its configuration file as it learns the group, so each gets its own.
    writeFileSync(
      file,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${primaryPort} 2`,
        `sentinel down-after-milliseconds ${MASTER_NAME} ${DOWN_AFTER_MS}`,
        `sentinel failover-timeout ${MASTER_NAME} 10000`,
        `sentinel parallel-syncs ${MASTER_NAME} 1`,
        '',
      ].join('\n'),
    );
    const sentinel = await run(REDIS_SENTINEL, [file], '+monitor master', `sentinel ${i}`);
    logs.push(sentinel.output);
    sentinels.push(node(sentinel, port));
  }
  const sentinelClients = sentinels.map((s) => client(s.port));
  await waitFor(
    async () => {
      const views = await Promise.all(
        sentinelClients.map(async (c) => ({
          replicas: (await c.call('SENTINEL', 'REPLICAS', MASTER_NAME)) as unknown[],
          others: (await c.call('SENTINEL', 'SENTINELS', MASTER_NAME)) as unknown[],
        })),
      );
      return views.every((v) => v.replicas.length === 1 && v.others.length === 2);
    },
    15_000,
    'the sentinels to know the replica and each other',
  );

  return {
    primary: node(primary, primaryPort),
    replica: node(replica, replicaPort),
    sentinels,
    options: { sentinels: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })), name: MASTER_NAME },
    async currentPrimary(port = sentinels[0]!.port) {
      const address = (await sentinelClients[sentinels.findIndex((s) => s.port === port)]!.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as [string, string] | null;
      return address ? Number(address[1]) : undefined;
    },
    async forget(port) {
      await sentinelClients[sentinels.findIndex((s) => s.port === port)]!.call('SENTINEL', 'REMOVE', MASTER_NAME);
    },
    async monitor(port, primaryPort) {
      const sentinel = sentinelClients[sentinels.findIndex((s) => s.port === port)]!;
      await sentinel.call('SENTINEL', 'MONITOR', MASTER_NAME, '127.0.0.1', String(primaryPort), '2');
      await sentinel.call('SENTINEL', 'SET', MASTER_NAME, 'down-after-milliseconds', String(DOWN_AFTER_MS), 'failover-timeout', '10000');
    },
    async clientCount(port) {
      const clients = port === replicaPort ? replicaClient : (sentinelClients[sentinels.findIndex((s) => s.port === port)] ?? client(port));
      // The sentinels' own links to each other (named sentinel-<id>-cmd) come and go on their own
      // schedule: only the connections of the application are counted.
      const lines = ((await clients.call('CLIENT', 'LIST')) as string).split('\n').filter(Boolean);
      return lines.filter((line) => !/(?:^| )name=sentinel-/.test(line)).length;
    },
    async clientNames(port) {
      const list = (await (port === replicaPort ? replicaClient : client(port)).call('CLIENT', 'LIST')) as string;
      return list.split('\n').flatMap((line) => /(?:^| )name=(\S+)/.exec(line)?.[1] ?? []);
    },
    logs() {
      return logs.map((output, i) => `sentinel ${i + 1}:\n${output()}`).join('\n');
    },
    async role(port) {
      const [role] = (await client(port).call('ROLE')) as [string];
      return role;
    },
    async planned() {
      await sentinelClients[0]!.call('SENTINEL', 'FAILOVER', MASTER_NAME);
    },
  };
}
