// The shared parser suite: our server and clients, happn-primus 6.0.1 both ways, and Chromium.
import { parserSuite, type happnInterop } from '@primus/transformer-test-suite';
import websockets from '@primus/transformer-ws';
import ejson from '../src';

// happn-primus ships no types and is CommonJS only; it knows this parser by name.
const happn = require('happn-primus') as happnInterop.HappnPrimusModule;

const cycle: Record<string, unknown> = {};
cycle.self = cycle;

parserSuite({
  parser: ejson,
  transformer: websockets,
  happn: { module: happn, parser: 'ejson' },
  samples: [
    {
      name: 'nested object',
      value: { list: [1, 'two', { three: [3.5, null] }], yes: true, no: false, empty: {} },
      browser: "({ list: [1, 'two', { three: [3.5, null] }], yes: true, no: false, empty: {} })",
    },
    { name: 'unicode', value: 'line\u2028paragraph\u2029 😀 𝌆 РУС 中文', browser: "'line\\u2028paragraph\\u2029 😀 𝌆 РУС 中文'" },
    { name: 'a Date', value: new Date(1700000000123), browser: 'new Date(1700000000123)' },
    { name: 'bytes', value: { bytes: new Uint8Array([0, 1, 254, 255]) }, browser: '({ bytes: new Uint8Array([0, 1, 254, 255]) })' },
    { name: 'NaN and the infinities', value: [NaN, Infinity, -Infinity, 0.5], browser: '[NaN, Infinity, -Infinity, 0.5]' },
    { name: 'an object that looks like an EJSON type', value: { $date: 5 }, browser: '({ $date: 5 })' },
    { name: 'undefined in an object', value: { gone: undefined, kept: 1 }, browser: '({ gone: undefined, kept: 1 })', expected: { kept: 1 } },
  ],
  garbage: '{"not": json',
  unencodable: cycle,
});
