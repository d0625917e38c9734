import { packValue, unpackValue } from './binarypack';

/** What a value decoded from the wire can arrive as. */
export type RawMessage = string | Uint8Array | ArrayBuffer;

/** Encode one message as BinaryPack bytes; throws for values the format cannot carry. */
export function encode(data: unknown): Uint8Array {
  return packValue(data);
}

/** Decode one BinaryPack message; throws a clear error for text frames and malformed bytes. */
export function decode(raw: RawMessage): unknown {
  if (typeof raw === 'string') {
    throw new TypeError('the binary parser reads binary frames only, but a text frame arrived (does the other side use another parser?)');
  }
  // Tag checks rather than instanceof: frames may come from another realm (a vm, a worker).
  const tag = Object.prototype.toString.call(raw);
  // A Uint8Array (a Buffer on Node) is read as it is, so raw values in the message are views of it.
  if (tag === '[object Uint8Array]') return unpackValue(raw as Uint8Array);
  if (ArrayBuffer.isView(raw)) return unpackValue(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength));
  if (tag === '[object ArrayBuffer]') return unpackValue(new Uint8Array(raw as ArrayBuffer));
  throw new TypeError(`the binary parser reads binary frames (Uint8Array or ArrayBuffer), got ${tag}`);
}

/** Reported by `/primus/spec`, and the name happn-primus knows the parser by. */
export const name = 'binary';
