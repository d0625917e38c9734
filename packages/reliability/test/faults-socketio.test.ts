import socketio from '@primus/transformer-socketio';
import { faultSuite } from './fault-suite';

// A file of its own: socket.io 0.9's 200 reconnecting clients take a few seconds of the machine
// to themselves, and jest runs files in parallel.
faultSuite([{ transformer: socketio, clients: 200, heartbeatFromQuery: true }]);
