import { batchingSuite } from '@primus/transformer-test-suite';
import socketio from '../src';

const pin = (...transports: string[]): Record<string, unknown> => ({ transport: { transports } });

// socket.io 0.9 writes each WebSocket frame straight to the TCP socket, and has no
// permessage-deflate.
batchingSuite({ transformer: socketio, client: pin('websocket'), polling: pin('xhr-polling'), capabilities: { batching: false, compression: false } });
