import { badInputSuite } from '@primus/transformer-test-suite';
import websocketNode from '../src';

// The corpus of bad input at the HTTP, Primus and WebSocket levels; each Primus message is one
// text frame on /primus. Where WebSocket-Node answers differently from the corpus's default, the
// expectation says so; every connection still ends (or stays usable) and the bystander is unharmed.
badInputSuite({
  transformer: websocketNode,
  capabilities: { websocket: '/primus' },
  expect: {
    websocket: {
      // WebSocket-Node does not check that client frames are masked: the message is delivered.
      'unmasked client frame': { open: true, delivered: ['unmasked'] },
      // Lengths that need more than 32 bits are refused as a protocol error, before any allocation.
      'header declaring 1 TiB, then the payload without end': { close: 1002 },
      '64-bit length with the top bit set': { close: 1002 },
      // The reason of a close frame is not validated: the close is answered normally.
      'close frame with an invalid UTF-8 reason': { close: 1000 },
    },
  },
});
