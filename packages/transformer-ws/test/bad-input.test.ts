import { badInputSuite } from '@primus/transformer-test-suite';
import websockets from '../src';

// The corpus of bad input at the HTTP, Primus and WebSocket levels; each Primus message is one
// text frame on /primus.
badInputSuite({ transformer: websockets, capabilities: { websocket: '/primus' } });
