// The soak's clients: real @primus/client sockets (`Primus.createSocket({ transformer })`, the Node
// client users run), in a process of their own so the server's memory is measured alone.
//
// Parameters (one JSON argument): { transformer, port, ping, pong, lifetimeMs }.
// Commands:
// - `open`    ({ count, concurrency }): open `count` clients, each proven with one echo, and keep
//             them; from then on a client that closes counts as dropped.
// - `hold`    ({ ms }): count every client's heartbeats (pongs received) for `ms`, then report the
//             fewest and most any client got, the drops and errors, and this process's memory.
// - `release` : end every held client.
// - `cycles`  ({ count, concurrency }): `count` times connect, echo once, end; `concurrency` at once.
// - `memory`  : this process's memory after full GCs, and its open file descriptors.
import { collectedMemory, die, fileLimit, importCore, importTransformer, openFiles, send, serveCommands, start } from './common.mjs';

const params = start();

/** How long one handshake plus its echo may take on a loaded machine before the run fails. */
const STEP_TIMEOUT_MS = 60_000;

try {
  const { Primus } = await importCore();
  const transformer = await importTransformer(params.transformer);
  const Socket = Primus.createSocket({ transformer });
  const url = `http://127.0.0.1:${params.port}`;
  const options = {
    ping: params.ping,
    pong: params.pong,
    // A lost connection must show up as a failure, not be repaired behind the test's back.
    strategy: false,
    timeout: STEP_TIMEOUT_MS,
  };

  /**
   * Open one client and prove it with one echo. Resolves with the socket once the echo is back;
   * rejects on an error, an early end, a corrupted echo or a timeout.
   */
  function connect(index) {
    return new Promise((resolve, reject) => {
      const socket = new Socket(url, options);
      const message = { c: index, p: 'soak' };
      const timer = setTimeout(() => fail(new Error(`client ${index}: no echo within ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS);
      function fail(err) {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      }
      socket.on('error', (err) => fail(new Error(`client ${index}: ${err?.message ?? err}`)));
      socket.on('end', () => fail(new Error(`client ${index}: ended before its echo`)));
      socket.on('open', () => socket.write(message));
      socket.on('data', (data) => {
        clearTimeout(timer);
        socket.removeAllListeners('end');
        socket.removeAllListeners('error');
        socket.removeAllListeners('data');
        if (data?.c !== index || data?.p !== 'soak') fail(new Error(`client ${index}: echo corrupted: ${JSON.stringify(data).slice(0, 80)}`));
        else resolve(socket);
      });
    });
  }

  /** Run `task(i)` for i in 0..count-1, at most `concurrency` at a time; stops at the first failure. */
  async function pool(count, concurrency, task) {
    let next = 0;
    let failure = null;
    async function worker() {
      while (next < count && !failure) {
        const index = next++;
        try {
          await task(index);
        } catch (err) {
          failure ??= err;
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    if (failure) throw failure;
  }

  const held = [];
  const pongs = [];
  let dropped = 0;
  let errors = 0;
  // Set while `release` ends the held clients, whose `end` is then no drop.
  let releasing = false;

  serveCommands({
    async open({ count, concurrency }) {
      const started = Date.now();
      await pool(count, concurrency, async (index) => {
        const socket = await connect(index);
        held[index] = socket;
        pongs[index] = 0;
        socket.on('incoming::pong', () => pongs[index]++);
        socket.on('error', () => errors++);
        socket.on('end', () => {
          if (!releasing) dropped++;
        });
      });
      return { opened: held.length, wallMs: Date.now() - started, fds: openFiles() };
    },

    async hold({ ms }) {
      pongs.fill(0);
      const droppedBefore = dropped;
      const errorsBefore = errors;
      await new Promise((resolve) => setTimeout(resolve, ms));
      let min = Infinity;
      let max = 0;
      let total = 0;
      for (const n of pongs) {
        min = Math.min(min, n);
        max = Math.max(max, n);
        total += n;
      }
      return {
        pongs: { min, max, total },
        dropped: dropped - droppedBefore,
        errors: errors - errorsBefore,
        mem: await collectedMemory(),
      };
    },

    async release() {
      releasing = true;
      for (const socket of held) socket.end();
      const released = held.length;
      held.length = 0;
      pongs.length = 0;
      releasing = false;
      return { released };
    },

    async cycles({ count, concurrency }) {
      const started = Date.now();
      await pool(count, concurrency, async (index) => {
        const socket = await connect(index);
        socket.end();
      });
      return { cycles: count, wallMs: Date.now() - started };
    },

    async memory() {
      return { mem: await collectedMemory(), fds: openFiles() };
    },
  });
  send({ type: 'ready', pid: process.pid, fileLimit: fileLimit(), fds: openFiles() });
} catch (err) {
  die(err);
}
