// The scenarios: each runs one server against one load generator and returns its metrics, or
// throws, in which case the cell is reported as a failure rather than a number.
import { fileURLToPath } from 'node:url';
import { Child, pause } from './proc.mjs';

const here = fileURLToPath(new URL('..', import.meta.url));
const loadFile = (name) => `${here}load/${name}.mjs`;
const serverFile = (name) => `${here}servers/${name}.mjs`;

/** Metrics every scenario reports, with units and which direction is better. */
export const METRICS = {
  echoPerCpuSec: { label: 'Echoes per server CPU-second', unit: '/CPU-s', better: 'higher' },
  echoPerSec: { label: 'Echoes per second (wall)', unit: '/s', better: 'higher' },
  echoServerCpu: { label: 'Server CPU use during echo', unit: '%', better: 'none' },
  rttP50Us: { label: 'Round trip p50', unit: 'µs', better: 'lower' },
  rttP99Us: { label: 'Round trip p99', unit: 'µs', better: 'lower' },
  deliveriesPerCpuSec: { label: 'Broadcast deliveries per server CPU-second', unit: '/CPU-s', better: 'higher' },
  deliveriesPerSec: { label: 'Broadcast deliveries per second (wall)', unit: '/s', better: 'higher' },
  ttldP50Ms: { label: 'Broadcast time to last delivery p50', unit: 'ms', better: 'lower' },
  ttldP99Ms: { label: 'Broadcast time to last delivery p99', unit: 'ms', better: 'lower' },
  sendLoopP50Us: { label: 'Server broadcast call p50', unit: 'µs', better: 'lower' },
  setupPerSec: { label: 'Connections set up per second', unit: '/s', better: 'higher' },
  setupCpuUs: { label: 'Server CPU per connection setup', unit: 'µs', better: 'lower' },
  heapPerConn: { label: 'Heap per idle connection', unit: 'B', better: 'lower' },
  rssPerConn: { label: 'RSS per idle connection', unit: 'B', better: 'lower' },
};

/** Which scenario produces a metric. */
export function metricScenario(metric) {
  if (metric.startsWith('echo')) return 'echo';
  if (metric.startsWith('rtt')) return 'latency';
  if (metric.startsWith('deliveries') || metric.startsWith('ttld') || metric.startsWith('sendLoop')) return 'broadcast';
  if (metric.startsWith('setup')) return 'setup';
  return 'idle';
}

function cpuUs(usage) {
  return usage.cpu.user + usage.cpu.system;
}

/** Start a server process; resolves once it listens. */
export async function startServer(server, { payload, profileDir, allocProfDir, lifetimeMs, env }) {
  const execArgv = ['--expose-gc'];
  if (profileDir) execArgv.push('--cpu-prof', '--cpu-prof-dir', profileDir);
  if (allocProfDir) env = { ...env, BENCH_ALLOC_PROF: allocProfDir };
  const child = new Child(serverFile(server.file), [...server.args, '--payload', payload, '--lifetime-ms', String(lifetimeMs)], {
    execArgv,
    env,
    label: `server ${server.id}`,
  });
  try {
    const ready = await child.waitFor('ready', 20_000);
    child.port = ready.port;
    return child;
  } catch (err) {
    await child.stop(1000);
    throw err;
  }
}

function startLoad(name, server, port, params) {
  const target = { port, wire: server.wire, path: server.path, transformerDir: server.transformerDir, transformer: server.transformer };
  return new Child(loadFile(name), [JSON.stringify({ ...params, target })], { label: `load ${name} for ${server.id}` });
}

async function result(load, timeoutMs) {
  const res = await load.waitFor('result', timeoutMs);
  if (!res.ok) throw new Error(res.failure);
  return res;
}

/** Ask the server for its CPU time whenever the load generator marks a phase. */
function sampleAtMarks(load, server) {
  const marks = {};
  load.onMessage('mark', (msg) => {
    // The mark's name lets a server sample allocations between `start` and `end` (--alloc-prof).
    const usage = server.request({ cmd: 'usage', mark: msg.name }, 'usage', 10_000);
    // Awaited later; a failure before then must not surface as an unhandled rejection.
    usage.catch(() => {});
    marks[msg.name] = usage;
  });
  return marks;
}

/** Echo throughput: many clients, each with a window of messages in flight. */
async function echo(server, child, cfg) {
  const params = {
    mode: 'throughput',
    clients: cfg.echo.clients,
    window: cfg.echo.window,
    concurrency: cfg.concurrency,
    warmupMs: cfg.echo.warmupMs,
    measureMs: cfg.echo.measureMs,
    payload: cfg.payload,
  };
  params.lifetimeMs = params.warmupMs + params.measureMs + 60_000;
  const load = startLoad('echo', server, child.port, params);
  try {
    const marks = sampleAtMarks(load, child);
    const res = await result(load, params.lifetimeMs + 5000);
    const cpu = cpuUs(await marks.end) - cpuUs(await marks.start);
    return {
      echoPerCpuSec: res.echoes / (cpu / 1e6),
      echoPerSec: res.echoes / (res.wallUs / 1e6),
      echoServerCpu: (100 * cpu) / res.wallUs,
      // Not a headline figure: the load generator's CPU use, to tell a client-bound rate apart.
      clientCpu: (100 * res.clientCpuUs) / res.wallUs,
      echoes: res.echoes,
      verified: res.verified,
    };
  } finally {
    await load.stop(1000);
  }
}

/** Round trip: a few clients, one message in flight each. */
async function latency(server, child, cfg) {
  const params = {
    mode: 'latency',
    clients: cfg.latency.clients,
    concurrency: cfg.concurrency,
    warmupMs: cfg.latency.warmupMs,
    measureMs: cfg.latency.measureMs,
    payload: cfg.payload,
  };
  params.lifetimeMs = params.warmupMs + params.measureMs + 60_000;
  const load = startLoad('echo', server, child.port, params);
  try {
    const res = await result(load, params.lifetimeMs + 5000);
    return {
      rttP50Us: res.rtt.p50Us,
      rttP99Us: res.rtt.p99Us,
      rttP999Us: res.rtt.p999Us,
      samples: res.rtt.samples,
      clientCpu: (100 * res.clientCpuUs) / res.wallUs,
      verified: res.verified,
    };
  } finally {
    await load.stop(1000);
  }
}

/** Broadcast fan-out: one broadcast at a time, the next once every client has the previous. */
async function broadcast(server, child, cfg) {
  const { clients, count } = cfg.broadcast;
  const params = { clients, count, concurrency: cfg.concurrency, payload: cfg.payload, lifetimeMs: 120_000 };
  const load = startLoad('broadcast', server, child.port, params);
  const loops = [];
  child.onMessage('sent', (msg) => loops.push(msg.loopUs));
  try {
    await load.waitFor('ready', 90_000);
    const before = await child.request({ cmd: 'usage' }, 'usage', 10_000);
    for (let seq = 1; seq <= count; seq++) {
      const delivered = load.waitFor('delivered', cfg.broadcast.timeoutMs);
      child.send({ cmd: 'broadcast', seq });
      try {
        await delivered;
      } catch (err) {
        if (load.failure) throw load.failure;
        const status = await load.request({ cmd: 'status', seq }, 'status', 2000).catch(() => null);
        throw new Error(status ? `broadcast ${seq} reached ${status.reached} of ${status.of} clients within ${cfg.broadcast.timeoutMs} ms` : err.message);
      }
    }
    const after = await child.request({ cmd: 'usage' }, 'usage', 10_000);
    const res = await result(load, 30_000);
    const cpu = cpuUs(after) - cpuUs(before);
    loops.sort((a, b) => a - b);
    return {
      deliveriesPerCpuSec: res.deliveries / (cpu / 1e6),
      deliveriesPerSec: res.deliveries / (res.wallUs / 1e6),
      ttldP50Ms: res.ttld.p50Us / 1000,
      ttldP99Ms: res.ttld.p99Us / 1000,
      sendLoopP50Us: loops[loops.length >> 1],
      clientCpu: (100 * res.clientCpuUs) / res.clientWallUs,
      deliveries: res.deliveries,
    };
  } finally {
    await load.stop(1000);
  }
}

/** Connection setup rate: open, prove with one echo, keep open until all are done. */
async function setup(server, child, cfg) {
  const params = { mode: 'setup', count: cfg.setup.count, concurrency: cfg.setup.concurrency, payload: cfg.payload, lifetimeMs: 120_000 };
  const load = startLoad('connect', server, child.port, params);
  try {
    const marks = sampleAtMarks(load, child);
    const res = await result(load, 125_000);
    const cpu = cpuUs(await marks.end) - cpuUs(await marks.start);
    return {
      setupPerSec: res.connections / (res.wallUs / 1e6),
      setupCpuUs: cpu / res.connections,
      // Not headline figures: the load generator's CPU per connection and its CPU use.
      setupClientCpuUs: res.clientCpuUs / res.connections,
      clientCpu: (100 * res.clientCpuUs) / res.wallUs,
      connections: res.connections,
    };
  } finally {
    await load.stop(1000);
  }
}

/** Memory per idle connection: server heap and RSS after full GCs, before and with `count` open. */
async function idle(server, child, cfg) {
  const { count } = cfg.idle;
  const params = { mode: 'idle', count, concurrency: cfg.setup.concurrency, payload: cfg.payload, lifetimeMs: 180_000 };
  const before = await child.request({ cmd: 'gc' }, 'gc', 30_000);
  const load = startLoad('connect', server, child.port, params);
  try {
    await load.waitFor('idle', 170_000);
    // Deferred per-connection work (announcements, first-message buffers) settles before the GC.
    await pause(1000);
    const after = await child.request({ cmd: 'gc' }, 'gc', 30_000);
    load.send({ cmd: 'release' });
    await result(load, 30_000);
    return {
      heapPerConn: (after.mem.heapUsed - before.mem.heapUsed) / count,
      rssPerConn: (after.mem.rss - before.mem.rss) / count,
      connections: count,
    };
  } finally {
    await load.stop(1000);
  }
}

/** Scenario name -> runner; the order is the order of a run. */
export const SCENARIOS = { echo, latency, broadcast, setup, idle };
