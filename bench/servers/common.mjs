// The part every benchmark server shares: it reports its port, CPU time and memory to the
// orchestrator over IPC, broadcasts on request, and exits by itself when the orchestrator goes
// away or its lifetime runs out.

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
        // process.exit() still writes a --cpu-prof profile.
        process.exit(0);
        break;
      default:
        send({ type: 'fatal', error: `unknown command ${JSON.stringify(msg)}` });
    }
  });
  send({ type: 'ready', port: app.port, pid: process.pid });
}

/** Listen on 127.0.0.1 with an OS-chosen port and return it. */
export function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}
