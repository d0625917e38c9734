import engineio from '@primus/transformer-engineio';
import websockets from '@primus/transformer-ws';
import { faultSuite } from './fault-suite';

// The other transformers run in faults-transformers.test.ts, so each file stays well under a minute.
faultSuite([
  { transformer: websockets, clients: 200, heartbeatFromQuery: true },
  { transformer: engineio, clients: 200, heartbeatFromQuery: true },
]);
