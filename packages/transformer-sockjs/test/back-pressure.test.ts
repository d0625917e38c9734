import { backPressureSuite } from '@primus/transformer-test-suite';
import sockjs from '../src';

const pin = (...transports: string[]): Record<string, unknown> => ({ transport: { transports } });

// eventsource, htmlfile and jsonp are not used by Node clients; on the server they share the
// streaming or polling code path of a transport that is here.
backPressureSuite({
  transformer: sockjs,
  transports: [
    { name: 'sockjs over WebSocket', client: pin('websocket') },
    { name: 'sockjs over xhr-streaming', client: pin('xhr-streaming') },
    { name: 'sockjs over xhr-polling', client: pin('xhr-polling') },
  ],
});
