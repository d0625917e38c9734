// Interleaved round trip: one load generator holds `clients` connections to each of several
// servers, all running at once, and drives one server at a time in short slices, in the order
// the orchestrator's schedule gives. A machine stall then falls on whichever server is being
// measured at that moment, and over many slices in shuffled order on each of them alike.
//
// Within a slice every client of the measured server keeps one message in flight (as the latency
// scenario does); the clients of the other servers send nothing, so those servers only have their
// heartbeat to do. A slice ends by sending no new message once `sliceMs` has passed and waiting
// until every message in flight has come back, so the next slice starts with nothing left over.
// A round trip counts for the slice when its message was sent after the slice's first
// `sliceWarmupMs` (the connections have been idle since their previous slice); it counts however
// long it takes to come back, so a stall at the end of a slice is not cut off.
//
// Before the first slice, `warmupSlices` unrecorded slices of every server warm up the servers,
// the clients and the JIT. Every reply must be the exact text that was sent, in order.
import { connector, closeAll, openMany } from './wire.mjs';
import { failureSignal, nowUs, percentile, run } from './common.mjs';

const DRAIN_TIMEOUT_MS = 10_000;

/** Histogram buckets grow by this factor: 0.5% wide, far finer than the differences to decide. */
const BUCKET_BASE = 1.005;
const LOG_BASE = Math.log(BUCKET_BASE);

function bucket(us) {
  return Math.max(0, Math.floor(Math.log(Math.max(us, 1)) / LOG_BASE));
}

/** The clients of one server and the slice they are in. */
function group(conns, index, payload, failure) {
  const slice = { active: false, stopAtUs: 0, recordFromUs: 0, rtts: [], outstanding: 0, drained: null };
  const quoted = JSON.stringify(payload);
  const clients = conns.map((conn, c) => {
    let pending = [];
    let sentAt = [];
    let head = 0;
    let seq = 0;
    const prefix = `{"c":${c},"s":`;
    const suffix = `,"p":${quoted}}`;
    const sendOne = () => {
      const json = prefix + ++seq + suffix;
      pending.push(json);
      sentAt.push(nowUs());
      slice.outstanding++;
      conn.send(json);
    };
    conn.onmessage = (json) => {
      const now = nowUs();
      const expected = pending[head];
      if (json !== expected) {
        failure.fail(
          expected === undefined
            ? `server ${index} client ${c}: a message nobody sent arrived: ${json.slice(0, 80)}`
            : `server ${index} client ${c}: expected ${expected.slice(0, 60)}..., got ${json.slice(0, 60)}...`,
        );
        return;
      }
      const sent = sentAt[head];
      if (sent >= slice.recordFromUs) slice.rtts.push(now - sent);
      head++;
      if (head >= 4096) {
        pending = pending.slice(head);
        sentAt = sentAt.slice(head);
        head = 0;
      }
      slice.outstanding--;
      if (slice.active && now < slice.stopAtUs) sendOne();
      else if (slice.outstanding === 0) slice.drained?.();
    };
    conn.onclose = (reason) => failure.fail(`server ${index} client ${c}: ${reason}`);
    return { sendOne };
  });

  /** One slice: every client sends for `ms`, then the slice drains. */
  async function runSlice(ms, warmMs, record) {
    const rtts = [];
    slice.rtts = rtts;
    const start = nowUs();
    slice.recordFromUs = record ? start + warmMs * 1000 : Infinity;
    slice.stopAtUs = start + ms * 1000;
    slice.active = true;
    const cpuBefore = process.cpuUsage();
    const drained = new Promise((resolve) => (slice.drained = resolve));
    for (const client of clients) client.sendOne();
    // The slice ends when its time is up (checked on every reply) and nothing is in flight.
    let timer;
    const timedOut = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms + DRAIN_TIMEOUT_MS);
    });
    const outcome = await Promise.race([drained, timedOut, failure.promise]).finally(() => clearTimeout(timer));
    slice.active = false;
    slice.drained = null;
    if (outcome === 'timeout') throw new Error(`server ${index}: ${slice.outstanding} messages were never echoed (waited ${DRAIN_TIMEOUT_MS} ms after the slice)`);
    const cpu = process.cpuUsage(cpuBefore);
    const wallUs = nowUs() - start;
    if (!record) return null;
    rtts.sort((a, b) => a - b);
    const hist = new Map();
    for (const rtt of rtts) {
      const b = bucket(rtt);
      hist.set(b, (hist.get(b) ?? 0) + 1);
    }
    return {
      server: index,
      samples: rtts.length,
      p50Us: percentile(rtts, 50),
      p99Us: percentile(rtts, 99),
      maxUs: rtts[rtts.length - 1] ?? NaN,
      wallUs,
      clientCpuUs: cpu.user + cpu.system,
      hist: [...hist.entries()].sort((a, b) => a[0] - b[0]),
    };
  }

  return { runSlice };
}

run(async (p) => {
  const failure = failureSignal();
  const groups = [];
  const all = [];
  for (const [index, target] of p.targets.entries()) {
    const open = await connector(target);
    const conns = await openMany(open, p.clients, p.concurrency);
    all.push(...conns);
    groups.push(group(conns, index, p.payload, failure));
  }
  try {
    for (let w = 0; w < p.warmupSlices; w++) {
      for (const g of groups) await g.runSlice(p.sliceMs, 0, false);
    }
    const slices = [];
    for (const [k, index] of p.schedule.entries()) {
      const slice = await groups[index].runSlice(p.sliceMs, p.sliceWarmupMs, true);
      slices.push({ k, ...slice });
    }
    return { bucketBase: BUCKET_BASE, slices };
  } finally {
    closeAll(all);
  }
});
