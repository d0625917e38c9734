import { describe, expect, it } from '@jest/globals';
import binary from '../src';

type Callback = (err: Error | null | undefined, out?: unknown) => void;
interface LegacyParser {
  encoder(data: unknown, fn: Callback): void;
  decoder(data: unknown, fn: Callback): void;
}
// happn-primus 6.0.1's own binary parser (binary-pack 1.0, binarypack 0.0.4 on Node), to compare bytes with.
const happn = require('happn-primus/parsers/binary') as LegacyParser;

function call(fn: LegacyParser['encoder'], value: unknown): any {
  let result: unknown;
  let error: unknown;
  fn(value, (err, out) => {
    error = err;
    result = out;
  });
  if (error) throw error;
  return result;
}

/** The bytes of a view as their own ArrayBuffer, as a browser's WebSocket hands them over. */
const arrayBuffer = (bytes: Uint8Array): ArrayBuffer => new Uint8Array(bytes).buffer;
const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

describe('the binary parser', () => {
  const identical: [string, unknown][] = [
    ['an object', { a: 1, b: [1, 2.5, 'x', null, true, false], c: {} }],
    ['a control message', 'primus::ping::1700000000000'],
    ['integers of every width up to 32 bits', [0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31)]],
    ['floats', [0.5, -1e-9, NaN]],
    ['strings of every header size', ['', 'a'.repeat(15), 'b'.repeat(16), 'c'.repeat(65535), 'd'.repeat(65536)]],
    ['unicode', 'ü € 😀 𝌆 \u2028'],
    ['a Date, as its text', new Date(1700000000123)],
    ['a Buffer', Buffer.from([0, 1, 2, 255])],
    [
      'long raw, arrays and maps',
      { raw: Buffer.alloc(70000, 7), list: Array.from({ length: 20 }, (_, i) => i), map: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])) },
    ],
    ['undefined, in an object and an array', { gone: undefined, list: [undefined] }],
  ];

  it.each(identical)('puts the same bytes on the wire as happn-primus for %s, and both read them back', (_name, value) => {
    const ours = binary.encode(value);
    const theirs = call(happn.encoder, value) as Buffer;
    expect(hex(ours)).toBe(theirs.toString('hex'));
    expect(binary.decode(theirs)).toEqual(call(happn.decoder, theirs));
    expect(call(happn.decoder, Buffer.from(ours))).toEqual(binary.decode(ours));
  });

  it('writes arrays and maps of more than 65535 entries with 32-bit lengths, which binarypack reads', () => {
    // Not compared with binarypack's own bytes: its encoder takes about a minute for these.
    const list = Array.from({ length: 70000 }, (_, i) => i % 3);
    const map = Object.fromEntries(Array.from({ length: 70000 }, (_, i) => [`k${i}`, i % 2 === 0]));
    for (const value of [list, map]) {
      const ours = binary.encode(value);
      expect(ours[0]).toBe(Array.isArray(value) ? 0xdd : 0xdf);
      expect(binary.decode(ours)).toEqual(value);
      expect(call(happn.decoder, Buffer.from(ours))).toEqual(value);
    }
  });

  it('writes integers beyond 32 bits and infinities as float64, which binarypack on Node can read', () => {
    // binarypack throws "Invalid integer" for 1e300 and the infinities; its decoder reads them from us.
    for (const value of [2 ** 32, 1700000000000, -(2 ** 40), Number.MAX_SAFE_INTEGER, 1e300, Infinity, -Infinity]) {
      const ours = binary.encode(value);
      expect(ours[0]).toBe(0xcb);
      expect(call(happn.decoder, Buffer.from(ours))).toBe(value);
    }
    // binarypack writes these as int64, and its own Node decoder overflows the stack on them.
    const theirs = call(happn.encoder, 1700000000000) as Buffer;
    expect(theirs[0]).toBe(0xd3);
    expect(() => call(happn.decoder, theirs)).toThrow(RangeError);
    expect(binary.decode(theirs)).toBe(1700000000000);
    expect(binary.decode(call(happn.encoder, -(2 ** 40)))).toBe(-(2 ** 40));
  });

  it('sends a Date as its text, as binarypack does', () => {
    const when = new Date(1700000000123);
    expect(binary.decode(binary.encode({ when }))).toEqual({ when: String(when) });
  });

  it('reads every type binarypack and js-binarypack write: uint64, float32, undefined, the reserved bytes', () => {
    expect(binary.decode(new Uint8Array([0xcf, 0, 0, 0x01, 0, 0, 0, 0, 0x05]))).toBe(2 ** 40 + 5);
    expect(binary.decode(new Uint8Array([0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]))).toBe(-2);
    expect(binary.decode(new Uint8Array([0xca, 0x3f, 0xc0, 0, 0]))).toBe(1.5);
    expect(binary.decode(new Uint8Array([0x92, 0xc1, 0xd4]))).toEqual([undefined, undefined]);
  });

  it('gives raw bytes back as Buffers on Node, whatever form the frame arrived in', () => {
    const encoded = binary.encode({ bytes: new Uint8Array([1, 2, 3]) });
    for (const form of [Buffer.from(encoded), encoded, arrayBuffer(encoded)]) {
      const { bytes } = binary.decode(form) as { bytes: Uint8Array };
      expect(Buffer.isBuffer(bytes)).toBe(true);
      expect([...bytes]).toEqual([1, 2, 3]);
    }
  });

  it('keeps a __proto__ key as an own property, not as a prototype', () => {
    const decoded = binary.decode(new Uint8Array([0x81, 0xb9, ...Buffer.from('__proto__'), 0x01])) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded)).toEqual(['__proto__']);
  });

  describe('bad input', () => {
    const refused: [string, unknown, RegExp][] = [
      ['a text frame', 'primus::ping::1', /reads binary frames only, but a text frame arrived/],
      ['something that is not bytes', { length: 2 }, /reads binary frames \(Uint8Array or ArrayBuffer\), got \[object Object\]/],
      ['an empty frame', new Uint8Array([]), /truncated: 1 more bytes needed at offset 0 of 0/],
      ['a truncated array', new Uint8Array([0x92, 0x01]), /truncated/],
      ['a string length past the end', new Uint8Array([0xd9, 0xff, 0xff, 0xff, 0xff, 0x41]), /truncated: 4294967295 more bytes/],
      ['an array claiming more entries than bytes', new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff]), /truncated: an array of 4294967295 entries in 0 bytes/],
      ['bytes after the message', new Uint8Array([0x01, 0x02]), /followed by 1 unexpected bytes/],
      ['a type byte BinaryPack does not have', new Uint8Array([0xc4]), /BinaryPack has no type 0xc4/],
      ['a map key that is not a string or number', new Uint8Array([0x81, 0xc0, 0x01]), /map keys must be strings or numbers, got null/],
      ['nesting deeper than 1000 levels', new Uint8Array(1002).fill(0x91), /nested more than 1000 levels deep/],
    ];

    it.each(refused)('throws a clear error for %s', (_name, raw, message) => {
      expect(() => binary.decode(raw as Uint8Array)).toThrow(message);
    });

    it('throws for values BinaryPack cannot carry: functions, symbols, BigInts, class instances, cycles', () => {
      expect(() => binary.encode(() => 1)).toThrow(/BinaryPack cannot encode a function/);
      expect(() => binary.encode({ s: Symbol('x') })).toThrow(/BinaryPack cannot encode a symbol/);
      expect(() => binary.encode(1n)).toThrow(/BinaryPack cannot encode a bigint/);
      expect(() => binary.encode(new Map())).toThrow(/BinaryPack cannot encode a Map: send plain objects/);
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      expect(() => binary.encode(cycle)).toThrow(/nested more than 1000 levels deep \(is there a cycle\?\)/);
      // The shared buffer is still good afterwards.
      expect(binary.decode(binary.encode({ ok: true }))).toEqual({ ok: true });
    });
  });

  it('has a browser half that writes the same bytes and reads them back', () => {
    const browser = new Function(`return ${binary.browser}`)() as typeof binary;
    const value = { when: new Date(1700000000123), bytes: new Uint8Array([1, 2]), text: 'ü 😀', n: [1, 2.5, -3, 2 ** 40] };
    const bytes = browser.encode(value);
    expect(hex(bytes)).toBe(hex(binary.encode(value)));
    const decoded = browser.decode(arrayBuffer(bytes)) as typeof value;
    expect(decoded).toEqual({ ...value, when: String(value.when) });
    expect(() => browser.decode('text')).toThrow(/text frame/);
  });
});
