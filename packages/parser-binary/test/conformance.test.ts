// The shared parser suite: our server and clients, happn-primus 6.0.1 both ways, and Chromium.
import { parserSuite, type happnInterop } from '@primus/transformer-test-suite';
import browserchannel from '@primus/transformer-browserchannel';
import socketio from '@primus/transformer-socketio';
import sockjs from '@primus/transformer-sockjs';
import websockets from '@primus/transformer-ws';
import binary from '../src';

// happn-primus ships no types and is CommonJS only; it knows this parser by name.
const happn = require('happn-primus') as happnInterop.HappnPrimusModule;

const when = new Date(1700000000123);

parserSuite({
  parser: binary,
  transformer: websockets,
  refusedBy: [sockjs, browserchannel, socketio],
  happn: { module: happn, parser: 'binary' },
  samples: [
    {
      name: 'nested object',
      value: { list: [1, 'two', { three: [3.5, null] }], yes: true, no: false, empty: {} },
      browser: "({ list: [1, 'two', { three: [3.5, null] }], yes: true, no: false, empty: {} })",
    },
    { name: 'unicode', value: 'line\u2028paragraph\u2029 😀 𝌆 РУС 中文', browser: "'line\\u2028paragraph\\u2029 😀 𝌆 РУС 中文'" },
    // binarypack writes integers beyond 32 bits as int64; ours writes float64: each side reads both.
    {
      name: 'integers and floats',
      value: [0, -1, 127, 128, -33, 65536, -70000, 2 ** 31, 2 ** 40, -(2 ** 40), 0.5, -1e-9, NaN],
      browser: '[0, -1, 127, 128, -33, 65536, -70000, 2 ** 31, 2 ** 40, -(2 ** 40), 0.5, -1e-9, NaN]',
    },
    // A Date travels as its text, as binarypack sends it.
    { name: 'a Date', value: { when }, browser: `({ when: new Date(${when.getTime()}) })`, expected: { when: String(when) } },
    // A Buffer, not a bare Uint8Array: binarypack on Node refuses the latter.
    { name: 'bytes', value: { bytes: Buffer.from([0, 1, 254, 255]) }, browser: '({ bytes: new Uint8Array([0, 1, 254, 255]) })' },
    { name: 'a long string', value: 'x'.repeat(70000), browser: "'x'.repeat(70000)" },
    { name: 'undefined in an object', value: { gone: undefined }, browser: '({ gone: undefined })', expected: { gone: null } },
  ],
  garbage: new Uint8Array([0xc4]),
  unencodable: { fn: () => 1 },
});
