import { writeFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import type { Transformer } from '@primus/core';
import { blackhole, serverRestart, Stack, waylaidPing } from './scenarios';

/** One transformer and the fault scenarios that apply to it. */
export interface FaultCase {
  transformer: Transformer;
  /** Clients in the restart scenario, or 0 where it does not run (the case says why). */
  clients: number;
  /** Whether the server learns the client's ping/pong from the connect query (§1.3 / §2.2). */
  heartbeatFromQuery: boolean;
  /**
   * The clients' `reconnect timeout` in the restart scenario (ms), where the transport's
   * handshake needs longer than the default 2000 when every client reconnects at once.
   */
  reconnectTimeout?: number;
}

/**
 * Network faults over real sockets. Set RELIABILITY_REPORT=<file> to get the measurements as JSON
 * (docs/reliability.md quotes them).
 */
export function faultSuite(cases: FaultCase[]): void {
  const results: Record<string, unknown> = {};
  afterAll(() => {
    if (process.env.RELIABILITY_REPORT) writeFileSync(process.env.RELIABILITY_REPORT, JSON.stringify(results, null, 2));
  });

  describe.each(cases)('faults over $transformer.name', ({ transformer, clients, heartbeatFromQuery, reconnectTimeout }) => {
    const stack = new Stack();
    afterEach(() => stack.dispose());
    const record = (scenario: string, value: unknown): void => {
      results[`${transformer.name} / ${scenario}`] = value;
    };

    if (clients > 0) {
      it(`server killed and restarted on the same port under ${clients} clients`, async () => {
        const result = await serverRestart(transformer, clients, stack, reconnectTimeout);
        record('restart', result);
        expect(result.clients).toBe(clients);
      }, 60_000);
    }

    // Registered only where the server can learn the client's short heartbeat (see the cases).
    if (!heartbeatFromQuery) return;

    it('blackhole: pong timeout on the client, flatline on the server, reconnect after the heal', async () => {
      record('blackhole', await blackhole(transformer, stack));
    }, 30_000);

    it('waylaid ping: a stall shorter than the allowance survives on unsolicited pongs', async () => {
      record('waylaid short', await waylaidPing(transformer, false, stack));
    }, 30_000);

    it('waylaid ping: a stall longer than the allowance flatlines and reconnects', async () => {
      record('waylaid long', await waylaidPing(transformer, true, stack));
    }, 30_000);
  });
}
