#!/usr/bin/env node
// Cross-node broadcast: Primus with @primus/redis against Socket.IO with @socket.io/redis-adapter,
// in the same setup. One redis-server, N server processes per stack, one load generator; rounds
// alternate the stacks (P S, P S, ...) so a slow patch of a shared machine hits both. See README.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { child, load, repo, requireBuilt, startRedis } from './lib.mjs';

const HELP = `Usage: node bench/cluster/run.mjs [options]

  --quick            one short round, to check that everything works
  --rounds <n>       rounds per stack (default 3; 1 with --quick)
  --servers <n>      server processes per stack (default 3)
  --clients <n>      receiving clients, spread evenly over the servers (default 300; 60 with --quick)
  --count <n>        broadcasts per phase (default 300; 50 with --quick)
  --window <n>       broadcasts in flight in the throughput phase (default 16)
  --stacks <list>    comma-separated, from: primus, primus-recovery, socket.io
                     (default: primus,primus-recovery,socket.io)
  --no-save          print only; do not write bench/cluster/results/latest.json
  --help             this text
`;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    servers: { type: 'string', default: '3' },
    clients: { type: 'string' },
    count: { type: 'string' },
    window: { type: 'string', default: '16' },
    stacks: { type: 'string', default: 'primus,primus-recovery,socket.io' },
    'no-save': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const int = (value, fallback, name) => {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`--${name} must be a positive integer, got ${value}`);
  return n;
};
const quick = values.quick;
const config = {
  rounds: int(values.rounds, quick ? 1 : 3, 'rounds'),
  servers: int(values.servers, 3, 'servers'),
  clients: int(values.clients, quick ? 60 : 300, 'clients'),
  count: int(values.count, quick ? 50 : 300, 'count'),
  window: int(values.window, 16, 'window'),
  warmup: quick ? 10 : 30,
  concurrency: 25,
  timeoutMs: 10_000,
  // 64 characters, some multi-byte in UTF-8, as in the single-server benchmark.
  payload: 'Primus benchmark payload: ÅÉÎØÜ ü € 0123456789 abcdefghijklmnopq',
};
const stacks = values.stacks
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
for (const stack of stacks) if (!['primus', 'primus-recovery', 'socket.io'].includes(stack)) throw new TypeError(`unknown stack "${stack}"`);

requireBuilt();

/** CPU ms used so far by every server of a round, summed. */
async function serversCpu(servers) {
  const answers = await Promise.all(servers.map((server) => (server.send({ type: 'cpu' }), server.next('cpu', 10_000))));
  return answers.reduce((sum, answer) => sum + answer.ms, 0);
}

async function round(stack, redisUrl, redisCpu) {
  const servers = [];
  const loadgen = [];
  try {
    for (let i = 0; i < config.servers; i++) {
      const server = child('server.mjs', { stack, redisUrl, id: `${stack}-${i + 1}` }, `${stack} server ${i + 1}`);
      servers.push(server);
    }
    const ports = (await Promise.all(servers.map((s) => s.next('listening', 15_000)))).map((m) => m.port);
    const cpuBefore = await serversCpu(servers);
    const redisBefore = await redisCpu();
    const generator = child('load.mjs', { ...config, stack, urls: ports.map((port) => `http://127.0.0.1:${port}`) }, `${stack} load generator`);
    loadgen.push(generator);
    const lifetime = 60_000 + (3 * config.count * config.timeoutMs) / 100;
    // The throughput phase alone, between the load generator's two marks: deliveries per CPU-second.
    const phase = (async () => {
      const sample = async (mark) => {
        await generator.next('mark', lifetime);
        const cpu = { servers: await serversCpu(servers), redis: await redisCpu() };
        generator.send({ type: 'marked', phase: mark });
        return cpu;
      };
      const start = await sample('start');
      const end = await sample('end');
      return { servers: end.servers - start.servers, redis: end.redis - start.redis };
    })();
    phase.catch(() => {});
    const result = await generator.next('result', lifetime);
    if (!result.ok) throw new Error(`${stack}: ${result.failure}`);
    const used = await phase;
    const phaseDeliveries = config.count * config.clients;
    result.throughput.deliveriesPerServerCpuSec = phaseDeliveries / (used.servers / 1000);
    result.throughput.deliveriesPerCpuSec = phaseDeliveries / ((used.servers + used.redis) / 1000);
    // Per 1000 deliveries of the whole round (warm-up and both phases), and Redis per broadcast.
    const broadcasts = result.throughput.last;
    const deliveries = broadcasts * config.clients;
    result.cost = {
      serverCpuMsPer1000Deliveries: ((await serversCpu(servers)) - cpuBefore) / (deliveries / 1000),
      redisCpuUsPerBroadcast: (((await redisCpu()) - redisBefore) * 1000) / broadcasts,
    };
    return result;
  } finally {
    await Promise.all([...loadgen, ...servers].map((c) => c.stop()));
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const redis = await startRedis();
const { Redis } = load('ioredis');
const probe = new Redis(redis.url);
/** CPU ms redis-server has used so far (user + system). */
const redisCpu = async () => {
  const info = await probe.info('cpu');
  return (Number(/used_cpu_user:([\d.]+)/.exec(info)[1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)[1])) * 1000;
};
const results = Object.fromEntries(stacks.map((s) => [s, []]));
try {
  for (let r = 1; r <= config.rounds; r++) {
    for (const stack of stacks) {
      const result = await round(stack, redis.url, redisCpu);
      results[stack].push(result);
      process.stdout.write(
        `round ${r} ${stack.padEnd(15)} ttld p50 ${result.latency.ttldP50.toFixed(2)} ms  p99 ${result.latency.ttldP99.toFixed(2)} ms  ` +
          `remote p50 ${result.latency.remoteP50.toFixed(2)} ms  ${Math.round(result.throughput.broadcastsPerSec)} broadcasts/s  ` +
          `${Math.round(result.throughput.deliveriesPerSec)} deliveries/s  ` +
          `server CPU ${result.cost.serverCpuMsPer1000Deliveries.toFixed(1)} ms/1000 deliveries  Redis CPU ${result.cost.redisCpuUsPerBroadcast.toFixed(0)} µs/broadcast  ` +
          `throughput phase ${Math.round(result.throughput.deliveriesPerServerCpuSec)} deliveries/server CPU-s\n`,
      );
    }
  }
} finally {
  probe.disconnect();
  await redis.stop();
}

const summary = {};
for (const stack of stacks) {
  const rs = results[stack];
  summary[stack] = {
    ttldP50Ms: median(rs.map((x) => x.latency.ttldP50)),
    ttldP99Ms: median(rs.map((x) => x.latency.ttldP99)),
    remoteP50Ms: median(rs.map((x) => x.latency.remoteP50)),
    remoteP99Ms: median(rs.map((x) => x.latency.remoteP99)),
    broadcastsPerSec: median(rs.map((x) => x.throughput.broadcastsPerSec)),
    deliveriesPerSec: median(rs.map((x) => x.throughput.deliveriesPerSec)),
    serverCpuMsPer1000Deliveries: median(rs.map((x) => x.cost.serverCpuMsPer1000Deliveries)),
    redisCpuUsPerBroadcast: median(rs.map((x) => x.cost.redisCpuUsPerBroadcast)),
    deliveriesPerServerCpuSec: median(rs.map((x) => x.throughput.deliveriesPerServerCpuSec)),
    deliveriesPerCpuSec: median(rs.map((x) => x.throughput.deliveriesPerCpuSec)),
  };
}
// Same-round ratios against Socket.IO (rounds alternate the stacks, so round r of each ran seconds apart).
const ratioLines = [];
if (stacks.includes('socket.io')) {
  for (const stack of stacks.filter((s) => s !== 'socket.io')) {
    const ratios = (key) => results[stack].map((x, i) => x.throughput[key] / results['socket.io'][i].throughput[key]);
    const fmt = (xs) => `${xs.map((x) => x.toFixed(2)).join(', ')}: median ${median(xs).toFixed(2)}x`;
    summary[stack].vsSocketIo = { deliveriesPerServerCpuSec: median(ratios('deliveriesPerServerCpuSec')), deliveriesPerCpuSec: median(ratios('deliveriesPerCpuSec')) };
    ratioLines.push(
      `${stack} / socket.io, same round, throughput phase: deliveries per server CPU-second ${fmt(ratios('deliveriesPerServerCpuSec'))}; ` +
        `Redis included ${fmt(ratios('deliveriesPerCpuSec'))}`,
    );
  }
}

const rows = [
  ['', ...stacks],
  ['time to last delivery p50 (ms)', ...stacks.map((s) => summary[s].ttldP50Ms.toFixed(2))],
  ['time to last delivery p99 (ms)', ...stacks.map((s) => summary[s].ttldP99Ms.toFixed(2))],
  ['remote delivery p50 (ms)', ...stacks.map((s) => summary[s].remoteP50Ms.toFixed(2))],
  ['remote delivery p99 (ms)', ...stacks.map((s) => summary[s].remoteP99Ms.toFixed(2))],
  [`broadcasts/s (window ${config.window})`, ...stacks.map((s) => String(Math.round(summary[s].broadcastsPerSec)))],
  ['deliveries/s', ...stacks.map((s) => String(Math.round(summary[s].deliveriesPerSec)))],
  ['server CPU per 1000 deliveries (ms)', ...stacks.map((s) => summary[s].serverCpuMsPer1000Deliveries.toFixed(1))],
  ['Redis CPU per broadcast (µs)', ...stacks.map((s) => summary[s].redisCpuUsPerBroadcast.toFixed(0))],
  ['throughput phase: deliveries per server CPU-second', ...stacks.map((s) => String(Math.round(summary[s].deliveriesPerServerCpuSec)))],
  ['throughput phase: deliveries per CPU-second, Redis included', ...stacks.map((s) => String(Math.round(summary[s].deliveriesPerCpuSec)))],
];
const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
process.stdout.write(
  `\n${config.servers} servers per stack, ${config.clients} clients, ${config.count} broadcasts per phase, median of ${config.rounds} round(s)\n` +
    rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')).join('\n') +
    '\n' +
    ratioLines.map((line) => `\n${line}\n`).join(''),
);

if (!values['no-save']) {
  const dir = join(repo, 'bench/cluster/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'latest.json');
  writeFileSync(
    file,
    JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, config, summary, rounds: results }, null, 2) + '\n',
  );
  process.stdout.write(`\nwrote ${file}\n`);
}
