// What the cluster benchmark's processes share: module resolution, a private redis-server, and
// forked children whose every wait is bounded.
import { fork, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, '../..');

// Everything comes from packages/redis, which lists Socket.IO, its Redis adapter, ioredis and the
// Primus packages: one resolution root, and the built dist of each package, as users get it.
export const load = createRequire(join(repo, 'packages/redis/package.json'));

/** Fail early, with the command to run, when a package has not been built. */
export function requireBuilt() {
  for (const name of ['core', 'client', 'transformer-ws', 'redis']) {
    if (!existsSync(join(repo, 'packages', name, 'dist/index.cjs'))) {
      throw new Error(`packages/${name} is not built: run "npx turbo run build --filter=@primus/redis..." first`);
    }
  }
}

/** A port nobody listens on right now, chosen by the OS. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolvePort(port));
    });
  });
}

/** Start a redis-server without persistence on a free port; `stop()` kills it. */
export async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'primus-bench-redis-'));
  const bin = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((f) => existsSync(f)) ?? 'redis-server';
  const proc = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server was not ready within 10 s:\n${output}`)), 10_000);
    const onData = (chunk) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolveReady();
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('error', (err) => reject(new Error(`could not run ${bin} (install Debian's redis-server): ${err.message}`)));
    proc.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${output}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A forked child that talks JSON over IPC; `next(type)` waits for a message, `stop()` ends it. */
export function child(file, params, label) {
  const proc = fork(join(here, file), [JSON.stringify(params)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const inbox = [];
  const waiters = [];
  let exited = false;
  proc.on('message', (msg) => {
    const i = waiters.findIndex((w) => w.type === msg.type);
    if (i !== -1) waiters.splice(i, 1)[0].resolve(msg);
    else inbox.push(msg);
  });
  const exit = new Promise((r) =>
    proc.once('exit', (code, signal) => {
      exited = true;
      for (const w of waiters.splice(0)) w.reject(new Error(`${label} exited (${code ?? signal}) while "${w.type}" was awaited`));
      r();
    }),
  );
  return {
    send(msg) {
      if (!exited && proc.connected) proc.send(msg);
    },
    next(type, ms) {
      const queued = inbox.findIndex((m) => m.type === type);
      if (queued !== -1) return Promise.resolve(inbox.splice(queued, 1)[0]);
      if (exited) return Promise.reject(new Error(`${label} has exited`));
      return new Promise((resolveMsg, reject) => {
        const waiter = { type, resolve: resolveMsg, reject };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`${label}: no "${type}" within ${ms} ms`));
        }, ms);
        waiter.resolve = (v) => (clearTimeout(timer), resolveMsg(v));
        waiter.reject = (e) => (clearTimeout(timer), reject(e));
        waiters.push(waiter);
      });
    },
    async stop() {
      if (exited) return;
      if (proc.connected) proc.disconnect();
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** Exit when the orchestrator goes away, so no child outlives a run. */
export function exitWithParent() {
  process.on('disconnect', () => process.exit(0));
}

export function reply(msg) {
  if (process.connected) process.send(msg);
}
