// The load generator: clients spread evenly over every server of the cluster, plus one trigger
// client on the first server. Each broadcast is asked for by the trigger and timed from that
// moment to its delivery at every client, so all timing happens on this process's clock.
//
//   latency    one broadcast at a time; time to last delivery, and per-delivery latency on the
//              servers that received it through Redis ("remote")
//   throughput `window` broadcasts in flight; broadcasts and deliveries per second
//
// Every client must see every broadcast once, in order, with the exact payload, or the run fails.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { exitWithParent, reply, repo } from './lib.mjs';

const p = JSON.parse(process.argv[2]);
exitWithParent();

function percentile(sorted, q) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1))];
}

// Raw ws clients speak each server's wire format, so the client side costs the same for both
// stacks and a client library's speed does not decide the result:
// - Primus: one JSON text per frame. The connect query asks for a heartbeat far longer than a run,
//   so no ping lands inside a measurement.
// - Socket.IO 4 over Engine.IO v4 WebSocket framing: `40` joins the namespace, `2`/`3` is the
//   heartbeat, an event is `42["<name>",<json>]`.
const WebSocket = createRequire(join(repo, 'packages/transformer-ws/package.json'))('ws');

/**
 * Open one client of the stack under test; `onMessage(data)` gets every broadcast. With recovery
 * (primus-recovery), the client announces it, and acknowledges as often as the server asks
 * (docs/protocol.md, section 9), so the servers free what they keep as a real client makes them.
 */
function opener() {
  const primus = p.stack.startsWith('primus');
  const recovery = p.stack === 'primus-recovery';
  return (url, onMessage) =>
    new Promise((resolve, reject) => {
      const query = recovery ? '/primus/?ping=600000&pong=60000&_primusrecovery=1' : '/primus/?ping=600000&pong=60000';
      const target = url.replace(/^http/, 'ws') + (primus ? query : '/socket.io/?EIO=4&transport=websocket');
      let count = 0;
      let ackEvery = Infinity;
      const ws = new WebSocket(target);
      const connection = {
        send: (message) => ws.send(primus ? JSON.stringify(message) : `42["b",${JSON.stringify(message)}]`),
        close: () => ws.terminate(),
      };
      ws.once('error', reject);
      if (primus) ws.once('open', () => resolve(connection));
      ws.on('message', (raw) => {
        const text = raw.toString();
        if (primus) {
          const data = JSON.parse(text);
          if (typeof data === 'string' && data.startsWith('primus::')) {
            const answer = /^primus::recovery::\w+\.(\d+)\./.exec(data);
            if (answer) ackEvery = Number(answer[1]);
            return undefined;
          }
          if (++count % ackEvery === 0) ws.send(JSON.stringify(`primus::ack::${count}`));
          return onMessage(data);
        }
        if (text.startsWith('42')) return onMessage(JSON.parse(text.slice(2))[1]);
        if (text === '2') return ws.send('3');
        if (text.startsWith('0')) return ws.send('40');
        if (text.startsWith('40')) resolve(connection);
      });
    });
}

/**
 * Tell the orchestrator a measured phase starts or ends, and wait until it has sampled the
 * servers' CPU time.
 */
function mark(phase) {
  return new Promise((resolve) => {
    const onMessage = (msg) => {
      if (msg?.type !== 'marked' || msg.phase !== phase) return;
      process.off('message', onMessage);
      resolve();
    };
    process.on('message', onMessage);
    reply({ type: 'mark', phase });
  });
}

const open = opener();
const total = p.warmup + 2 * p.count;
const sentAt = new Float64Array(total + 1);
const reached = new Uint32Array(total + 1);
const lastAt = new Float64Array(total + 1);
const remote = [];
let measuringRemote = false;
let failure = null;
const waiting = new Map();

function received(seq, node, data) {
  const now = performance.now();
  if (data?.p !== p.payload) failure ??= `broadcast ${seq} arrived with the wrong payload`;
  if (measuringRemote && node !== 0) remote.push(now - sentAt[seq]);
  lastAt[seq] = now;
  if (++reached[seq] === p.clients) waiting.get(seq)?.();
}

const clients = [];
for (let i = 0; i < p.clients; i += p.concurrency) {
  const batch = [];
  for (let j = i; j < Math.min(i + p.concurrency, p.clients); j++) {
    const node = j % p.urls.length;
    let last = 0;
    batch.push(
      open(p.urls[node], (data) => {
        if (data?.s !== last + 1) failure ??= `client ${j}: expected broadcast ${last + 1}, got ${JSON.stringify(data).slice(0, 80)}`;
        last = data?.s ?? last;
        received(data?.s, node, data);
      }),
    );
  }
  clients.push(...(await Promise.all(batch)));
}
const trigger = await open(p.urls[0], () => {});

let seq = 0;
function broadcast() {
  const s = ++seq;
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broadcast ${s} reached ${reached[s]} of ${p.clients} clients within ${p.timeoutMs} ms`)), p.timeoutMs);
    waiting.set(s, () => {
      clearTimeout(timer);
      waiting.delete(s);
      resolve();
    });
  });
  sentAt[s] = performance.now();
  trigger.send({ s, p: p.payload });
  return done;
}

try {
  for (let i = 0; i < p.warmup; i++) await broadcast();

  measuringRemote = true;
  const ttld = [];
  for (let i = 0; i < p.count; i++) {
    const s = seq + 1;
    await broadcast();
    ttld.push(lastAt[s] - sentAt[s]);
  }
  measuringRemote = false;

  const first = seq + 1;
  await mark('start');
  const started = performance.now();
  const inFlight = new Set();
  for (let i = 0; i < p.count; i++) {
    if (inFlight.size >= p.window) await Promise.race(inFlight);
    const done = broadcast();
    inFlight.add(done);
    done.then(
      () => inFlight.delete(done),
      () => {},
    );
  }
  await Promise.all(inFlight);
  const wallMs = lastAt[seq] - started;
  await mark('end');
  if (failure) throw new Error(failure);

  ttld.sort((a, b) => a - b);
  remote.sort((a, b) => a - b);
  reply({
    type: 'result',
    ok: true,
    latency: { ttldP50: percentile(ttld, 50), ttldP99: percentile(ttld, 99), remoteP50: percentile(remote, 50), remoteP99: percentile(remote, 99) },
    throughput: { broadcastsPerSec: (p.count / wallMs) * 1000, deliveriesPerSec: ((p.count * p.clients) / wallMs) * 1000, first, last: seq },
  });
} catch (err) {
  reply({ type: 'result', ok: false, failure: failure ?? String(err?.message ?? err) });
} finally {
  for (const c of [...clients, trigger]) c.close();
  setTimeout(() => process.exit(0), 200);
}
