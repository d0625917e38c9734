import { decode as decodeBytes, encode, name, type RawMessage } from './codec';
import { source } from '../generated/browser';

export type { RawMessage };

/**
 * The MessagePack parser, wire-compatible with happn-primus 6.0.1's `msgpack` parser: messages
 * travel as binary frames, so it needs a transformer that carries them.
 */
export interface MsgpackParser {
  /** Reported by `/primus/spec`. */
  readonly name: 'msgpack';
  /** Messages are bytes: the transformer must carry binary frames. */
  readonly binary: true;
  /** Encode one message as MessagePack bytes. */
  encode(data: unknown): Uint8Array;
  /** Decode one binary frame; throws for text frames and malformed bytes. */
  decode(raw: RawMessage): unknown;
  /** JavaScript source of an expression that evaluates to the same codec in a browser. */
  readonly browser: string;
}

/**
 * Decode with the bytes as a Buffer: MessagePack binary values are views of the input, so on Node
 * they come out as Buffers, as they did with happn-primus, whatever form the frame arrived in.
 */
function decode(raw: RawMessage): unknown {
  if (typeof raw === 'string' || Buffer.isBuffer(raw)) return decodeBytes(raw);
  if (ArrayBuffer.isView(raw)) return decodeBytes(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
  if (Object.prototype.toString.call(raw) === '[object ArrayBuffer]') return decodeBytes(Buffer.from(raw as ArrayBuffer));
  return decodeBytes(raw);
}

/** The MessagePack parser object; pass it as `parser`, or name it: `parser: 'msgpack'`. */
export const msgpack: MsgpackParser = {
  name: name as 'msgpack',
  binary: true,
  encode,
  decode,
  browser: source,
};

export default msgpack;
