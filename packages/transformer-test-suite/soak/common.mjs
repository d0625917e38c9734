// What the soak's server and load processes share: loading the core and the transformer, the IPC
// protocol with the orchestrator (src/soak-runner.ts of @primus/transformer-test-suite), and
// reading this process's own resources (memory after GC, open file descriptors, the open-file
// limit).
//
// The processes run built code (the core's `dist/` and the transformer's built entry), as the
// benchmarks do, so what is measured is what users install and not a test transpiler's output.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import { pathToFileURL } from 'node:url';

/** `@primus/core`, as this package resolves it (its ES module build). */
export async function importCore() {
  try {
    return await import('@primus/core');
  } catch (err) {
    throw new Error(`cannot load @primus/core (build it first, or install it next to @primus/transformer-test-suite): ${err?.message ?? err}`);
  }
}

/** The transformer exported (as default, or as `transformer`) by the built module at `entry`. */
export async function importTransformer(entry) {
  if (!isAbsolute(entry) || !existsSync(entry)) throw new Error(`${entry} is missing: the soak runs the transformer's built module, build it first`);
  const mod = await import(pathToFileURL(entry).href);
  const transformer = mod.default?.default ?? mod.default ?? mod.transformer ?? mod;
  if (typeof transformer?.server !== 'function') throw new Error(`${entry} exports no transformer (as default or as "transformer")`);
  return transformer;
}

/** Send a message to the orchestrator, if it is still there. */
export function send(msg) {
  if (process.connected) process.send(msg);
}

/**
 * The parameters (one JSON argument), with the process's safety nets installed: it exits when the
 * orchestrator disconnects, and after `lifetimeMs` whatever it is doing, so a crashed test run never
 * leaves a server holding ten thousand sockets behind.
 */
export function start() {
  const params = JSON.parse(process.argv[2] ?? '{}');
  setTimeout(() => {
    send({ type: 'fatal', error: `exceeded its ${params.lifetimeMs} ms lifetime` });
    process.exit(3);
  }, params.lifetimeMs ?? 600_000).unref();
  process.on('disconnect', () => process.exit(0));
  return params;
}

/**
 * Serve the orchestrator's commands: `handlers[cmd](msg)` returns (or resolves to) the reply, sent
 * with the command's `id`. A throwing handler becomes a `fatal` message rather than a silent hang.
 */
export function serveCommands(handlers) {
  process.on('message', (msg) => {
    if (msg?.cmd === 'stop') process.exit(0);
    const handler = handlers[msg?.cmd];
    if (!handler) {
      send({ type: 'fatal', error: `unknown command ${JSON.stringify(msg)}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(msg))
      .then(
        (reply) => send({ type: 'reply', id: msg.id, ...reply }),
        (err) => send({ type: 'fatal', error: String(err?.stack ?? err) }),
      );
  });
}

/** Report an error the orchestrator must see, then leave. */
export function die(err) {
  send({ type: 'fatal', error: String(err?.stack ?? err) });
  setTimeout(() => process.exit(1), 100);
}

/** Open file descriptors of this process. */
export function openFiles() {
  return readdirSync('/proc/self/fd').length;
}

/** The soft open-file limit of this process (what `ulimit -n` says), or null off Linux. */
export function fileLimit() {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === 'unlimited' ? Infinity : Number(soft);
  } catch {
    return null;
  }
}

/**
 * Memory after full garbage collections. Several passes, with a turn of the event loop between
 * them: the first frees objects, finalizers and weak callbacks run after it, and the next passes
 * free what those released.
 */
export async function collectedMemory() {
  if (typeof globalThis.gc !== 'function') throw new Error('run this process with --expose-gc');
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const { heapUsed, rss, external, arrayBuffers } = process.memoryUsage();
  let code = 0;
  for (const space of getHeapSpaceStatistics()) if (space.space_name.startsWith('code')) code += space.space_used_size;
  // `objects` is the heap without the code space: V8 keeps optimising (and re-optimising) hot
  // functions over thousands of connections, which moves the code space by hundreds of KB without
  // a single object being retained. (Code metadata outside that space still moves `objects` a
  // little; a heap snapshot's census, taken by the orchestrator, leaves it all out.)
  return { heapUsed, objects: heapUsed - code, code, rss, external, arrayBuffers };
}

/** The kinds of libuv handles and requests that keep this process alive, counted. */
export function activeResources() {
  const counts = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}
