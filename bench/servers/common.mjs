// The part every benchmark server shares: it reports its port, CPU time and memory to the
// orchestrator over IPC, broadcasts on request, and exits by itself when the orchestrator goes
// away or its lifetime runs out.
import { writeFileSync } from 'node:fs';
import inspector from 'node:inspector';
import { join } from 'node:path';

/** Monotonic microseconds; CLOCK_MONOTONIC is shared by all processes on the machine. */
export function nowUs() {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Read `--name value` from argv. */
export function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
}

function send(msg) {
  if (process.connected) process.send(msg);
}

function gcHard() {
  if (typeof global.gc !== 'function') throw new Error('run the server with --expose-gc');
  // Several passes: weak references and finalizers free more memory on the second and third.
  for (let i = 0; i < 4; i++) global.gc();
}

/**
 * Start a server and serve the orchestrator's commands.
 * @param {() => Promise<{ port: number, broadcast(message: object): void }>} start
 */
export async function serve(start) {
  const lifetimeMs = Number(arg('lifetime-ms', 600_000));
  // A hard ceiling: a server left behind by a crashed orchestrator still stops.
  setTimeout(() => process.exit(3), lifetimeMs).unref();
  process.on('disconnect', () => process.exit(0));

  const payload = arg('payload', '');
  const allocations = process.env.BENCH_ALLOC_PROF ? allocationSampler(process.env.BENCH_ALLOC_PROF) : null;
  let app;
  try {
    app = await start();
  } catch (err) {
    send({ type: 'fatal', error: String(err?.stack ?? err) });
    process.exit(1);
  }

  process.on('message', (msg) => {
    switch (msg.cmd) {
      case 'usage':
        send({ type: 'usage', cpu: process.cpuUsage(), mem: process.memoryUsage(), atUs: nowUs() });
        // With --alloc-prof, allocations are sampled between the load generator's marks, after
        // the CPU time of each mark was read.
        if (allocations && msg.mark === 'start') allocations.start();
        if (allocations && msg.mark === 'end') allocations.stop();
        break;
      case 'gc':
        gcHard();
        send({ type: 'gc', mem: process.memoryUsage() });
        break;
      case 'broadcast': {
        const t = nowUs();
        app.broadcast({ s: msg.seq, t, p: payload });
        send({ type: 'sent', seq: msg.seq, loopUs: nowUs() - t });
        break;
      }
      case 'stop':
        // process.exit() still writes a --cpu-prof profile; an allocation profile is written first.
        if (allocations?.written) allocations.written.finally(() => process.exit(0));
        else process.exit(0);
        break;
      default:
        send({ type: 'fatal', error: `unknown command ${JSON.stringify(msg)}` });
    }
  });
  send({ type: 'ready', port: app.port, pid: process.pid });
}

/**
 * The sampling heap profiler (a sample every 4 KiB allocated, on average), keeping the objects
 * garbage collection has already freed (V8's `includeObjectsCollectedByMajorGC`/`...MinorGC`), so
 * the profile counts everything allocated between `start()` and `stop()`, not what is still live.
 * `stop()` writes `<dir>/<pid>.heapprofile`, read by `lib/heapprofile.mjs`.
 */
function allocationSampler(dir) {
  const session = new inspector.Session();
  session.connect();
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));
  let started = null;
  return {
    /** Settles once `stop()` has written the profile. */
    written: null,
    start() {
      started = post('HeapProfiler.enable').then(() =>
        post('HeapProfiler.startSampling', {
          samplingInterval: 4096,
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: true,
        }),
      );
    },
    stop() {
      if (!started) return;
      this.written = started
        .then(() => post('HeapProfiler.stopSampling'))
        .then(({ profile }) => writeFileSync(join(dir, `${process.pid}.heapprofile`), JSON.stringify(profile)))
        .catch((err) => send({ type: 'fatal', error: `allocation sampling: ${err?.stack ?? err}` }));
    },
  };
}

/** Listen on 127.0.0.1 with an OS-chosen port and return it. */
export function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

/**
 * With BENCH_BUSY_US set (`run.mjs --interleaved <id>@busy=<µs>`), a function that spins for that
 * many microseconds: a deliberately slower server, to check that a comparison detects one.
 * Without it, null, and the servers install their handlers as they always do.
 */
export function busyWait() {
  const us = Number(process.env.BENCH_BUSY_US || 0);
  if (!(us > 0)) return null;
  return () => {
    const until = process.hrtime.bigint() + BigInt(Math.round(us * 1000));
    while (process.hrtime.bigint() < until);
  };
}
