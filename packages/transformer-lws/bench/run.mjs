#!/usr/bin/env node
// The lws transformer against the websockets (ws) transformer: echo throughput (small and large
// messages), broadcast fan-out and memory per idle connection. Each server runs in its own
// process; this process drives it with plain `ws` clients, the same for both. Rounds alternate
// the transformers so a slow patch on a shared machine hits both.
//
//   node bench/run.mjs [--rounds 3] [--quick] [--json results.json]
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';

const here = dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, quick: { type: 'boolean', default: false }, json: { type: 'string' } },
});
const quick = flags.quick;
const ROUNDS = Number(flags.rounds);
const CONFIG = {
  echo: { clients: 50, window: 16, size: 64, warmupMs: quick ? 300 : 1000, measureMs: quick ? 1000 : 4000 },
  large: { clients: 4, window: 2, size: 256 * 1024, warmupMs: quick ? 300 : 1000, measureMs: quick ? 1000 : 4000 },
  fanout: { clients: quick ? 200 : 1000, count: quick ? 20 : 100, size: 64 },
  memory: { connections: quick ? 500 : 2000 },
};
const TRANSFORMERS = ['ws', 'lws'];

/** Start a server process and wrap its IPC commands. */
async function startServer(name) {
  const child = fork(join(here, 'server.mjs'), [name], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map();
  let next = 0;
  const ready = new Promise((resolve, reject) => {
    child.once('error', reject);
    child.on('message', (message) => {
      if (message.ready) resolve(message.port);
      else pending.get(message.id)?.(message.result);
    });
  });
  const port = await ready;
  return {
    port,
    call(command, args) {
      const id = next++;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        child.send({ id, command, args });
      });
    },
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill();
      }),
  };
}

async function connect(port, count) {
  const sockets = [];
  // In batches, so the listen backlog never overflows.
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: Math.min(100, count - i) }, () => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/primus?ping=false`, { perMessageDeflate: false });
      sockets.push(socket);
      return new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
    });
    await Promise.all(batch);
  }
  return sockets;
}

function close(sockets) {
  return Promise.all(
    sockets.map(
      (socket) =>
        new Promise((resolve) => {
          socket.once('close', resolve);
          socket.terminate();
        }),
    ),
  );
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every client keeps `window` messages in flight; replies counted over the measuring window. */
async function echo(server, { clients, window, size, warmupMs, measureMs }) {
  const sockets = await connect(server.port, clients);
  const payload = JSON.stringify('e'.repeat(size));
  let replies = 0;
  for (const socket of sockets) {
    socket.on('message', () => {
      replies++;
      socket.send(payload);
    });
    for (let i = 0; i < window; i++) socket.send(payload);
  }
  await sleep(warmupMs);
  const before = await server.call('measure');
  const start = replies;
  const t0 = process.hrtime.bigint();
  await sleep(measureMs);
  const count = replies - start;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = await server.call('measure');
  for (const socket of sockets) socket.removeAllListeners('message');
  await close(sockets);
  const cpu = after.cpu - before.cpu;
  return { perSecond: count / seconds, perCpuSecond: count / cpu, bytesPerSecond: (count * size) / seconds };
}

/** Broadcast `count` messages to `clients` sparks; time until every client has every message. */
async function fanout(server, { clients, count, size }) {
  const sockets = await connect(server.port, clients);
  while ((await server.call('measure')).connected < clients) await sleep(20);
  let received = 0;
  const expected = clients * count;
  const done = new Promise((resolve) => {
    for (const socket of sockets) socket.on('message', () => ++received === expected && resolve());
  });
  const before = await server.call('measure');
  const t0 = process.hrtime.bigint();
  await server.call('broadcast', { count, size });
  await done;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = await server.call('measure');
  await close(sockets);
  return { perSecond: expected / seconds, perCpuSecond: expected / (after.cpu - before.cpu) };
}

/** Memory the server holds per idle connection (after a full collection). */
async function memory(server, { connections }) {
  // One connection first: libwebsockets' context and the first allocations are not per connection.
  const warm = await connect(server.port, 1);
  await sleep(200);
  const before = await server.call('measure');
  const sockets = await connect(server.port, connections);
  while ((await server.call('measure')).connected < connections + 1) await sleep(20);
  await sleep(200);
  const after = await server.call('measure');
  await close([...warm, ...sockets]);
  return {
    rssPerConnection: (after.rss - before.rss) / connections,
    heapPerConnection: (after.heapUsed - before.heapUsed) / connections,
  };
}

const SCENARIOS = {
  'echo 64 B': [echo, CONFIG.echo, 'perSecond', 'msg/s'],
  'echo 64 B, per server CPU second': [echo, CONFIG.echo, 'perCpuSecond', 'msg/CPU-s'],
  'echo 256 KiB': [echo, CONFIG.large, 'bytesPerSecond', 'B/s'],
  [`fan-out to ${CONFIG.fanout.clients}`]: [fanout, CONFIG.fanout, 'perSecond', 'deliveries/s'],
  [`fan-out to ${CONFIG.fanout.clients}, per server CPU second`]: [fanout, CONFIG.fanout, 'perCpuSecond', 'deliveries/CPU-s'],
  'RSS per idle connection': [memory, CONFIG.memory, 'rssPerConnection', 'bytes'],
  'JS heap per idle connection': [memory, CONFIG.memory, 'heapPerConnection', 'bytes'],
};

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

// Runs share results: the CPU-second and JS-heap rows reuse the run of the row before them.
const runs = new Map();
const results = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const name of TRANSFORMERS) {
    const server = await startServer(name);
    for (const [label, [fn, config, key]] of Object.entries(SCENARIOS)) {
      const cacheKey = `${round}:${name}:${fn.name}:${JSON.stringify(config)}`;
      if (!runs.has(cacheKey)) runs.set(cacheKey, await fn(server, config));
      ((results[label] ??= {})[name] ??= []).push(runs.get(cacheKey)[key]);
    }
    await server.stop();
  }
}

const format = (value, unit) => (unit === 'bytes' ? `${Math.round(value)}` : unit === 'B/s' ? `${(value / 1048576).toFixed(1)} MiB/s` : `${Math.round(value)}`);
const rows = [];
for (const [label, [, , , unit]] of Object.entries(SCENARIOS)) {
  const ws = median(results[label].ws);
  const lws = median(results[label].lws);
  rows.push({ scenario: label, unit, ws, lws, ratio: lws / ws });
}
console.log(`| scenario | unit | ws | lws | lws / ws |\n| --- | --- | ---: | ---: | ---: |`);
for (const row of rows)
  console.log(`| ${row.scenario} | ${row.unit === 'B/s' ? 'MiB/s' : row.unit} | ${format(row.ws, row.unit)} | ${format(row.lws, row.unit)} | ${row.ratio.toFixed(2)} |`);
console.log(`\nmedian of ${ROUNDS} round(s); Node ${process.version}; ${quick ? 'quick' : 'full'} configuration`);
if (flags.json) writeFileSync(flags.json, JSON.stringify({ config: CONFIG, rounds: ROUNDS, node: process.version, results, rows }, null, 2));
