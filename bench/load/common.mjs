// What every load generator shares: its parameters arrive as one JSON argument, results and marks
// go to the orchestrator over IPC, and the process ends by itself (after its result, when the
// orchestrator disappears, or when its lifetime runs out).

/** Monotonic microseconds, on the same clock as the servers' `nowUs()`. */
export function nowUs() {
  return Number(process.hrtime.bigint() / 1000n);
}

export function send(msg) {
  if (process.connected) process.send(msg);
}

/** The next IPC command named `cmd` from the orchestrator. */
export function command(cmd) {
  return new Promise((resolve) => {
    const listener = (msg) => {
      if (msg?.cmd !== cmd) return;
      process.off('message', listener);
      resolve(msg);
    };
    process.on('message', listener);
  });
}

/** Percentile (0..100) of an already sorted numeric array, nearest-rank. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/**
 * Run a load generator: `main(params)` returns the result object. A thrown error or a rejected
 * promise becomes `{ ok: false, failure }`, which the orchestrator reports instead of a number.
 */
export function run(main) {
  const params = JSON.parse(process.argv[2]);
  setTimeout(() => {
    send({ type: 'result', ok: false, failure: `load generator exceeded its ${params.lifetimeMs} ms lifetime` });
    process.exit(3);
  }, params.lifetimeMs).unref();
  process.on('disconnect', () => process.exit(0));
  // A stop from the orchestrator ends the process wherever it is.
  process.on('message', (msg) => {
    if (msg?.cmd === 'stop') process.exit(0);
  });
  Promise.resolve()
    .then(() => main(params))
    .then(
      (result) => send({ type: 'result', ok: true, ...result }),
      (err) => send({ type: 'result', ok: false, failure: String(err?.message ?? err) }),
    )
    .finally(() => {
      // Let the IPC message flush, then leave even if sockets are still closing.
      setTimeout(() => process.exit(0), 200);
    });
}

/**
 * A failure that any connection can raise at any time; `promise` rejects with the first one.
 * Scenarios race their work against it so that a lost or corrupted message stops the run.
 */
export function failureSignal() {
  let fail;
  const promise = new Promise((_, reject) => {
    fail = (reason) => reject(new Error(reason));
  });
  promise.catch(() => {});
  return { promise, fail };
}
