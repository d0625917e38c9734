import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Plugin } from 'esbuild';
import { Redis } from 'ioredis';
import { Primus, type PrimusClient } from '@primus/core';
import websockets from '@primus/transformer-ws';
import { once, waitFor } from '@primus/transformer-test-suite';
import type { RedisClusterOptions } from '../../src/index';

const packages = path.resolve(__dirname, '../../..');
const cleanups: Array<() => Promise<void>> = [];

/** Stop every process and client the current test started; use as `afterEach(cleanup)`. */
export async function cleanup(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn();
}

/** Run `fn` at cleanup, last in first out. */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(async () => void (await fn()));
}

/** A port nobody listens on right now, chosen by the OS. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Resolve with the exit of a child, killing it with SIGKILL if it has not exited within `ms`. */
export async function exited(child: ChildProcess, ms = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exit = once(child, 'exit', ms + 5000);
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  try {
    await exit;
  } finally {
    clearTimeout(timer);
  }
}

const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((file) => existsSync(file)) ?? 'redis-server';

/** A redis-server of the test's own, on a random port, with no persistence. */
export interface RedisProcess {
  port: number;
  url: string;
  /** Crash it (SIGKILL): every key is lost, as after a real failure of an unpersisted Redis. */
  kill(): Promise<void>;
  /** Start it again on the same port. */
  start(): Promise<void>;
  /** A plain client for looking at the keys, closed at cleanup. */
  client(): Redis;
}

/** Start a redis-server on a free port; it stops at cleanup. */
export async function startRedis(): Promise<RedisProcess> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'primus-redis-'));
  let child: ChildProcess | null = null;

  const start = async (): Promise<void> => {
    const proc = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let output = '';
    const ready = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('error', (err) => reject(new Error(`could not run ${REDIS_SERVER} (install Debian's redis-server package): ${err.message}`)));
      proc.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)));
    });
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`redis-server was not ready within 10 s:\n${output}`)), 10_000).unref());
    await Promise.race([ready, timeout]);
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    child = null;
    if (!proc) return;
    proc.kill('SIGKILL');
    await exited(proc);
  };

  await start();
  onCleanup(async () => {
    await kill();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    start,
    client() {
      const client = new Redis(port, '127.0.0.1', { lazyConnect: false, maxRetriesPerRequest: 1 });
      onCleanup(async () => {
        client.disconnect();
      });
      return client;
    },
  };
}

const bundles = new Map<string, Promise<string>>();

/**
 * Leave the packages' npm dependencies out of a bundle, required by absolute path from where the
 * package that imports them would find them: some frameworks (socket.io 0.9) look at their own
 * module objects and break when bundled, and optional native add-ons stay optional.
 */
const dependenciesInPlace: Plugin = {
  name: 'dependencies-in-place',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@primus/') || args.path.startsWith('node:') || builtinModules.includes(args.path)) return undefined;
      try {
        return { path: createRequire(path.join(args.resolveDir, 'index.js')).resolve(args.path), external: true };
      } catch {
        // Not installed: an optional dependency (bufferutil for ws, hiredis for socket.io 0.9's
        // Redis store) that its package loads inside a try and does without.
        return { path: args.path, external: true };
      }
    });
  },
};

/**
 * A fixture server (`test/fixtures/<name>.ts`) as one CommonJS file, bundled from the TypeScript
 * sources of every package, so the child processes run the same code as the tests (no stale dist,
 * no loader needed).
 */
function fixture(name: string): Promise<string> {
  let bundled = bundles.get(name);
  if (bundled) return bundled;
  bundled = (async () => {
    const esbuild = await import('esbuild');
    const dir = mkdtempSync(path.join(tmpdir(), 'primus-redis-fixture-'));
    const outfile = path.join(dir, `${name}.cjs`);
    const alias: Record<string, string> = {};
    for (const pkg of readdirSync(packages)) {
      if (existsSync(path.join(packages, pkg, 'src/index.ts'))) alias[`@primus/${pkg}`] = path.join(packages, pkg, 'src/index.ts');
    }
    // The core's subpath export, which transformers import (esbuild would otherwise append the
    // subpath to the alias of `@primus/core`).
    alias['@primus/core/contract'] = path.join(packages, 'core', 'src/contract-entry.ts');
    await esbuild.build({
      entryPoints: [path.join(__dirname, `../fixtures/${name}.ts`)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      alias,
      plugins: [dependenciesInPlace],
      logLevel: 'error',
    });
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return outfile;
  })();
  bundles.set(name, bundled);
  return bundled;
}

type Reply = { type: 'reply'; id: number; ok: boolean; result?: unknown; error?: { code?: string; message?: string }; ms: number };

/** An answer from a node: its result, or the error it raised with how long that took. */
export class NodeError extends Error {
  constructor(
    readonly code: string | undefined,
    message: string,
    readonly ms: number,
  ) {
    super(message);
  }
}

/** A fixture server in a child process, driven over IPC. */
export interface FixtureProcess {
  /** The id the process reported. */
  id: string;
  port: number;
  url: string;
  /** Run a command in the process. */
  call<T = unknown>(cmd: string, ...args: unknown[]): Promise<T>;
  /** Like `call`, but resolve with the reply itself (result or error, and how long it took). */
  reply(cmd: string, ...args: unknown[]): Promise<Reply>;
  /** Crash it: SIGKILL, no goodbye to anyone. */
  kill(): Promise<void>;
  /** Send the process a signal (SIGSTOP freezes it, SIGCONT thaws it). */
  signal(signal: NodeJS.Signals): void;
  /** Whether it has exited. */
  readonly exited: boolean;
  /** Ask it to stop with `cmd`, then wait for the exit. */
  stopWith(cmd: string): Promise<void>;
  /** Call `fn` with every message of `type` the process reports on its own (not a reply). */
  onReport(type: string, fn: (message: Record<string, unknown>) => void): void;
}

/** Fork `test/fixtures/<name>.ts` with `env` and wait until it listens; it stops at cleanup. */
export async function startFixture(name: string, env: Record<string, string>): Promise<FixtureProcess> {
  const file = await fixture(name);
  const child = fork(file, [], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  onCleanup(() => exited(child, 2000));
  // A frozen child ignores everything but SIGKILL and SIGCONT; thaw it so it can exit.
  onCleanup(() => void (child.exitCode === null && child.signalCode === null && child.kill('SIGCONT')));
  onCleanup(() => void (child.connected && child.disconnect()));

  const replies = new Map<number, (reply: Reply) => void>();
  const reports = new Map<string, Array<(message: Record<string, unknown>) => void>>();
  child.on('message', (message: Reply | { type: string }) => {
    if (message.type === 'reply') replies.get((message as Reply).id)?.(message as Reply);
    else for (const fn of reports.get(message.type) ?? []) fn(message as Record<string, unknown>);
  });
  const [listening] = await Promise.race([
    once<[{ type: string; port: number; id: string }]>(child, 'message', 15_000),
    once(child, 'exit', 16_000).then(([code, signal]) => Promise.reject(new Error(`the ${name} fixture exited (${code ?? signal}) before it listened`))),
  ]);
  if (listening.type !== 'listening') throw new Error(`the node said ${JSON.stringify(listening)} before it listened`);

  let counter = 0;
  const reply = (cmd: string, ...args: unknown[]): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const id = ++counter;
      const timer = setTimeout(() => {
        replies.delete(id);
        reject(new Error(`node ${listening.id} did not answer "${cmd}" within 15 s`));
      }, 15_000);
      replies.set(id, (answer) => {
        clearTimeout(timer);
        replies.delete(id);
        resolve(answer);
      });
      child.send({ id, cmd, args });
    });

  return {
    id: listening.id,
    port: listening.port,
    url: `http://127.0.0.1:${listening.port}`,
    reply,
    async call<T>(cmd: string, ...args: unknown[]): Promise<T> {
      const answer = await reply(cmd, ...args);
      if (!answer.ok) throw new NodeError(answer.error?.code, answer.error?.message ?? 'failed', answer.ms);
      return answer.result as T;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
    signal(signal) {
      child.kill(signal);
    },
    get exited() {
      return child.exitCode !== null || child.signalCode !== null;
    },
    async stopWith(cmd) {
      if (!child.connected) return;
      await reply(cmd);
      await exited(child);
    },
    onReport(type, fn) {
      reports.set(type, [...(reports.get(type) ?? []), fn]);
    },
  };
}

/** One Primus server of the cluster, running in its own process. */
export interface ClusterNode extends FixtureProcess {
  /** Its cluster id. Commands: write, broadcast, send, sparks, servers, spark, local, status, stop. */
  id: string;
  /** Resolve once the node says its cluster is (or is not) available. */
  until(available: boolean, ms?: number): Promise<void>;
  /** Shut it down cleanly (primus.destroy()) and wait for the process to exit. */
  stop(): Promise<void>;
}

/** Start a Primus server with the cluster plugin in a child process; it stops at cleanup. */
export async function startNode(options: RedisClusterOptions): Promise<ClusterNode> {
  const node = (await startFixture('node', { PRIMUS_CLUSTER_OPTIONS: JSON.stringify(options) })) as ClusterNode;
  node.until = async (available, ms = 10_000) => {
    await waitFor(async () => (await node.call<{ available: boolean }>('status')).available === available, ms, `node ${node.id} to be ${available ? 'up' : 'down'}`);
  };
  node.stop = () => node.stopWith('stop');
  return node;
}

const Socket = Primus.createSocket({ transformer: websockets });

/** A client of one node, destroyed at cleanup, with every message it receives. */
export interface TestClient {
  socket: PrimusClient;
  /** Every message received so far, in order. */
  received: unknown[];
  /** The id of this client's spark on the server. */
  sparkId: string;
}

/** Connect a client to a node and learn its spark id. */
export async function connect(url: string): Promise<TestClient> {
  const socket = new Socket(url, { reconnect: { retries: 0 } });
  socket.on('error', () => {});
  onCleanup(() => void socket.destroy());
  const received: unknown[] = [];
  socket.on('data', (data: unknown) => received.push(data));
  await once(socket, 'open');
  const sparkId = await new Promise<string>((resolve) => socket.id(resolve));
  return { socket, received, sparkId };
}
