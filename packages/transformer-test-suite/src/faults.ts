import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import type { Spark, Transformer } from '@primus/core';
import { notSupported, report } from './capability';
import { nextSpark, once, startServer } from './harness';
import { blackhole, serverRestart, Stack, waylaidPing } from './scenarios';

/** What the fault suite needs to know about a transformer. */
export interface FaultCapabilities {
  /**
   * The server learns the client's `ping` and `pong` from the connect query, so a client with a
   * short heartbeat gets a server that flatlines it just as quickly. The blackhole and waylaid-ping
   * scenarios need it. @default true
   */
  heartbeatFromQuery?: boolean;
}

/** Options of the fault suite. */
export interface FaultSuiteOptions {
  transformer: Transformer;
  capabilities?: FaultCapabilities;
  /** Clients in the restart scenario. @default 200 */
  clients?: number;
  /**
   * The clients' `reconnect timeout` in the restart scenario (ms), for transports whose handshake
   * needs longer than the default 2000 when every client reconnects at once. @default 2000
   */
  reconnectTimeout?: number;
}

/**
 * Network faults over real sockets, through the TCP fault proxy this package ships
 * (`startFaultProxy`): the server killed and restarted under many clients, a blackholed network,
 * and pings waylaid behind a stalled uplink, shorter and longer than the heartbeat allowance.
 * `RELIABILITY_REPORT=<file>` writes what each scenario measured as JSON.
 */
export function faultSuite(options: FaultSuiteOptions): void {
  const { transformer } = options;
  const clients = options.clients ?? 200;
  const heartbeatFromQuery = options.capabilities?.heartbeatFromQuery ?? true;
  const results: Record<string, unknown> = {};
  afterAll(() => report('RELIABILITY_REPORT', `faults: ${transformer.name}`, results));

  describe(`faults over ${transformer.name}`, () => {
    const stack = new Stack();
    afterEach(() => stack.dispose());

    it(`server killed and restarted on the same port under ${clients} clients`, async () => {
      const result = await serverRestart(transformer, clients, stack, options.reconnectTimeout);
      results.restart = result;
      expect(result.clients).toBe(clients);
    }, 60_000);

    if (!heartbeatFromQuery) {
      notSupported('blackhole and waylaid ping', transformer.name, 'heartbeatFromQuery', false, async () => {
        // The scenarios need a server that learns the client's heartbeat; this one must not.
        const server = await startServer({ transformer });
        stack.defer(() => server.close());
        const spark = nextSpark(server.primus);
        const client = server.client({ ping: 200, pong: 300 });
        await once(client, 'open');
        const { query } = (await spark) as Spark;
        expect([query.ping, query.pong]).not.toEqual([200, 300]);
      });
      return;
    }

    it('blackhole: pong timeout on the client, flatline on the server, reconnect after the heal', async () => {
      results.blackhole = await blackhole(transformer, stack);
    }, 30_000);

    it('waylaid ping: a stall shorter than the allowance survives on unsolicited pongs', async () => {
      results['waylaid short'] = await waylaidPing(transformer, false, stack);
    }, 30_000);

    it('waylaid ping: a stall longer than the allowance flatlines and reconnects', async () => {
      results['waylaid long'] = await waylaidPing(transformer, true, stack);
    }, 30_000);
  });
}
