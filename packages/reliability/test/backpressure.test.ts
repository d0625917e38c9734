import { afterEach, describe, expect, it } from '@jest/globals';
import type { SparkSocket } from '@primus/core';
import { once, waitFor } from '@primus/transformer-test-suite';
import websockets from '@primus/transformer-ws';
import { quietPeriod, Stack, throughProxy } from './scenarios';

// Only the websockets transformer measures its buffer; the others accept every write (their
// SparkSocket.send returns nothing), so write() stays true there and this suite does not apply.
describe('slow consumer back-pressure over websockets', () => {
  const stack = new Stack();
  afterEach(() => stack.dispose());

  it('write() turns false past highWaterMark, the buffer stops growing, drain follows the recovery', async () => {
    const highWaterMark = 256 * 1024;
    const { proxy, socket, spark } = await throughProxy(websockets, { ping: false }, stack, { highWaterMark });
    let received = 0;
    socket.on('data', () => received++);
    let drains = 0;
    spark.on('drain', () => drains++);
    const buffered = (): number => (spark.socket as SparkSocket).bufferedAmount ?? 0;

    // The client stops reading: nothing flows from the server toward it.
    proxy.cork('down');
    const chunk = 'x'.repeat(16 * 1024);
    let written = 0;
    // Kernel buffers on loopback take a few MB before ws queues anything; 4096 chunks (64 MB) bounds it.
    while (written < 4096) {
      written++;
      if (!spark.write(chunk)) break;
    }
    expect(written).toBeLessThan(4096);
    const atFalse = buffered();
    expect(atFalse).toBeGreaterThan(highWaterMark);
    expect(atFalse).toBeLessThan(highWaterMark + 2 * chunk.length);

    // The application respects write() = false; prove for a while that the buffer holds still and
    // that no drain comes while the client is stalled.
    await quietPeriod(500);
    expect(buffered()).toBe(atFalse);
    expect(drains).toBe(0);
    expect(spark.write(chunk)).toBe(false);
    written++;

    // The client reads again: drain fires and every message arrives.
    const drained = once(spark, 'drain', 20_000);
    proxy.uncork('down');
    await drained;
    expect(buffered()).toBeLessThanOrEqual(highWaterMark);
    expect(spark.write(chunk)).toBe(true);
    written++;
    await waitFor(() => received === written, 20_000, `${written} messages at the client`);
  }, 40_000);

  it('rejects a highWaterMark that is not a positive integer', async () => {
    await expect(throughProxy(websockets, {}, stack, { highWaterMark: 0 })).rejects.toThrow(/highWaterMark/);
  });
});
