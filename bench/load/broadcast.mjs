// Broadcast fan-out: `clients` connections receive `count` broadcasts. The orchestrator asks the
// server for broadcast n+1 once every client has n ("delivered"), so each broadcast's time to last
// delivery is measured on its own. Every client must see every sequence number, in order, with
// the exact payload.
import { closeAll, connector, openMany } from './wire.mjs';
import { failureSignal, nowUs, percentile, run, send } from './common.mjs';

run(async (p) => {
  const open = await connector(p.target);
  const conns = await openMany(open, p.clients, p.concurrency);
  const failure = failureSignal();
  const received = new Uint32Array(p.count + 1);
  const ttld = new Array(p.count).fill(NaN);
  let firstSendUs = 0;
  let lastDeliveryUs = 0;
  let finished;
  const allDelivered = new Promise((resolve) => (finished = resolve));

  conns.forEach((conn, c) => {
    let last = 0;
    conn.onmessage = (json) => {
      const now = nowUs();
      let message;
      try {
        message = JSON.parse(json);
      } catch {
        failure.fail(`client ${c}: undecodable broadcast ${json.slice(0, 80)}`);
        return;
      }
      if (message.s !== last + 1 || message.p !== p.payload) {
        failure.fail(`client ${c}: expected broadcast ${last + 1}, got ${json.slice(0, 80)}`);
        return;
      }
      last = message.s;
      if (message.s === 1 && received[1] === 0) firstSendUs = message.t;
      if (++received[message.s] === p.clients) {
        ttld[message.s - 1] = now - message.t;
        lastDeliveryUs = now;
        send({ type: 'delivered', seq: message.s });
        if (message.s === p.count) finished();
      }
    };
    conn.onclose = (reason) => failure.fail(`client ${c}: ${reason}`);
  });

  // On a timeout the orchestrator asks how far the stuck broadcast got, for the failure message.
  process.on('message', (msg) => {
    if (msg?.cmd === 'status') send({ type: 'status', seq: msg.seq, reached: received[msg.seq] ?? 0, of: p.clients });
  });
  const startCpu = process.cpuUsage();
  const readyUs = nowUs();
  send({ type: 'ready' });
  await Promise.race([allDelivered, failure.promise]);
  const cpu = process.cpuUsage(startCpu);
  const doneUs = nowUs();
  closeAll(conns);

  const sorted = [...ttld].sort((a, b) => a - b);
  return {
    deliveries: p.count * p.clients,
    wallUs: lastDeliveryUs - firstSendUs,
    // The load generator's CPU time and wall time from ready to the last delivery: what
    // receiving cost the clients, and whether they kept up.
    clientCpuUs: cpu.user + cpu.system,
    clientWallUs: doneUs - readyUs,
    ttld: { p50Us: percentile(sorted, 50), p99Us: percentile(sorted, 99), maxUs: sorted[sorted.length - 1] },
  };
});
