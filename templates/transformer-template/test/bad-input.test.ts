import { badInputSuite } from '@primus/transformer-test-suite';
import myframework from '../src';

// The corpus of bad input at the HTTP, Primus and WebSocket levels; each Primus message is one
// text frame on /primus. Where your framework answers a case differently, declare it with the
// `expect` option and say why.
badInputSuite({ transformer: myframework, capabilities: { websocket: '/primus' } });
