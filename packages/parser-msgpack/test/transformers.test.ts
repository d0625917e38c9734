// The other transformers that carry binary frames, without happn-primus and the browser (the
// conformance test covers those over websockets).
import { describe } from '@jest/globals';
import { parserSuite } from '@primus/transformer-test-suite';
import engineio from '@primus/transformer-engineio';
import faye from '@primus/transformer-faye';
import lws from '@primus/transformer-lws';
import msgpack from '../src';

describe.each([engineio, faye, lws])('over $name', (transformer) => {
  parserSuite({
    parser: msgpack,
    transformer,
    browser: false,
    samples: [
      { name: 'a Date and numbers', value: { when: new Date(1700000000123), n: [1, 2.5, -(2 ** 40)] } },
      { name: 'bytes', value: { bytes: new Uint8Array([0, 1, 254, 255]) } },
    ],
    garbage: new Uint8Array([0xc1]),
    unencodable: { fn: () => 1 },
  });
});
