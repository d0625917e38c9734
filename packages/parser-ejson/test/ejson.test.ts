import { describe, expect, it } from '@jest/globals';
import ejson, { EJSON } from '../src';

type Callback = (err: Error | null | undefined, out?: unknown) => void;
interface LegacyParser {
  encoder(data: unknown, fn: Callback): void;
  decoder(data: unknown, fn: Callback): void;
}
// happn-primus 6.0.1's own ejson parser (ejson 2.1), to compare the text with.
const happn = require('happn-primus/parsers/ejson') as LegacyParser;

function call(fn: LegacyParser['encoder'], value: unknown): any {
  let result: unknown;
  fn(value, (err, out) => {
    if (err) throw err;
    result = out;
  });
  return result;
}

describe('the ejson parser', () => {
  const values: [string, unknown][] = [
    ['an object', { a: 1, b: [1, 2.5, 'x', null, true, false], c: {} }],
    ['a control message', 'primus::ping::1700000000000'],
    ['a Date', new Date(1700000000123)],
    ['bytes', { bytes: new Uint8Array([0, 1, 2, 255]) }],
    ['NaN and the infinities', [NaN, Infinity, -Infinity]],
    ['objects that look like EJSON types', [{ $date: 1 }, { $binary: 'AA==' }, { $type: 'x', $value: 1 }]],
    ['unicode', 'ü € 😀 𝌆'],
  ];

  it.each(values)('writes the same text as happn-primus for %s, and both read it back', (_name, value) => {
    const ours = ejson.encode(value);
    expect(ours).toBe(call(happn.encoder, value));
    expect(ejson.decode(ours)).toEqual(call(happn.decoder, ours));
    expect(ejson.decode(ours)).toEqual(value);
  });

  it('encodes undefined and functions to nothing, like JSON', () => {
    expect(ejson.encode(undefined)).toBeUndefined();
    expect(ejson.encode(() => 1)).toBeUndefined();
  });

  it('reads binary frames as UTF-8 text', () => {
    const text = ejson.encode({ when: new Date(5), s: 'ü' });
    expect(ejson.decode(new TextEncoder().encode(text))).toEqual({ when: new Date(5), s: 'ü' });
    expect(ejson.decode(new TextEncoder().encode(text).buffer)).toEqual({ when: new Date(5), s: 'ü' });
  });

  it('carries custom types registered on the exported EJSON', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
      typeName(): string {
        return 'primus-test-point';
      }
      toJSONValue(): unknown {
        return [this.x, this.y];
      }
    }
    EJSON.addType('primus-test-point', ([x, y]: [number, number]) => new Point(x, y));
    const text = ejson.encode({ at: new Point(1, 2) });
    expect(text).toBe('{"at":{"$type":"primus-test-point","$value":[1,2]}}');
    expect((ejson.decode(text) as { at: Point }).at).toEqual(new Point(1, 2));
  });

  describe('bad input', () => {
    it('throws a SyntaxError for malformed text', () => {
      expect(() => ejson.decode('{"a":')).toThrow(SyntaxError);
    });

    it('throws for an EJSON type this side does not know', () => {
      expect(() => ejson.decode('{"$type":"nobody-registered-this","$value":1}')).toThrow(/Custom EJSON type nobody-registered-this is not defined/);
    });

    it('throws for bytes that are not UTF-8, and for frames that are neither text nor bytes', () => {
      expect(() => ejson.decode(new Uint8Array([0x22, 0xff, 0x22]))).toThrow(/a binary frame that is not UTF-8 text/);
      expect(() => ejson.decode({} as unknown as string)).toThrow(/reads text frames \(or UTF-8 bytes\), got \[object Object\]/);
    });

    it('throws for a cycle', () => {
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      expect(() => ejson.encode(cycle)).toThrow(/circular/);
    });
  });

  it('has a browser half that writes the same text and reads it back', () => {
    const browser = new Function(`return ${ejson.browser}`)() as typeof ejson;
    const value = { when: new Date(1700000000123), bytes: new Uint8Array([1, 2]), n: [NaN, 1], $date: 'x' };
    expect(browser.encode(value)).toBe(ejson.encode(value));
    expect(browser.decode(ejson.encode(value))).toEqual(value);
    expect(() => browser.decode('{')).toThrow(SyntaxError);
  });
});
