// Echo load: `clients` connections, each keeping `window` messages in flight (throughput), or
// one at a time (latency, window 1). Every reply must be the exact text that was sent, in order;
// anything else, and any message still missing after the drain, fails the run.
//
// Timeline: warm-up, mark "start", measure, mark "end", drain. The orchestrator samples the
// server's CPU time at each mark, so echoes between the marks divide by server CPU-seconds. The
// load generator's own CPU time between the marks is reported too: where the server is far from
// saturated, it shows whether the client side (a client library, for transformers other than
// websockets) was what limited the rate.
import { closeAll, connector, openMany } from './wire.mjs';
import { failureSignal, nowUs, percentile, run, send } from './common.mjs';

const DRAIN_TIMEOUT_MS = 10_000;

function within(promise, ms, failure) {
  let timer;
  return Promise.race([
    promise,
    failure.promise,
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

run(async (p) => {
  const open = await connector(p.target);
  const conns = await openMany(open, p.clients, p.concurrency);
  const failure = failureSignal();
  const latency = p.mode === 'latency';
  const window = latency ? 1 : p.window;
  const payload = JSON.stringify(p.payload);
  const rtts = [];
  let sending = true;
  let measuring = false;
  let echoed = 0;
  let outstanding = 0;
  let drained;
  const allDrained = new Promise((resolve) => (drained = resolve));

  conns.forEach((conn, c) => {
    // Texts sent and not yet echoed, oldest first; `head` is the next one expected back.
    let pending = [];
    let sentAt = [];
    let head = 0;
    let seq = 0;
    const prefix = `{"c":${c},"s":`;
    const suffix = `,"p":${payload}}`;
    const sendOne = () => {
      const json = prefix + ++seq + suffix;
      pending.push(json);
      if (latency) sentAt.push(nowUs());
      outstanding++;
      conn.send(json);
    };
    conn.onmessage = (json) => {
      const expected = pending[head];
      if (json !== expected) {
        failure.fail(
          expected === undefined
            ? `client ${c}: a message nobody sent arrived: ${json.slice(0, 80)}`
            : `client ${c}: expected ${expected.slice(0, 60)}..., got ${json.slice(0, 60)}...`,
        );
        return;
      }
      if (latency && measuring) rtts.push(nowUs() - sentAt[head]);
      head++;
      if (head >= 4096) {
        pending = pending.slice(head);
        sentAt = latency ? sentAt.slice(head) : sentAt;
        head = 0;
      }
      outstanding--;
      echoed++;
      if (sending) sendOne();
      else if (outstanding === 0) drained();
    };
    conn.onclose = (reason) => failure.fail(`client ${c}: ${reason}`);
    for (let i = 0; i < window; i++) sendOne();
  });

  await within(new Promise(() => {}), p.warmupMs, failure);
  const startCount = echoed;
  const startUs = nowUs();
  const startCpu = process.cpuUsage();
  send({ type: 'mark', name: 'start' });
  measuring = true;
  await within(new Promise(() => {}), p.measureMs, failure);
  const endCount = echoed;
  const endUs = nowUs();
  const cpu = process.cpuUsage(startCpu);
  send({ type: 'mark', name: 'end' });
  measuring = false;
  sending = false;

  if (outstanding > 0) {
    const lost = await within(
      allDrained.then(() => false),
      DRAIN_TIMEOUT_MS,
      failure,
    ).then((v) => v ?? true);
    if (lost) throw new Error(`${outstanding} messages were never echoed (waited ${DRAIN_TIMEOUT_MS} ms)`);
  }
  closeAll(conns);

  const result = { echoes: endCount - startCount, wallUs: endUs - startUs, clientCpuUs: cpu.user + cpu.system, verified: echoed };
  if (latency) {
    rtts.sort((a, b) => a - b);
    result.rtt = { samples: rtts.length, p50Us: percentile(rtts, 50), p99Us: percentile(rtts, 99), p999Us: percentile(rtts, 99.9), maxUs: rtts[rtts.length - 1] };
  }
  return result;
});
