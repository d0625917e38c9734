import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import type { Transformer } from '@primus/core';
import { notSupported, report } from './capability';
import { once, waitFor } from './harness';
import { probe } from './probe';
import { quietPeriod, Stack, throughProxy } from './scenarios';

// A client that stops reading, over each transport: write() turns false past highWaterMark, what
// the connection holds stays flat while the application waits, drain comes once the client reads
// again, and every message arrives once, in order.
// RELIABILITY_REPORT_BACKPRESSURE=<file> writes what each case measured as JSON.

/** A transport of the transformer, pinned by client options where it has several. */
export interface BackPressureTransport {
  /** Shown in the test title, e.g. `engine.io over long-polling`. */
  name: string;
  /** Client options that pick the transport, e.g. `{ transport: { transports: ['polling'] } }`. */
  client?: Record<string, unknown>;
}

/** What the back-pressure suite needs to know about a transformer. */
export interface BackPressureCapabilities {
  /**
   * The transformer reports what each connection holds (`bufferedAmount`, or `send()` returning
   * false) and calls the sink's `drain()` once it is below `highWaterMark` again. @default true
   */
  backPressure?: boolean;
}

/** Options of the back-pressure suite. */
export interface BackPressureSuiteOptions {
  transformer: Transformer;
  capabilities?: BackPressureCapabilities;
  /** Every transport a Node client can be pinned to. @default one case, the client's default transport */
  transports?: BackPressureTransport[];
}

const HIGH_WATER_MARK = 256 * 1024;
const CHUNK = 16 * 1024;
// Kernel buffers on loopback take a few MB before a WebSocket's own buffer holds anything;
// 4096 chunks (64 MB) bounds the loop.
const LIMIT = 4096;

/** Message `n`: its number, padded to one chunk, so the client can check the order. */
const message = (n: number): string => `${n} `.padEnd(CHUNK, 'x');

/** What one case measured. */
interface Measured {
  case: string;
  /** Messages written before the stall (the client kept up with the first 2 × highWaterMark). */
  writtenUntilStall: number;
  /** Drains that came while corked, before the stall (kernel buffers filling, batched writes). */
  drainsWhileCorked: number;
  /** `bufferedAmount` when write() last returned false. */
  bufferedAtFalse: number;
  /** `bufferedAmount` after the application held off for a while. */
  bufferedAfterHoldingOff: number;
  /** `bufferedAmount` when drain came after the client read again. */
  bufferedAtDrain: number;
  delivered: number;
}

/**
 * Slow consumers: a fault proxy stops the client from reading, and the suite checks what the
 * application sees (write() false past `highWaterMark`, a bounded buffer, one `drain` after the
 * client recovers, every message delivered once, in order).
 */
export function backPressureSuite(options: BackPressureSuiteOptions): void {
  const { transformer: original } = options;
  const probed = probe(original);
  const transformer = probed.transformer;
  const cases = (options.transports ?? [{ name: original.name }]).map((t) => ({ ...t, transformer }));
  const measured: Measured[] = [];
  afterAll(() => report('RELIABILITY_REPORT_BACKPRESSURE', `back-pressure: ${original.name}`, measured));

  if (options.capabilities?.backPressure === false) {
    describe(`slow consumer back-pressure: ${original.name}`, () => {
      const stack = new Stack();
      afterEach(() => stack.dispose());
      notSupported(
        'back-pressure',
        original.name,
        'backPressure',
        false,
        async () => {
          // A transformer without back-pressure reports no buffer, and write() stays true however
          // much a stalled client is behind.
          const { proxy, socket, spark } = await throughProxy(transformer, { ping: false }, stack, { highWaterMark: HIGH_WATER_MARK });
          const received: number[] = [];
          socket.on('data', (data: string) => received.push(Number.parseInt(data, 10)));
          proxy.cork('down');
          const count = (2 * HIGH_WATER_MARK) / CHUNK + 1;
          const results = Array.from({ length: count }, (_, n) => spark.write(message(n)));
          expect(results.every((accepted) => accepted)).toBe(true);
          expect(probed.socketOf(spark.id)?.bufferedAmount).toBeUndefined();
          proxy.uncork('down');
          await waitFor(() => received.length === count, 20_000, `${count} messages at the client`);
        },
        60_000,
      );
    });
    return;
  }

  describe.each(cases)('slow consumer back-pressure: $name', ({ name, transformer, client }) => {
    const stack = new Stack();
    afterEach(() => stack.dispose());

    it('write() turns false past highWaterMark, the buffer stops growing, drain follows the recovery, nothing is lost', async () => {
      const { proxy, socket, spark } = await throughProxy(transformer, { ping: false, ...client }, stack, { highWaterMark: HIGH_WATER_MARK });
      const received: number[] = [];
      socket.on('data', (data: string) => received.push(Number.parseInt(data, 10)));
      let drains = 0;
      spark.on('drain', () => drains++);
      const buffered = (): number => probed.socketOf(spark.id)?.bufferedAmount ?? 0;
      let written = 0;

      // A client that keeps up is not slow, even over polling where it is between two polls at
      // every write: twice the mark, one message at a time, and write() stays true.
      while (written < (2 * HIGH_WATER_MARK) / CHUNK) {
        expect(spark.write(message(written++))).toBe(true);
        await waitFor(() => received.length === written, 20_000, `message ${written - 1} at the client`);
      }
      const warmUp = written;

      // The client stops reading: nothing flows from the server toward it. The application writes
      // until write() says false and then waits for drain, as it should. A drain can still come
      // while the kernel's socket buffers fill up, or where the framework writes one batch at a
      // time (engine.io over WebSocket holds a burst until the previous batch is out); the stall is
      // reached once no drain follows a false.
      proxy.cork('down');
      let atFalse = 0;
      for (;;) {
        let accepted = true;
        while (accepted && written < LIMIT) accepted = spark.write(message(written++));
        expect(accepted).toBe(false);
        atFalse = buffered();
        expect(atFalse).toBeGreaterThan(HIGH_WATER_MARK);
        expect(atFalse).toBeLessThan(HIGH_WATER_MARK + 2 * CHUNK);
        const drained = await once(spark, 'drain', 500).then(
          () => true,
          () => false,
        );
        if (!drained) break;
      }
      const drainsWhileCorked = drains;
      const writtenUntilStall = written - warmUp;

      // The application respects write() = false; prove for a while that the buffer holds still and
      // that no drain comes while the client is stalled. Polling sessions expire after a few
      // seconds without a poll (sockjs: 5 s), so the stall stays short.
      await quietPeriod(500);
      const bufferedAfterHoldingOff = buffered();
      expect(bufferedAfterHoldingOff).toBe(atFalse);
      expect(drains).toBe(drainsWhileCorked);
      expect(spark.write(message(written++))).toBe(false);

      // The client reads again: drain fires, writing works, and every message arrives once, in order.
      const drained = once(spark, 'drain', 20_000);
      proxy.uncork('down');
      await drained;
      const bufferedAtDrain = buffered();
      expect(bufferedAtDrain).toBeLessThanOrEqual(HIGH_WATER_MARK);
      expect(spark.write(message(written++))).toBe(true);
      await waitFor(() => received.length >= written, 20_000, `${written} messages at the client`);
      expect(received).toEqual(Array.from({ length: written }, (_, n) => n));
      expect(drains).toBe(drainsWhileCorked + 1);
      measured.push({ case: name, writtenUntilStall, drainsWhileCorked, bufferedAtFalse: atFalse, bufferedAfterHoldingOff, bufferedAtDrain, delivered: received.length });
    }, 60_000);
  });
}
