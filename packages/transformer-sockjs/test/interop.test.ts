import { expect, it } from '@jest/globals';
import { happnInterop, interopSuite } from '@primus/transformer-test-suite';
import { implementations } from './happn';

// Wire compatibility with happn-primus 6.0.1's sockjs transformer: its client (sockjs-client 1.1)
// against our server, and our client (sockjs-client 1.6) against its server, over a WebSocket and
// over xhr-polling.

const TIMEOUT = 20000;

interopSuite({
  ...implementations,
  transports: ['websocket', 'xhr-polling'],
  // Both clients hand `transport.transports` to sockjs-client.
  pin: ({ transport }) => ({ transport: { transports: [transport] } }),
  capabilities: { idPattern: /^[0-9a-f-]{36}$/ },
  tests({ server, connect }) {
    it(
      'delivers custom headers, which sockjs alone would drop, to spark.headers',
      async () => {
        const target = await server();
        const sparkP = happnInterop.nextSpark(target);
        connect(target, { transport: { transports: ['websocket'], transportOptions: { websocket: { headers: { 'x-custom': 'both ways' } } } } });
        const spark = await sparkP;
        expect(spark.headers['x-custom']).toBe('both ways');
        expect(spark.address.ip).toBe('127.0.0.1');
      },
      TIMEOUT,
    );
  },
});
