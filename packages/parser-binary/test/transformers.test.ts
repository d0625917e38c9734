// The other transformers that carry binary frames, without happn-primus and the browser (the
// conformance test covers those over websockets).
import { describe } from '@jest/globals';
import { parserSuite } from '@primus/transformer-test-suite';
import engineio from '@primus/transformer-engineio';
import faye from '@primus/transformer-faye';
import lws from '@primus/transformer-lws';
import binary from '../src';

describe.each([engineio, faye, lws])('over $name', (transformer) => {
  parserSuite({
    parser: binary,
    transformer,
    browser: false,
    samples: [
      { name: 'numbers', value: { n: [1, 2.5, -(2 ** 40)] } },
      { name: 'bytes', value: { bytes: Buffer.from([0, 1, 254, 255]) } },
    ],
    garbage: new Uint8Array([0xc4]),
    unencodable: { fn: () => 1 },
  });
});
