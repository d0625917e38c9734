import { describe, expect, it } from '@jest/globals';
import type { Spark, Transformer } from '@primus/core';
import type { ClientOptions, PrimusClient } from '@primus/client';
import { notSupported } from './capability';
import { nextSpark, nextUpgradeWrites, once, waitFor, type TestServer, type UpgradeWrites } from './harness';
import { useServers } from './servers';

// The writes a spark makes in one tick over a WebSocket. A transformer that batches them holds
// them (a corked TCP socket, a native queue) until the core's per-tick flush
// (`context.flushSoon()`): they then leave in one TCP write, in the order they were written,
// messages and broadcasts alike, and nothing is held past the tick, a close included. Several
// broadcasts made in one tick are held the same way (the first may leave at once).

/** What the batching suite needs to know about a transformer. */
export interface BatchingCapabilities {
  /**
   * The frames of one tick leave together: `send()` holds them and asks `context.flushSoon()` for
   * the `flush()` that writes them out. Set false for a transformer that writes each frame as it
   * is sent: the suite then checks that it indeed takes more than `writesPerTick` writes.
   * @default true
   */
  batching?: boolean;
  /**
   * Frames go out through the Node `net.Socket` of the upgrade, where the suite counts the
   * writes. Set false where native code takes over the socket's descriptor and writes to it
   * (lws): the count is then reported as not supported, and the suite checks that the Node socket
   * indeed carries nothing. @default true
   */
  nodeSocket?: boolean;
  /**
   * The framework offers permessage-deflate. Set false for one without it: the suite then checks
   * that a server started with `compression: true` does not agree to the extension. @default true
   */
  compression?: boolean;
}

/** Options of the batching suite. */
export interface BatchingSuiteOptions {
  /** The transformer under test. */
  transformer: Transformer;
  /** What it can do. */
  capabilities?: BatchingCapabilities;
  /** Client options that pin the client to WebSocket, e.g. `{ transport: { transports: ['websocket'] } }`. @default {} */
  client?: ClientOptions;
  /**
   * Client options for the compression test, for a client that offers permessage-deflate only
   * when told to (faye-websocket's Client: `{ transport: { extensions: [deflate] } }`).
   * @default client
   */
  compressionClient?: ClientOptions;
  /**
   * Client options that pin a polling transport. When set, the suite also checks that a polling
   * session gets the writes of one tick, every one and in order, without an upgrade.
   * @default undefined (no polling test)
   */
  polling?: ClientOptions;
  /**
   * The most TCP writes the frames of one tick may take: 2 for engine.io, whose WebSocket
   * transport hands `ws` the first packet at once and the rest once that one is written.
   * @default 1
   */
  writesPerTick?: number;
  /** Per-test timeout in ms. @default 20000 */
  timeout?: number;
}

/** A client of the server under test, its spark, and everything the client has received. */
interface Opened {
  client: PrimusClient;
  spark: Spark;
  received: unknown[];
}

/** A message large enough to be deflated (ws's threshold is 1 KB), with a character outside ASCII. */
const BIG = 'x'.repeat(4096) + '€';

/** Connect a client with `options` (its own heartbeat off: no stray writes), and collect what it receives. */
async function open(server: TestServer, options: ClientOptions): Promise<Opened> {
  const sparkP = nextSpark(server.primus);
  const client = server.client({ ping: false, ...options });
  const received: unknown[] = [];
  client.on('data', (data: unknown) => received.push(data));
  const spark = await sparkP;
  await once(client, 'open');
  return { client, spark, received };
}

/** Connect over WebSocket, with the server's side of the upgrade watched from the request on. */
async function openWebSocket(server: TestServer, options: ClientOptions): Promise<Opened & { tcp: UpgradeWrites }> {
  let tcp: UpgradeWrites | undefined;
  void nextUpgradeWrites(server).then((watched) => (tcp = watched));
  const opened = await open(server, options);
  if (!tcp) throw new Error("the client opened without a WebSocket upgrade: pin it to WebSocket with the suite's `client` option");
  return { ...opened, tcp };
}

/** Write one tick's worth to `spark`: 20 messages, a broadcast, one more message. Returns what the client must receive. */
function writeOneTick(server: TestServer, spark: Spark): unknown[] {
  const expected: unknown[] = [];
  for (let i = 0; i < 20; i++) {
    spark.write(i);
    expected.push(i);
  }
  server.primus.write('everyone');
  spark.write({ last: true });
  expected.push('everyone', { last: true });
  return expected;
}

/** Wait until the client has as many messages as expected, then compare them. */
async function expectReceived(received: unknown[], expected: unknown[]): Promise<void> {
  await waitFor(() => received.length >= expected.length, 10_000, `the ${expected.length} messages of one tick at the client`);
  expect(received).toEqual(expected);
}

/** Whether the client offered permessage-deflate in its upgrade request. */
const offersDeflate = (tcp: UpgradeWrites): boolean => /permessage-deflate/i.test(String(tcp.request.headers['sec-websocket-extensions'] ?? ''));
/** An answer to an upgrade that agrees to permessage-deflate. */
const DEFLATE_AGREED = /^sec-websocket-extensions:.*permessage-deflate/im;

/**
 * Per-tick batching over WebSocket: the writes a spark makes in one tick leave in one TCP write
 * (`writesPerTick`), in order, messages and broadcasts alike; a burst of broadcasts takes at most
 * one write more; they reach the client before a close made in the same tick; they keep their order with permessage-deflate; and (with `polling`)
 * polling sessions still get every one of them, in order.
 *
 * ```ts
 * import { batchingSuite } from '@primus/transformer-test-suite';
 * import myTransformer from '../src';
 * batchingSuite({ transformer: myTransformer });
 * ```
 */
export function batchingSuite(options: BatchingSuiteOptions): void {
  const { transformer } = options;
  const name = transformer.name;
  const caps: Required<BatchingCapabilities> = { batching: true, nodeSocket: true, compression: true, ...options.capabilities };
  const client = options.client ?? {};
  const compressionClient = options.compressionClient ?? client;
  const writesPerTick = options.writesPerTick ?? 1;
  const timeout = options.timeout ?? 20_000;

  describe(`batched writes: ${name}`, () => {
    const start = useServers(transformer);

    if (!caps.nodeSocket) {
      notSupported(
        'counting the TCP writes of one tick',
        name,
        'nodeSocket',
        false,
        async () => {
          const server = await start();
          const { spark, tcp, received } = await openWebSocket(server, client);
          await expectReceived(received, writeOneTick(server, spark));
          // Native code wrote the answer to the upgrade and every frame: the Node socket saw none.
          expect(tcp.writes()).toBe(0);
        },
        timeout,
      );
    } else if (!caps.batching) {
      notSupported(
        'one TCP write per tick',
        name,
        'batching',
        false,
        async () => {
          const server = await start();
          const { spark, tcp, received } = await openWebSocket(server, client);
          const before = tcp.writes();
          await expectReceived(received, writeOneTick(server, spark));
          expect(tcp.writes() - before).toBeGreaterThan(writesPerTick);
        },
        timeout,
      );
    } else {
      it(
        `writes of one tick leave in ${writesPerTick === 1 ? 'one TCP write' : `at most ${writesPerTick} TCP writes`}, in order, messages and broadcasts alike`,
        async () => {
          const server = await start();
          const { spark, tcp, received } = await openWebSocket(server, client);
          const before = tcp.writes();
          await expectReceived(received, writeOneTick(server, spark));
          const writes = tcp.writes() - before;
          // None would mean the frames went out some other way than this socket (nodeSocket: false).
          expect(writes).toBeGreaterThanOrEqual(1);
          // Without batching, each of the 22 frames is a write of its own.
          expect(writes).toBeLessThanOrEqual(writesPerTick);
        },
        timeout,
      );

      it(
        `a burst of broadcasts in one tick leaves in at most ${writesPerTick + 1} TCP writes, in order`,
        async () => {
          const server = await start();
          const { tcp, received } = await openWebSocket(server, client);
          const before = tcp.writes();
          const expected: unknown[] = [];
          for (let i = 0; i < 10; i++) {
            server.primus.write({ burst: i });
            expected.push({ burst: i });
          }
          await expectReceived(received, expected);
          const writes = tcp.writes() - before;
          expect(writes).toBeGreaterThanOrEqual(1);
          // The tick's first broadcast may leave at once, as a lone broadcast has nothing to wait
          // for; the ones after it are held for the flush. Without that, each is a write of its own.
          expect(writes).toBeLessThanOrEqual(writesPerTick + 1);
        },
        timeout,
      );
    }

    it(
      'writes of one tick reach the client before a close made in the same tick',
      async () => {
        const server = await start();
        const { client: socket, spark, received } = await openWebSocket(server, client);
        const ended = once(socket, 'end');
        for (let i = 0; i < 5; i++) spark.write(i);
        server.primus.write('everyone');
        spark.end('goodbye');
        await ended;
        expect(received).toEqual([0, 1, 2, 3, 4, 'everyone', 'goodbye']);
      },
      timeout,
    );

    if (caps.compression) {
      it(
        'writes of one tick keep their order with permessage-deflate',
        async () => {
          const server = await start({ compression: true });
          const { spark, tcp, received } = await openWebSocket(server, compressionClient);
          if (!offersDeflate(tcp)) throw new Error("the client did not offer permessage-deflate: give the suite's `compressionClient` options that make it");
          if (caps.nodeSocket) expect(tcp.response()).toMatch(DEFLATE_AGREED);
          const expected = [1, BIG, 'after', BIG, 2];
          spark.write(1);
          spark.write(BIG);
          spark.write('after');
          server.primus.write(BIG);
          spark.write(2);
          await expectReceived(received, expected);
        },
        timeout,
      );
    } else {
      notSupported(
        'writes of one tick with permessage-deflate',
        name,
        'compression',
        false,
        async () => {
          const server = await start({ compression: true });
          const { spark, tcp, received } = await openWebSocket(server, compressionClient);
          // The option is ignored, not refused: the connection opens without the extension.
          if (caps.nodeSocket) {
            expect(tcp.response()).toMatch(/^HTTP\/1\.1 101 /);
            expect(tcp.response()).not.toMatch(DEFLATE_AGREED);
          }
          await expectReceived(received, writeOneTick(server, spark));
        },
        timeout,
      );
    }

    const polling = options.polling;
    if (polling) {
      it(
        'writes of one tick over polling all arrive, in order, without an upgrade',
        async () => {
          const server = await start();
          let upgrades = 0;
          server.server.on('upgrade', () => upgrades++);
          const { spark, received } = await open(server, polling);
          await expectReceived(received, writeOneTick(server, spark));
          expect(upgrades).toBe(0);
        },
        timeout,
      );
    }
  });
}
