import { expect } from '@jest/globals';
import { AUTHORISED, authorizationSuite, expectRefused, expectUpgradeRefused, probe, rawRequest, startServer, waitFor, type Victim } from '@primus/transformer-test-suite';
import socketio from '../src';
import { sessions } from './framework';

// The suite's servers run this probe of the transformer, so a check can look at the connection
// socket the transformer made for a session.
const probed = probe(socketio);

/** Whether socket.io holds a waiting poll for the victim's session. */
function pollWaiting(v: Victim): boolean {
  const socket = probed.socketOf(v.spark.id) as unknown as { socket?: { manager?: { transports?: Record<string, { open?: boolean }> } } } | undefined;
  return !!socket?.socket?.manager?.transports?.[v.vars.sid!]?.open;
}

/** With a poll waiting, a disconnect request would end the session at once. */
function waitingPoll(port: number, v: Victim): Promise<{ body: string }> {
  return rawRequest(port, sessions.receive(v.vars, `${AUTHORISED}&ping=false`), 3000);
}

authorizationSuite({
  transformer: probed.transformer,
  capabilities: { polling: true },
  client: { websockets: false },
  requests: { handshake: { method: 'GET', path: '/primus/1/' } },
  sessions,
  sessionChecks: {
    "WebSocket upgrade with an authorised client's session id": async (g, v) => {
      const outcome = await expectUpgradeRefused(g.server.port, `/primus/1/websocket/${v.vars.sid}`);
      expect(g.server.primus.spark(v.spark.id)).toBe(v.spark);
      return outcome;
    },
    "disconnect request with an authorised client's session id": async (g, v) => {
      const waiting = waitingPoll(g.server.port, v);
      await waitFor(() => pollWaiting(v), 5000, 'the waiting poll');
      const outcome = expectRefused(await rawRequest(g.server.port, { method: 'GET', path: `/primus/1/xhr-polling/${v.vars.sid}?disconnect=1` }));
      v.spark.write('still here');
      expect((await waiting).body).toContain('still here');
      expect(g.server.primus.spark(v.spark.id)).toBe(v.spark);
      return outcome;
    },
    'disconnect request through another Primus server in the same process': async (g, v) => {
      const open = await startServer({ transformer: socketio });
      try {
        const waiting = waitingPoll(g.server.port, v);
        await waitFor(() => pollWaiting(v), 5000, 'the waiting poll');
        const res = await rawRequest(open.port, { method: 'GET', path: `/primus/1/xhr-polling/${v.vars.sid}?disconnect=1` });
        expect(res.status).toBe(200);
        v.spark.write('still here');
        expect((await waiting).body).toContain('still here');
        expect(g.server.primus.spark(v.spark.id)).toBe(v.spark);
        return 'not reachable: 200, the session is not ended (transports registry per server)';
      } finally {
        await open.close();
      }
    },
  },
});
