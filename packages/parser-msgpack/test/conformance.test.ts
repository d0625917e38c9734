// The shared parser suite: our server and clients, happn-primus 6.0.1 both ways, and Chromium.
import { parserSuite, type happnInterop } from '@primus/transformer-test-suite';
import browserchannel from '@primus/transformer-browserchannel';
import socketio from '@primus/transformer-socketio';
import sockjs from '@primus/transformer-sockjs';
import websockets from '@primus/transformer-ws';
import msgpack from '../src';

// happn-primus ships no types and is CommonJS only. Its msgpack parser is not in its list of parser
// names, so a happn-primus application passes the parser object from its `parsers` folder.
const happn = require('happn-primus') as happnInterop.HappnPrimusModule;
const happnMsgpack = require('happn-primus/parsers/msgpack') as unknown;

parserSuite({
  parser: msgpack,
  transformer: websockets,
  refusedBy: [sockjs, browserchannel, socketio],
  happn: { module: happn, parser: happnMsgpack },
  samples: [
    {
      name: 'nested object',
      value: { list: [1, 'two', { three: [3.5, null] }], yes: true, no: false, empty: {} },
      browser: "({ list: [1, 'two', { three: [3.5, null] }], yes: true, no: false, empty: {} })",
    },
    { name: 'unicode', value: 'line\u2028paragraph\u2029 😀 𝌆 РУС 中文', browser: "'line\\u2028paragraph\\u2029 😀 𝌆 РУС 中文'" },
    {
      name: 'integers and floats',
      value: [0, -1, 127, 128, -33, 65536, -70000, 2 ** 31, 2 ** 40, -(2 ** 40), 0.5, -1e-9, NaN, Infinity],
      browser: '[0, -1, 127, 128, -33, 65536, -70000, 2 ** 31, 2 ** 40, -(2 ** 40), 0.5, -1e-9, NaN, Infinity]',
    },
    { name: 'a Date', value: new Date(1700000000123), browser: 'new Date(1700000000123)' },
    { name: 'bytes', value: { bytes: new Uint8Array([0, 1, 254, 255]) }, browser: '({ bytes: new Uint8Array([0, 1, 254, 255]) })' },
    { name: 'a long string', value: 'x'.repeat(70000), browser: "'x'.repeat(70000)" },
    { name: 'undefined in an object', value: { gone: undefined }, browser: '({ gone: undefined })', expected: { gone: null } },
  ],
  garbage: new Uint8Array([0xc1]),
  unencodable: { fn: () => 1 },
});
