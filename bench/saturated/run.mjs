// Echo with the server as the bottleneck. In the main bench's echo scenario every message is one
// `ws.send()` of a Node client, and on a 2-core machine that load generator runs out of CPU first
// (80 to 100% of a core while the server idles part of the time); the server then wakes for one
// connection at a time and its CPU per echo includes the sleeping and waking that the client's
// pace imposes. Here the clients cost almost nothing: each connection sends pre-built masked
// frames, refilling its window of messages in flight with one TCP write, and counts the replies
// by parsing their frame headers and comparing every payload with what was sent. The server runs
// at 100% of a core, and echoes per server CPU-second measure what it can do.
//
//   node saturated/run.mjs [--servers ws,primus-ts/websockets,primus-ts/lws] [--rounds 5]
//                          [--clients 50] [--window 16] [--measure-ms 3000]
//
// Servers speak one JSON text per WebSocket frame: raw ws and the @primus/core transformers whose
// wire is plain WebSocket (websockets, lws, faye), and the websockets server with @primus/metrics
// (websockets-metrics) or with connection-state recovery (websockets-recovery). Each round runs every server once, in an order
// rotated from round to round, each in a fresh process. Prints echoes per server CPU-second per
// round, the median, and each server's ratio to every earlier one in the list, same round (median
// of the rounds); writes the figures to results/tmp/<time>-saturated.json.
import crypto from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Child } from '../lib/proc.mjs';

const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: 'ws,primus-ts/websockets,primus-ts/lws' },
    rounds: { type: 'string', default: '5' },
    clients: { type: 'string', default: '50' },
    window: { type: 'string', default: '16' },
    'measure-ms': { type: 'string', default: '3000' },
    'warmup-ms': { type: 'string', default: '1000' },
  },
});
const rounds = Number(values.rounds);
const clients = Number(values.clients);
const window = Number(values.window);
const measureMs = Number(values['measure-ms']);
const warmupMs = Number(values['warmup-ms']);

const here = new URL('..', import.meta.url).pathname;
const PAYLOAD = 'Primus benchmark payload: ÅÉÎØÜ ü € 0123456789 abcdefghijklmnopq';
const PACKAGES = { websockets: 'transformer-ws', lws: 'transformer-lws', faye: 'transformer-faye' };
/** Variants of the websockets server, as in the main bench: what a plugin or option costs. */
const VARIANTS = { 'websockets-metrics': ['--metrics', 'true'], 'websockets-recovery': ['--recovery', 'true'] };
const SERVERS = Object.fromEntries(
  values.servers.split(',').map((id) => {
    if (id === 'ws') return [id, { file: 'servers/raw-ws.mjs', args: [], path: '/' }];
    const short = id.startsWith('primus-ts/') ? id.slice('primus-ts/'.length) : '';
    const name = PACKAGES[short] ?? (VARIANTS[short] && PACKAGES.websockets);
    if (!name) throw new Error(`--servers: unknown server ${id} (ws or primus-ts/${[...Object.keys(PACKAGES), ...Object.keys(VARIANTS)].join('|')})`);
    const args = ['--transformer', join(here, '..', 'packages', name), ...(VARIANTS[short] ?? [])];
    return [id, { file: 'servers/primus-ts.mjs', args, path: '/primus?ping=600000&pong=60000' }];
  }),
);

/** The message every client sends, JSON-encoded as Primus and the raw ws server echo it. */
const text = Buffer.from(JSON.stringify(PAYLOAD));

function maskedFrame(payload) {
  const mask = crypto.randomBytes(4);
  const head = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0xfe, payload.length >> 8, payload.length & 255]);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([head, mask, body]);
}
const frame = maskedFrame(text);

/** One connection: upgrade, then keep `window` messages in flight, refilled with one write. */
function connect(port, path, counter) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    let head = '';
    let buffered = Buffer.alloc(0);
    let inFlight = 0;
    const refill = () => {
      const n = window - inFlight;
      if (n <= 0 || !counter.running) return;
      socket.write(Buffer.concat(Array(n).fill(frame)));
      inFlight += n;
    };
    socket.on('error', (err) => (counter.failure ??= err));
    socket.on('close', () => counter.running && (counter.failure ??= new Error('a connection closed during the run')));
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const onUpgrade = (chunk) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
      socket.off('data', onUpgrade);
      socket.on('data', onData);
      resolve({ refill, destroy: () => socket.destroy() });
      if (end + 4 < head.length) onData(Buffer.from(head.slice(end + 4), 'latin1'));
    };
    const onData = (chunk) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      let offset = 0;
      let echoes = 0;
      while (buffered.length - offset >= 2) {
        const length7 = buffered[offset + 1] & 127;
        const headLength = length7 === 126 ? 4 : 2;
        if (buffered.length - offset < headLength) break;
        const length = length7 === 126 ? buffered.readUInt16BE(offset + 2) : length7;
        if (buffered.length - offset < headLength + length) break;
        const start = offset + headLength;
        // Server frames that are not the echo (a heartbeat ping would be) fail the run.
        if (buffered[offset] !== 0x81 || buffered.compare(text, 0, text.length, start, start + length) !== 0) {
          counter.failure ??= new Error(
            `unexpected frame: ${buffered
              .subarray(start, start + length)
              .toString()
              .slice(0, 80)}`,
          );
        } else echoes++;
        offset = start + length;
      }
      buffered = buffered.subarray(offset);
      inFlight -= echoes;
      if (counter.counting) counter.echoes += echoes;
      refill();
    };
    socket.on('data', onUpgrade);
  });
}

const cpuSeconds = (before, after) => (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1e6;

async function cell(id) {
  const spec = SERVERS[id];
  const server = new Child(join(here, spec.file), [...spec.args, '--payload', PAYLOAD, '--lifetime-ms', String(measureMs + warmupMs + 60_000)], {
    execArgv: ['--expose-gc'],
    label: id,
  });
  try {
    const { port } = await server.waitFor('ready', 15_000);
    const counter = { running: true, counting: false, echoes: 0, failure: null };
    const connections = await Promise.all(Array.from({ length: clients }, () => connect(port, spec.path, counter)));
    for (const c of connections) c.refill();
    await new Promise((resolve) => setTimeout(resolve, warmupMs));
    const before = await server.request({ cmd: 'usage' }, 'usage', 10_000);
    const clientBefore = process.cpuUsage();
    counter.counting = true;
    const start = process.hrtime.bigint();
    await new Promise((resolve) => setTimeout(resolve, measureMs));
    const after = await server.request({ cmd: 'usage' }, 'usage', 10_000);
    counter.counting = false;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const clientCpu = process.cpuUsage(clientBefore);
    counter.running = false;
    for (const c of connections) c.destroy();
    if (counter.failure) throw counter.failure;
    const cpu = cpuSeconds(before, after);
    return {
      echoesPerCpuSec: counter.echoes / cpu,
      echoesPerSec: counter.echoes / seconds,
      serverCpu: (cpu / seconds) * 100,
      clientCpu: ((clientCpu.user + clientCpu.system) / 1e6 / seconds) * 100,
    };
  } finally {
    await server.stop();
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const ids = Object.keys(SERVERS);
const results = Object.fromEntries(ids.map((id) => [id, []]));
const started = new Date();
for (let round = 0; round < rounds; round++) {
  const order = ids.map((_, i) => ids[(i + round) % ids.length]);
  for (const id of order) {
    const r = await cell(id);
    results[id][round] = r;
    console.log(
      `r${round + 1} ${id.padEnd(22)} ${Math.round(r.echoesPerCpuSec)} echoes/CPU-s, ${Math.round(r.echoesPerSec)}/s, server CPU ${Math.round(r.serverCpu)}%, load CPU ${Math.round(r.clientCpu)}%`,
    );
  }
}

console.log(`\n${clients} connections, ${window} messages in flight each, ${rounds} rounds of ${measureMs} ms; median echoes per server CPU-second:`);
for (const id of ids) {
  const rs = results[id];
  const cpu = rs.map((r) => r.serverCpu);
  console.log(`  ${id.padEnd(22)} ${Math.round(median(rs.map((r) => r.echoesPerCpuSec)))} (server CPU ${Math.round(Math.min(...cpu))} to ${Math.round(Math.max(...cpu))}%)`);
}
const ratios = [];
for (let j = 1; j < ids.length; j++) {
  for (let i = 0; i < j; i++) {
    const perRound = results[ids[j]].map((r, round) => r.echoesPerCpuSec / results[ids[i]][round].echoesPerCpuSec);
    ratios.push({ server: ids[j], over: ids[i], median: median(perRound), rounds: perRound });
    console.log(`  ${ids[j]} ÷ ${ids[i]}, same round: ${median(perRound).toFixed(2)}× (${perRound.map((x) => x.toFixed(2)).join(', ')})`);
  }
}
const dir = join(here, 'results', 'tmp');
mkdirSync(dir, { recursive: true });
const file = join(
  dir,
  `${started
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z')}-saturated.json`,
);
writeFileSync(file, `${JSON.stringify({ started: started.toISOString(), clients, window, measureMs, warmupMs, rounds, results, ratios }, null, 2)}\n`);
console.log(`\nWrote ${file}`);
