// Connections. "setup": open `count` connections, `concurrency` handshakes at a time, each proven
// with one verified echo, between two marks (the orchestrator samples server CPU at each).
// "idle": open them, report, and hold them idle until the orchestrator has measured the server's
// memory; a connection that drops meanwhile fails the run.
import { closeAll, connector, openMany } from './wire.mjs';
import { command, failureSignal, nowUs, run, send } from './common.mjs';

run(async (p) => {
  const open = await connector(p.target);
  if (p.mode === 'setup') {
    const startUs = nowUs();
    const startCpu = process.cpuUsage();
    send({ type: 'mark', name: 'start' });
    const conns = await openMany(open, p.count, p.concurrency);
    const endUs = nowUs();
    const cpu = process.cpuUsage(startCpu);
    send({ type: 'mark', name: 'end' });
    closeAll(conns);
    // The load generator's own CPU time: setups per second are wall-clock, so a client library
    // that costs more per handshake lowers them without costing the server anything.
    return { connections: conns.length, wallUs: endUs - startUs, clientCpuUs: cpu.user + cpu.system };
  }

  const conns = await openMany(open, p.count, p.concurrency);
  const failure = failureSignal();
  conns.forEach((conn, c) => {
    conn.onmessage = (json) => failure.fail(`idle connection ${c} received ${json.slice(0, 80)}`);
    conn.onclose = (reason) => failure.fail(`idle connection ${c}: ${reason}`);
  });
  send({ type: 'idle', connections: conns.length });
  await Promise.race([command('release'), failure.promise]);
  closeAll(conns);
  return { connections: conns.length };
});
