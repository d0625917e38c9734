import { expect } from '@jest/globals';
import { authorizationSuite, expectUpgradeRefused, openRawWebSocket, startServer } from '@primus/transformer-test-suite';
import engineio from '../src';
import { sessions } from './framework';

authorizationSuite({
  transformer: engineio,
  capabilities: { polling: true },
  client: { websockets: false },
  requests: {
    'polling handshake': { method: 'GET', path: '/primus/?EIO=4&transport=polling' },
    'polling handshake, protocol 3': { method: 'GET', path: '/primus/?EIO=3&transport=polling&b64=1' },
  },
  upgrades: { 'WebSocket upgrade (new session)': '/primus/?EIO=4&transport=websocket' },
  sessions,
  sessionChecks: {
    "WebSocket upgrade of an authorised client's session": async (g, v) => {
      const outcome = await expectUpgradeRefused(g.server.port, `/primus/?EIO=4&transport=websocket&sid=${v.vars.sid}`);
      expect(g.server.primus.spark(v.spark.id)).toBe(v.spark);
      return outcome;
    },
  },
  checks: {
    'WebSocket upgrade with a fragment or a repeated transport key (hook that refuses upgrades only)': async () => {
      // The engine.io README's own example: refuse the upgrade and keep clients on polling. The
      // hook must judge the query engine.io acts on, which never includes a fragment.
      const server = await startServer({
        transformer: engineio,
        authorization: (req, done) => (req.query.transport === 'websocket' ? done(Object.assign(new Error('no WebSockets'), { statusCode: 403 })) : done()),
      });
      try {
        for (const path of ['/primus/?EIO=4&transport=websocket', '/primus/?EIO=4&transport=websocket#', '/primus/?EIO=4&transport=websocket#&x=1']) {
          const ws = await openRawWebSocket(server.port, path);
          ws.destroy();
          expect({ path, status: ws.status, body: ws.body }).toEqual({ path, status: 403, body: '{"error":"no WebSockets"}' });
        }
        // A repeated key: the hook sees both values, and engine.io (given the same query) refuses
        // the array instead of upgrading on the last value.
        const repeated = await openRawWebSocket(server.port, '/primus/?EIO=4&transport=polling&transport=websocket');
        repeated.destroy();
        expect({ status: repeated.status, body: repeated.body }).toEqual({ status: 400, body: 'Transport unknown' });
        expect(server.primus.connected).toBe(0);
        return 'refused: 403 from the hook, fragment or not; a repeated transport gets 400 Transport unknown';
      } finally {
        await server.close();
      }
    },
  },
});
