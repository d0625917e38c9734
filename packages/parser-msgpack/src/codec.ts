import { Decoder, Encoder, ExtensionCodec, decodeTimestampExtension } from '@msgpack/msgpack';

/** What a value decoded from the wire can arrive as. */
export type RawMessage = string | Uint8Array | ArrayBuffer;

/**
 * msgpack-lite's extension type for a Date (happn-primus 6.0.1 encodes with msgpack-lite 0.1.26):
 * the payload is the MessagePack encoding of the milliseconds since the epoch.
 */
const EXT_DATE = 0x0d;
/** msgpack-lite's extension types for a Uint8Array that is not a Buffer, an ArrayBuffer, and a Buffer. */
const EXT_UINT8ARRAY = 0x12;
const EXT_ARRAYBUFFER = 0x1a;
const EXT_BUFFER = 0x1b;

const extensions = new ExtensionCodec();
// The standard timestamp extension (-1) stays readable, but Dates are written as msgpack-lite
// writes them, so a happn-primus peer turns them back into Dates.
extensions.register({ type: -1, encode: () => null, decode: decodeTimestampExtension });
extensions.register({
  type: EXT_DATE,
  encode: (value) => (value instanceof Date ? encodeTime(value.getTime()) : null),
  decode: (data) => {
    const time = decoder.decode(data);
    if (typeof time !== 'number') throw new TypeError('a Date extension must hold a number');
    return new Date(time);
  },
});
const copyBytes = (data: Uint8Array): Uint8Array => data.slice();
extensions.register({ type: EXT_UINT8ARRAY, encode: () => null, decode: copyBytes });
extensions.register({ type: EXT_ARRAYBUFFER, encode: () => null, decode: copyBytes });
extensions.register({ type: EXT_BUFFER, encode: () => null, decode: copyBytes });

const encoder = new Encoder({ extensionCodec: extensions });
const decoder = new Decoder({ extensionCodec: extensions });

/**
 * The time of a Date as msgpack-lite writes it: the smallest integer form inside 32 bits, a
 * float64 otherwise, so the bytes match happn-primus's exactly.
 */
function encodeTime(time: number): Uint8Array {
  if ((time | 0) === time || Number.isNaN(time)) return encoder.encode(time);
  const bytes = new Uint8Array(9);
  bytes[0] = 0xcb;
  new DataView(bytes.buffer).setFloat64(1, time);
  return bytes;
}

/** Encode one message as MessagePack bytes; throws for values MessagePack cannot carry (functions, symbols, cycles). */
export function encode(data: unknown): Uint8Array {
  return encoder.encode(data);
}

/** Decode one MessagePack message; throws a clear error for text frames and malformed bytes. */
export function decode(raw: RawMessage): unknown {
  if (typeof raw === 'string') {
    throw new TypeError('the msgpack parser reads binary frames only, but a text frame arrived (does the other side use another parser?)');
  }
  // Tag checks rather than instanceof: frames may come from another realm (a vm, a worker).
  if (!ArrayBuffer.isView(raw) && Object.prototype.toString.call(raw) !== '[object ArrayBuffer]') {
    throw new TypeError(`the msgpack parser reads binary frames (Uint8Array or ArrayBuffer), got ${Object.prototype.toString.call(raw)}`);
  }
  try {
    return decoder.decode(raw);
  } catch (err) {
    // A DataView read past the end ("Offset is outside the bounds") means the message was cut short.
    const message = String((err as Error)?.message);
    const reason = /outside the bounds|Insufficient data/.test(message) ? 'truncated' : message;
    throw new Error(`malformed MessagePack message: ${reason}`, { cause: err });
  }
}

/** Reported by `/primus/spec`, and the name happn-primus knows the parser by. */
export const name = 'msgpack';
