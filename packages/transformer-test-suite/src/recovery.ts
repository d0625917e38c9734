import { afterEach, describe, expect, it } from '@jest/globals';
import type { PrimusClient } from '@primus/client';
import type { Spark, Transformer } from '@primus/core';
import { once, waitFor } from './harness';
import { Stack, throughProxy } from './scenarios';

/** Options of the recovery suite. */
export interface RecoverySuiteOptions {
  transformer: Transformer;
  /** Numbered messages sent in each direction. @default 10000 */
  messages?: number;
  /** How many times the link is cut mid-stream. @default 4 */
  cuts?: number;
  /** Per-test timeout in ms, for slow transports. @default 120000 */
  timeout?: number;
}

/** What one run saw. */
export interface RecoveryRun {
  /** Numbers the client received, in arrival order. */
  client: number[];
  /** Numbers the server received, in arrival order. */
  server: number[];
  /** `connection` events on the server. */
  connections: number;
  /** Distinct spark ids the server saw. */
  sparkIds: number;
  /** `recovered` events: on the server, on the client. */
  recovered: { server: number; client: number };
  /** Times the client's connection closed (the cuts that took). */
  closes: number;
}

const DONE = 'done';

/**
 * Both sides write `messages` numbered messages, in chunks, while the link through the fault proxy
 * is cut `cuts` times mid-stream (in-flight messages are lost to the socket, and each side keeps
 * writing while the other is away). The application code is the same with recovery on and off:
 * the server writes to the spark of the latest `connection`, the client writes whatever its
 * state. A final marker each way (written after the numbers) says when a side has everything it
 * will get.
 */
export async function recoveryRun(transformer: Transformer, recovery: boolean, messages: number, cuts: number, stack: Stack): Promise<RecoveryRun> {
  const {
    server,
    proxy,
    socket,
    spark: first,
  } = await throughProxy(transformer, { ping: 1000, pong: 2000, reconnect: { min: 20, max: 200, retries: 1000, 'reconnect timeout': 5000 } }, stack, { recovery });
  const primus = server.primus;
  const run: RecoveryRun = { client: [], server: [], connections: 1, sparkIds: 1, recovered: { server: 0, client: 0 }, closes: 0 };
  const ids = new Set([first.id]);
  let current: Spark = first;
  let serverDone = false;
  let clientDone = false;
  const listen = (spark: Spark): void => {
    spark.on('data', (data: unknown) => {
      if (data === DONE) {
        serverDone = true;
        current.write(DONE);
      } else run.server.push(data as number);
    });
  };
  listen(first);
  primus.on('connection', (spark: Spark) => {
    run.connections++;
    ids.add(spark.id);
    current = spark;
    listen(spark);
  });
  primus.on('recovered', () => run.recovered.server++);
  socket.on('data', (data: unknown) => {
    if (data === DONE) clientDone = true;
    else run.client.push(data as number);
  });
  socket.on('recovered', () => run.recovered.client++);
  socket.on('close', () => run.closes++);

  const chunk = 50;
  const chunks = Math.ceil(messages / chunk);
  const cutAt = new Set(Array.from({ length: cuts }, (_, i) => Math.floor(((i + 1) * chunks) / (cuts + 1))));
  let next = 1;
  const writeChunk = (): void => {
    const end = Math.min(messages, next + chunk - 1);
    for (; next <= end;) {
      const n = next++;
      current.write(n);
      socket.write(n);
    }
  };
  for (let c = 0; c < chunks; c++) {
    writeChunk();
    if (cutAt.has(c)) {
      // Cut right after writing, so messages are in flight; keep writing while the link is down.
      await waitFor(() => socket.readyState === 3, 30_000, 'the client to be open before a cut');
      const closed = run.closes;
      proxy.setMode('cut');
      await waitFor(() => run.closes > closed, 15_000, 'the client to notice the cut');
      writeChunk();
      proxy.setMode('pass');
    } else if (c % 4 === 0) {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  await waitFor(() => socket.readyState === 3, 30_000, 'the client to be open after the last cut');
  socket.write(DONE);
  await waitFor(() => serverDone && clientDone, 60_000, 'the final markers');
  run.sparkIds = ids.size;
  return run;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/**
 * Connection-state recovery over a transformer: 10,000 numbered messages each way through the
 * fault proxy with the link cut several times mid-stream arrive exactly once and in order on both
 * sides, on one spark; the same run with recovery off loses messages, which is what proves the
 * mechanism.
 */
export function recoverySuite(options: RecoverySuiteOptions): void {
  const { transformer } = options;
  const messages = options.messages ?? 10_000;
  const cuts = options.cuts ?? 4;
  const timeout = options.timeout ?? 120_000;

  describe(`connection-state recovery over ${transformer.name}`, () => {
    const stack = new Stack();
    afterEach(() => stack.dispose());

    it(
      `recovery on: ${messages} messages each way, ${cuts} cuts, every one exactly once and in order, on one spark`,
      async () => {
        const run = await recoveryRun(transformer, true, messages, cuts, stack);
        expect(run.closes).toBeGreaterThanOrEqual(cuts);
        expect(run.client).toEqual(range(messages));
        expect(run.server).toEqual(range(messages));
        expect(run.connections).toBe(1);
        expect(run.sparkIds).toBe(1);
        expect(run.recovered.server).toBeGreaterThanOrEqual(cuts);
        // A polling transport may lose the answer itself to the next cut; the client then resumes
        // on a later connection, so it can count fewer recoveries than the server.
        expect(run.recovered.client).toBeGreaterThanOrEqual(1);
        expect(run.recovered.client).toBeLessThanOrEqual(run.recovered.server);
      },
      timeout,
    );

    it(
      `recovery off: the same run loses messages`,
      async () => {
        const run = await recoveryRun(transformer, false, messages, cuts, stack);
        expect(run.closes).toBeGreaterThanOrEqual(cuts);
        expect(run.connections).toBeGreaterThan(1);
        const distinct = new Set(run.client).size + new Set(run.server).size;
        expect(distinct).toBeLessThan(2 * messages);
      },
      timeout,
    );
  });
}

/** Wait for a client's `recovered` or `recovery failed`, whichever comes first. */
export function recoveryOutcome(client: PrimusClient, ms = 15_000): Promise<'recovered' | 'unknown' | 'overflow'> {
  return Promise.race([once(client, 'recovered', ms).then(() => 'recovered' as const), once<['unknown' | 'overflow']>(client, 'recovery failed', ms).then(([reason]) => reason)]);
}
