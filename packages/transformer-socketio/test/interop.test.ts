import { expect } from '@jest/globals';
import { interopSuite } from '@primus/transformer-test-suite';
import { implementations, pinHappnClient } from './happn';

// Wire compatibility with happn-primus 6.0.1's socket.io transformer: its client against our
// server, and our client against its server, over a WebSocket and over XHR long-polling. Both
// sides run the same socket.io 0.9 and primus-socket.io-client 2.0 code; what is checked is the
// Primus layer on top (messages, heartbeat, ids, ending) and how each side drives socket.io.

interopSuite({
  ...implementations,
  transports: ['websocket', 'xhr-polling'],
  pin({ side, transport, defer }) {
    if (side === 'happn') return { transport: { transports: [transport] } };
    defer(pinHappnClient(transport!));
    return {};
  },
  capabilities: {
    query: { _primuscb: expect.any(String), t: expect.stringMatching(/^\d+$/) },
    // The socket.io session id.
    idPattern: /^[\w-]{20}$/,
    checkIdSpark(spark, { id, transport }) {
      // The spark's request is the one that opened the session on the pinned transport.
      expect(spark.request?.url).toMatch(new RegExp(`^/primus/1/${transport}/${id}\\?`));
      expect(spark.address.ip).toBe('127.0.0.1');
    },
    // happn-primus's server drops what a spark writes between two polls when the spark ends right
    // after (see the README), so a polling client may miss `primus::server::close`.
    endsReliably: ({ side, transport }) => side === 'ours' || transport === 'websocket',
  },
});
