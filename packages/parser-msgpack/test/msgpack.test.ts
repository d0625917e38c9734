import { describe, expect, it } from '@jest/globals';
import msgpack from '../src';

type Callback = (err: Error | null | undefined, out?: unknown) => void;
interface LegacyParser {
  encoder(data: unknown, fn: Callback): void;
  decoder(data: unknown, fn: Callback): void;
}
// happn-primus 6.0.1's own msgpack parser (msgpack-lite 0.1.26), to compare bytes with.
const happn = require('happn-primus/parsers/msgpack') as LegacyParser;

function call(fn: LegacyParser['encoder'], value: unknown): any {
  let result: unknown;
  fn(value, (err, out) => {
    if (err) throw err;
    result = out;
  });
  return result;
}

/** The bytes of a view as their own ArrayBuffer, as a browser's WebSocket hands them over. */
const arrayBuffer = (bytes: Uint8Array): ArrayBuffer => new Uint8Array(bytes).buffer;

const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

describe('the msgpack parser', () => {
  const identical: [string, unknown][] = [
    ['an object', { a: 1, b: [1, 2.5, 'x', null, true, false], c: {} }],
    ['a control message', 'primus::ping::1700000000000'],
    ['small and 32-bit integers', [0, 127, 128, 255, 256, 65535, 65536, -1, -32, -33, -128, -129, -32768, -32769, 2 ** 31 - 1, -(2 ** 31)]],
    ['floats, NaN and infinities', [0.5, -1e-9, NaN, Infinity, -Infinity]],
    ['strings of every header size', ['', 'a'.repeat(31), 'b'.repeat(32), 'c'.repeat(255), 'd'.repeat(256), 'e'.repeat(65536)]],
    ['unicode', 'ü € 😀 𝌆 \u2028'],
    ['a Date', new Date(1700000000123)],
    ['an early Date', new Date(5)],
    ['a Buffer', Buffer.from([0, 1, 2, 255])],
    ['undefined in an object and an array', { gone: undefined, list: [undefined] }],
  ];

  it.each(identical)('puts the same bytes on the wire as happn-primus for %s, and both read them back', (_name, value) => {
    const ours = msgpack.encode(value);
    const theirs = call(happn.encoder, value) as Buffer;
    expect(hex(ours)).toBe(theirs.toString('hex'));
    expect(msgpack.decode(theirs)).toEqual(call(happn.decoder, theirs));
  });

  it('writes integers beyond 32 bits as integers where happn-primus wrote float64, and each side reads the other', () => {
    for (const value of [2 ** 32, 1700000000000, -(2 ** 40), Number.MAX_SAFE_INTEGER]) {
      const ours = msgpack.encode(value);
      expect(call(happn.decoder, Buffer.from(ours))).toBe(value);
      expect(msgpack.decode(call(happn.encoder, value))).toBe(value);
    }
  });

  it("reads happn-primus's extension types: Dates, and Uint8Arrays that are not Buffers", () => {
    const value = { when: new Date(1234567890123), bytes: new Uint8Array([9, 8, 7]) };
    const theirs = call(happn.encoder, value) as Buffer;
    // msgpack-lite writes a plain Uint8Array as its extension 0x12, not as MessagePack bin.
    expect(theirs.includes(Buffer.from([0xc7, 0x03, 0x12]))).toBe(true);
    expect(msgpack.decode(theirs)).toEqual(value);
  });

  it('reads the standard timestamp extension as a Date', () => {
    // fixext 4, type -1, seconds since the epoch.
    expect(msgpack.decode(new Uint8Array([0xd6, 0xff, 0x00, 0x00, 0x00, 0x2a]))).toEqual(new Date(42000));
  });

  it('gives binary values back as Buffers on Node, whatever form the frame arrived in', () => {
    const encoded = msgpack.encode({ bytes: new Uint8Array([1, 2, 3]) });
    const forms = [Buffer.from(encoded), encoded, arrayBuffer(encoded)];
    for (const form of forms) {
      const { bytes } = msgpack.decode(form) as { bytes: Uint8Array };
      expect(Buffer.isBuffer(bytes)).toBe(true);
      expect([...bytes]).toEqual([1, 2, 3]);
    }
  });

  describe('bad input', () => {
    const refused: [string, unknown, RegExp][] = [
      ['a text frame', 'primus::ping::1', /reads binary frames only, but a text frame arrived/],
      ['something that is not bytes', { length: 2 }, /reads binary frames \(Uint8Array or ArrayBuffer\), got \[object Object\]/],
      ['a truncated message', new Uint8Array([0x92, 0x01]), /malformed MessagePack message: truncated/],
      ['bytes after the message', new Uint8Array([0x01, 0x02]), /malformed MessagePack message: Extra 1 of 2 byte/],
      ['the never-used type byte', new Uint8Array([0xc1]), /malformed MessagePack message: Unrecognized type byte/],
      ['a __proto__ key', new Uint8Array([0x81, 0xa9, ...Buffer.from('__proto__'), 0x01]), /malformed MessagePack message: .*__proto__/],
      ['a string length past the end', new Uint8Array([0xdb, 0xff, 0xff, 0xff, 0xff]), /malformed MessagePack message: truncated/],
    ];

    it.each(refused)('throws a clear error for %s', (_name, raw, message) => {
      expect(() => msgpack.decode(raw as Uint8Array)).toThrow(message);
    });

    it('throws for values MessagePack cannot carry: functions, symbols, cycles', () => {
      expect(() => msgpack.encode(() => 1)).toThrow(/Unrecognized object/);
      expect(() => msgpack.encode({ s: Symbol('x') })).toThrow(/Unrecognized object/);
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      expect(() => msgpack.encode(cycle)).toThrow(/Too deep/);
    });
  });

  it('has a browser half that encodes to the same bytes and decodes them', () => {
    const browser = new Function(`return ${msgpack.browser}`)() as typeof msgpack;
    const value = { when: new Date(1700000000123), bytes: new Uint8Array([1, 2]), text: 'ü 😀', n: [1, 2.5, -3] };
    const bytes = browser.encode(value);
    expect(hex(bytes)).toBe(hex(msgpack.encode(value)));
    // The browser gets an ArrayBuffer from its WebSocket.
    expect(browser.decode(arrayBuffer(bytes))).toEqual(value);
    expect(() => browser.decode('text')).toThrow(/text frame/);
  });
});
