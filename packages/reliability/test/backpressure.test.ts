import { writeFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import type { SparkSocket, Transformer } from '@primus/core';
import { once, waitFor } from '@primus/transformer-test-suite';
import browserchannel from '@primus/transformer-browserchannel';
import engineio from '@primus/transformer-engineio';
import faye from '@primus/transformer-faye';
import socketio from '@primus/transformer-socketio';
import sockjs from '@primus/transformer-sockjs';
import websockets from '@primus/transformer-ws';
import { quietPeriod, Stack, throughProxy } from './scenarios';

// A client that stops reading, per transformer and transport: write() turns false past
// highWaterMark, what the connection holds stays flat while the application waits, drain comes
// once the client reads again, and every message arrives once, in order.
// RELIABILITY_REPORT_BACKPRESSURE=<file> writes what each case measured as JSON.

/** One transformer, pinned to one of its transports where it has several. */
interface Case {
  name: string;
  transformer: Transformer;
  /** Client options that pick the transport. */
  client?: Record<string, unknown>;
}

const pin = (...transports: string[]): Record<string, unknown> => ({ transport: { transports } });

// Every transformer that measures what it holds for a client, over each transport a Node client
// can be pinned to. Not here:
// - lws: its transformer does not report a buffer, so its write() is always true.
// - engine.io's JSONP polling, socket.io's htmlfile and jsonp-polling, sockjs's eventsource,
//   htmlfile and jsonp transports: Node clients do not use them. On the server they share the
//   polling or streaming code path of a transport that is here.
const cases: Case[] = [
  { name: 'websockets', transformer: websockets },
  { name: 'faye', transformer: faye },
  { name: 'engine.io over WebSocket', transformer: engineio, client: pin('websocket') },
  { name: 'engine.io over long-polling', transformer: engineio, client: pin('polling') },
  { name: 'sockjs over WebSocket', transformer: sockjs, client: pin('websocket') },
  { name: 'sockjs over xhr-streaming', transformer: sockjs, client: pin('xhr-streaming') },
  { name: 'sockjs over xhr-polling', transformer: sockjs, client: pin('xhr-polling') },
  { name: 'socket.io over WebSocket', transformer: socketio, client: pin('websocket') },
  { name: 'socket.io over xhr-polling', transformer: socketio, client: pin('xhr-polling') },
  { name: 'browserchannel', transformer: browserchannel },
];

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

const measured: Measured[] = [];

afterAll(() => {
  const file = process.env.RELIABILITY_REPORT_BACKPRESSURE;
  if (file) writeFileSync(file, JSON.stringify(measured, null, 2) + '\n');
});

describe.each(cases)('slow consumer back-pressure: $name', ({ name, transformer, client }) => {
  const stack = new Stack();
  afterEach(() => stack.dispose());

  it('write() turns false past highWaterMark, the buffer stops growing, drain follows the recovery, nothing is lost', async () => {
    const { proxy, socket, spark } = await throughProxy(transformer, { ping: false, ...client }, stack, { highWaterMark: HIGH_WATER_MARK });
    const received: number[] = [];
    socket.on('data', (data: string) => received.push(Number.parseInt(data, 10)));
    let drains = 0;
    spark.on('drain', () => drains++);
    const buffered = (): number => (spark.socket as SparkSocket).bufferedAmount ?? 0;
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

describe('highWaterMark', () => {
  const stack = new Stack();
  afterEach(() => stack.dispose());

  it('rejects a highWaterMark that is not an integer of at least 16 KiB, naming the option', async () => {
    await expect(throughProxy(websockets, {}, stack, { highWaterMark: 0 })).rejects.toThrow(/highWaterMark/);
    // Below a Node socket's own mark no 'drain' would ever follow a false write().
    await expect(throughProxy(websockets, {}, stack, { highWaterMark: 16383 })).rejects.toThrow(/highWaterMark.*16384/);
  });
});
