import { backPressureSuite } from '@primus/transformer-test-suite';
import engineio from '../src';

const pin = (...transports: string[]): Record<string, unknown> => ({ transport: { transports } });

// JSONP polling is not used by Node clients; on the server it shares the polling code path.
backPressureSuite({
  transformer: engineio,
  transports: [
    { name: 'engine.io over WebSocket', client: pin('websocket') },
    { name: 'engine.io over long-polling', client: pin('polling') },
  ],
});
