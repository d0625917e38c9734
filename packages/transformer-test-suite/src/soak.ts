import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { Transformer } from '@primus/core';
import { report } from './capability';
import { cycles, hold, type CyclesResult, type HoldResult } from './soak-runner';

// Soak: many connections held with their heartbeats running, and many connect/disconnect cycles,
// against a server in its own process (its heap and CPU measured alone, after full GCs) driven by
// real @primus/client sockets in another. Both processes run built code (the core's dist/ and the
// transformer's built entry), and each raises its own open-file limit.

/** How big a soak is. */
export interface SoakSize {
  /** Connections held with their heartbeats running, and for how long; `null` runs no hold. */
  hold: { connections: number; holdMs: number } | null;
  /** Connect, echo and disconnect cycles measured (after `warmup` more). */
  cycles: number;
  /** Cycles before the baseline, so caches and optimised code built once are in it. @default 1000 */
  warmup?: number;
  /** How long the server may take to notice that the last clients left (ms). @default 120000 */
  settleMs?: number;
}

/**
 * The sizes this repository runs: `ci` in every test run (about three minutes on two cores for
 * all seven transformers), `full` with `SOAK=full` (10,000 connections held for a minute, 10,000
 * cycles).
 */
export const SOAK_SIZES: { ci: SoakSize; full: SoakSize } = {
  ci: { hold: { connections: 2_000, holdMs: 20_000 }, cycles: 1000 },
  full: { hold: { connections: 10_000, holdMs: 60_000 }, cycles: 10_000 },
};

/** Options of the soak suite. */
export interface SoakSuiteOptions {
  /** The transformer under test (its name titles the tests; the processes load `entry`). */
  transformer: Transformer;
  /**
   * Absolute path (or `file:` URL) of the transformer's built ES module, which the soak's server
   * and client processes import: the default export, or an export named `transformer`.
   */
  entry: string | URL;
  /** @default SOAK_SIZES.full when the environment has SOAK=full, else SOAK_SIZES.ci */
  size?: SoakSize;
}

// Heartbeat of the held clients: a ping 5 s after each pong, so that a one-minute hold exchanges
// about twelve heartbeats per client (2,000 pings a second at 10,000 clients). A client waits
// 10 s for its pong before it gives the connection up: the one time limit in the hold, generous
// because the machine may be shared with other test files. The server learns both from the
// connect query and ends a spark that has sent no ping for ping + pong/2 = 10 s, three times in
// a row.
const PING = 5000;
const PONG = 10_000;

/**
 * How far the server's heap after full GCs may end above its warmed-up baseline. Measured runs
 * end between 0.2 MB below and 0.9 MB above it, the growth nearly all compiled code and its
 * metadata: V8 keeps optimising and re-optimising hot functions over thousands of connections.
 * The leak check proper is `JS_SLACK`; this one bounds what a user would see in a heap graph.
 */
const HEAP_SLACK = 2 * 1024 * 1024;

/**
 * How far the JavaScript data in the server's heap (objects, closures, arrays and their stores,
 * strings: a census of a heap snapshot, see `Census`) may end above the baseline. Measured runs
 * land within 16 KB of it either way, after 1,000 or 10,000 cycles or a hold. 32 KB catches a leak of
 * 32 bytes per cycle over 1,000 cycles (3.2 bytes over 10,000): browserchannel's session ids
 * (about 60 bytes each) were caught this way. A leaked spark, with its socket and closures, is
 * several KB, and is also caught one by one by the count of sparks alive.
 */
const JS_SLACK = 32 * 1024;

/**
 * How far the memory behind ArrayBuffers (see `Census.buffers`) may end above the baseline. It
 * moves in blocks: lws's event arrays, grown for a burst of thousands of closes and kept, end up
 * to 48 KB above it. A leaked Buffer is caught by `JS_SLACK` through the objects that hold it;
 * this bounds what no object count shows, one buffer that keeps growing.
 */
const BUFFER_SLACK = 512 * 1024;

/** Fails naming what grew most, so that a leak report says where to look. */
function expectJsWithinSlack(when: string, growth: number, grewMost: string[]): void {
  if (growth < JS_SLACK) return;
  throw new Error(
    `the server's JavaScript data ended ${growth} bytes above its baseline ${when} (allowed: under ${JS_SLACK}); ` +
      `grew most: ${grewMost.join(', ') || 'nothing by kind (the growth is spread thin)'}. ` +
      `Rerun with SOAK_HEAP_SNAPSHOTS=<dir> to keep the heap snapshots and compare them.`,
  );
}

/** Heap without the code space gained while the connections are held (bytes); measured under 0.4 MB. */
const HOLD_SLACK = 1024 * 1024;

/**
 * The soak: `size.hold.connections` real clients held for `size.hold.holdMs` with their
 * heartbeats running (nobody drops, every heartbeat answered, one file descriptor per connection,
 * no memory kept after the release), and `size.cycles` connect, echo and disconnect cycles after
 * which the server is back at its baseline: no spark, socket, descriptor or timer left, every
 * spark garbage-collected, the heap's JavaScript data within 32 KB.
 * `RELIABILITY_REPORT_SOAK=<file>` writes the figures as JSON.
 */
export function soakSuite(options: SoakSuiteOptions): void {
  const name = options.transformer.name;
  const entry = options.entry instanceof URL || options.entry.startsWith('file:') ? fileURLToPath(options.entry) : options.entry;
  const size = options.size ?? (process.env.SOAK === 'full' ? SOAK_SIZES.full : SOAK_SIZES.ci);
  const warmup = size.warmup ?? 1000;
  const results: { hold?: HoldResult; cycles?: CyclesResult } = {};
  afterAll(() => report('RELIABILITY_REPORT_SOAK', `soak: ${name}`, results));

  function requireBuilt(): void {
    if (!isAbsolute(entry)) throw new Error(`soakSuite(${name}): entry must be an absolute path or a file: URL, got ${entry}`);
    if (!existsSync(entry)) throw new Error(`${entry} is missing: the soak runs the transformer's built module, build it first`);
  }

  const held = size.hold;
  if (held) {
    /**
     * Heartbeats every held client must complete during the hold. Each client pings `PING` ms
     * after its previous pong, so a hold of `holdMs` fits about holdMs / PING of them; two fewer
     * leaves room for where the first ping falls in the window and for round trips on a loaded
     * machine.
     */
    const minPongs = Math.floor(held.holdMs / PING) - 2;
    describe(`soak: ${held.connections} connections held for ${held.holdMs / 1000} s with heartbeats`, () => {
      it(
        name,
        async () => {
          requireBuilt();
          const result = await hold(entry, { transformer: name, ...held, ping: PING, pong: PONG, concurrency: 100, warmup });
          results.hold = result;

          expect(result.connections).toBe(held.connections);
          // Nobody dropped: no client closed or failed, the server ended no spark (a flatline would be one).
          expect({ dropped: result.dropped, clientErrors: result.clientErrors, disconnections: result.disconnections, flatlines: result.flatlines }).toEqual({
            dropped: 0,
            clientErrors: 0,
            disconnections: 0,
            flatlines: 0,
          });
          // Every client's heartbeat kept going, answered by the server, for the whole hold.
          expect(result.pongsMin).toBeGreaterThanOrEqual(minPongs);
          // One file descriptor per connection: more would exhaust the file limit early.
          expect(result.fdsPerConnection).toBeLessThan(1.5);
          // Heartbeats do not accumulate memory, and releasing the clients frees every spark.
          expect(result.objectsGrowthDuringHold).toBeLessThan(HOLD_SLACK);
          expect(result.sparksAliveAfter).toBe(0);
          expect(result.heapGrowthAfterRelease).toBeLessThan(HEAP_SLACK);
          expectJsWithinSlack('after the release', result.jsGrowthAfterRelease, result.jsGrewMostAfterRelease);
          expect(result.buffersGrowthAfterRelease).toBeLessThan(BUFFER_SLACK);
        },
        20 * 60_000,
      );
    });
  }

  describe(`soak: ${size.cycles} connect, echo and disconnect cycles`, () => {
    it(
      name,
      async () => {
        requireBuilt();
        const result = await cycles(entry, { transformer: name, cycles: size.cycles, concurrency: 50, warmup, settleMs: size.settleMs ?? 120_000 });
        results.cycles = result;

        // Every cycle's connection reached the server (its echo proved it) and every spark ended
        // there. sockjs-client may open more than one session per cycle: when a transport does not
        // open within a few round trips (a loaded machine), it abandons it for the next one, whose
        // spark the server also sees and ends.
        expect(result.connections).toBeGreaterThanOrEqual(warmup + size.cycles);
        expect(result.disconnections).toBe(result.connections);
        // The server is back where it started: no spark, no socket, no descriptor, no timer left...
        expect({ connected: result.connected, sockets: result.sockets, sparksAlive: result.sparksAlive }).toEqual({ connected: 0, sockets: 0, sparksAlive: 0 });
        expect(result.fdsAfter).toBeLessThanOrEqual(result.fdsBaseline);
        expect(result.timersAfter).toBeLessThanOrEqual(result.timersBaseline);
        // ...and its heap is back at the baseline.
        expect(result.heapGrowth).toBeLessThan(HEAP_SLACK);
        expectJsWithinSlack(`after ${size.cycles} cycles`, result.jsGrowth, result.jsGrewMost);
        expect(result.buffersGrowth).toBeLessThan(BUFFER_SLACK);
      },
      60 * 60_000,
    );
  });
}
