// EJSON is text, so it also works over the transformers that carry text only (the conformance
// test covers websockets, happn-primus and the browser).
import { describe } from '@jest/globals';
import { parserSuite } from '@primus/transformer-test-suite';
import browserchannel from '@primus/transformer-browserchannel';
import sockjs from '@primus/transformer-sockjs';
import ejson from '../src';

const cycle: Record<string, unknown> = {};
cycle.self = cycle;

describe.each([sockjs, browserchannel])('over $name', (transformer) => {
  parserSuite({
    parser: ejson,
    transformer,
    browser: false,
    samples: [
      { name: 'a Date and bytes', value: { when: new Date(1700000000123), bytes: new Uint8Array([0, 255]) } },
      { name: 'NaN and unicode', value: [NaN, -Infinity, 'line\u2028 😀'] },
    ],
    garbage: '{"not": json',
    unencodable: cycle,
  });
});
