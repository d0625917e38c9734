import { badInputSuite } from '@primus/transformer-test-suite';
import lws from '../src';

// The corpus of bad input at the HTTP, Primus and WebSocket levels; each Primus message is one
// text frame on /primus.
badInputSuite({ transformer: lws, capabilities: { websocket: '/primus' } });
