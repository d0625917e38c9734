import { backPressureSuite } from '@primus/transformer-test-suite';
import socketio from '../src';

const pin = (...transports: string[]): Record<string, unknown> => ({ transport: { transports } });

// htmlfile and jsonp-polling are not used by Node clients; on the server they share the polling
// code path of xhr-polling.
backPressureSuite({
  transformer: socketio,
  transports: [
    { name: 'socket.io over WebSocket', client: pin('websocket') },
    { name: 'socket.io over xhr-polling', client: pin('xhr-polling') },
  ],
});
