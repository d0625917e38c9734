import { afterEach, describe, expect, it } from '@jest/globals';
import type { WebSocket } from 'ws';
import type { Spark } from '@primus/core';
import { once, waitFor } from '@primus/transformer-test-suite';
import { diagnostics, openDescriptors, Resources, type LwsTestServer } from './helpers';

// Bounded stress: thousands of connections and megabytes of fragmented and compressed traffic
// through the native binding, checked for intact data and for everything being released. The
// same file is what the memory-safety runs (AddressSanitizer, valgrind) exercise.

// The memory-safety runs are many times slower: they shrink the work and stretch the timeouts.
const SCALE = Number(process.env.PRIMUS_LWS_STRESS_SCALE) || 1;
const TIMEOUT = 120000 / Math.min(SCALE, 1);
/** How long one step may take: a connection opening, a reply, a close. */
const WAIT = 30000 / Math.min(SCALE, 1);
const resources = new Resources();
afterEach(() => resources.cleanup());

/** A small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A string of `length` characters, some of them several bytes long in UTF-8. */
function text(next: () => number, length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 é€😀\u2028"\\';
  let out = '';
  while (out.length < length) out += alphabet[Math.floor(next() * alphabet.length)];
  return out;
}

function echoSparks(server: LwsTestServer['server']): void {
  server.primus.on('connection', (spark: Spark) => spark.on('data', (data: unknown) => spark.write(data)));
}

/** Make sure the context exists, then measure what is open. */
async function baseline(): Promise<{ descriptors: number }> {
  const warm = await resources.start();
  const socket = resources.raw(warm.server);
  await once(socket, 'open', WAIT);
  await resources.close(warm.server);
  await waitFor(() => diagnostics().vhosts === 0, WAIT, 'the warm-up vhost to go');
  return { descriptors: openDescriptors() };
}

async function released(descriptors: number): Promise<void> {
  await waitFor(() => openDescriptors() === descriptors && diagnostics().vhosts === 0 && diagnostics().servers === 0, WAIT, 'descriptors and vhosts to be released');
}

/** Send one message, possibly in fragments, and resolve with the echo. */
async function roundTrip(socket: WebSocket, value: string, fragments: number, binary: boolean): Promise<string> {
  const reply = once<[Buffer]>(socket, 'message', WAIT);
  const bytes = Buffer.from(JSON.stringify(value));
  if (fragments <= 1) {
    socket.send(bytes, { binary });
  } else {
    const size = Math.ceil(bytes.length / fragments);
    for (let i = 0; i < fragments; i++) socket.send(bytes.subarray(i * size, (i + 1) * size), { binary, fin: i === fragments - 1 });
  }
  const [data] = await reply;
  return JSON.parse(String(data)) as string;
}

describe('stress', () => {
  it(
    'survives 2000 connect, send and close cycles (fewer when scaled down), closed every way, and releases everything',
    async () => {
      const { descriptors } = await baseline();
      const { server, service } = await resources.start();
      const sparks = new Map<string, Spark>();
      server.primus.on('connection', (spark: Spark) => {
        sparks.set(String(spark.query.n), spark);
        spark.on('data', (data: unknown) => spark.write(data));
      });
      const next = random(1);
      const cycles = Math.max(40, Math.round((2000 * SCALE) / 4) * 4);
      const concurrency = 40;
      let started = 0;
      let echoed = 0;
      const ways = { client: 0, server: 0, destroy: 0, terminate: 0 };

      async function cycle(n: number): Promise<void> {
        // Each client names itself in the query, so the server half can close the right spark.
        const socket = resources.raw(server, {}, `ping=false&n=${n}`);
        await once(socket, 'open', WAIT);
        const value = next() < 0.05 ? text(next, 20000 + Math.floor(next() * 100000)) : text(next, Math.floor(next() * 200));
        expect(await roundTrip(socket, value, next() < 0.2 ? 3 : 1, next() < 0.3)).toBe(value);
        echoed++;
        const spark = sparks.get(String(n))!;
        const closed = once(socket, 'close', WAIT);
        switch (n % 4) {
          case 0:
            ways.client++;
            socket.close(1000);
            break;
          case 1:
            ways.server++;
            spark.end();
            break;
          case 2:
            ways.destroy++;
            spark.request!.socket.destroy();
            break;
          default:
            ways.terminate++;
            socket.terminate();
        }
        await closed;
        sparks.delete(String(n));
      }

      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (started < cycles) await cycle(started++);
        }),
      );

      expect(echoed).toBe(cycles);
      expect(Object.values(ways).every((count) => count === cycles / 4)).toBe(true);
      await waitFor(() => server.primus.connected === 0 && service().stats().connections === 0, WAIT, 'every connection to end');
      await resources.close(server);
      await released(descriptors);
    },
    TIMEOUT,
  );

  it.each([false, true])(
    'round-trips large and fragmented messages intact (compression: %s)',
    async (compression) => {
      const { descriptors } = await baseline();
      const { server } = await resources.start({ compression });
      echoSparks(server);
      const next = random(compression ? 3 : 2);
      const clients = 6;
      const messages = Math.max(3, Math.round(10 * SCALE));
      let bytes = 0;
      await Promise.all(
        Array.from({ length: clients }, async () => {
          const socket = resources.raw(server, { perMessageDeflate: compression });
          await once(socket, 'open', WAIT);
          expect(socket.extensions.includes('permessage-deflate')).toBe(compression);
          for (let i = 0; i < messages; i++) {
            // The first message of every client is large; later ones are large one time in five.
            const large = i === 0 || next() < 0.2;
            const value = text(next, large ? 256 * 1024 + Math.floor(next() * 768 * 1024) : Math.floor(next() * 20000));
            const fragments = next() < 0.5 ? 1 + Math.floor(next() * 12) : 1;
            expect(await roundTrip(socket, value, fragments, next() < 0.5)).toBe(value);
            bytes += value.length;
          }
          socket.close(1000);
          await once(socket, 'close', WAIT);
        }),
      );
      expect(bytes).toBeGreaterThan(clients * 256 * 1024);
      await resources.close(server);
      await released(descriptors);
    },
    TIMEOUT,
  );

  it(
    'survives being destroyed while clients connect and send',
    async () => {
      const { descriptors } = await baseline();
      const { server } = await resources.start({ compression: true });
      echoSparks(server);
      const next = random(4);
      const sockets: WebSocket[] = [];
      const closed: Promise<unknown>[] = [];
      let opened = 0;
      const count = Math.max(30, Math.round(150 * SCALE));
      for (let i = 0; i < count; i++) {
        const socket = resources.raw(server, { perMessageDeflate: next() < 0.5 });
        sockets.push(socket);
        closed.push(once(socket, 'close', WAIT));
        socket.on('open', () => {
          opened++;
          socket.send(JSON.stringify(text(next, 50000)));
        });
      }
      await waitFor(() => opened >= count / 3, WAIT, 'some clients to connect');
      await resources.close(server);
      await Promise.all(closed);
      await released(descriptors);
    },
    TIMEOUT,
  );
});
