import EJSON from 'ejson';

/** What a value decoded from the wire can arrive as. */
export type RawMessage = string | Uint8Array | ArrayBuffer;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Encode one message as EJSON text. `undefined` (or a function) encodes to `undefined` and is not
 * sent, as with JSON; a cycle throws.
 */
export function encode(data: unknown): string {
  return EJSON.stringify(data);
}

/**
 * Decode one message. Text frames are parsed as EJSON; binary frames are decoded as UTF-8 first
 * (happn-primus's decoder refused them). Throws a SyntaxError for malformed text and an Error for
 * an EJSON type this side does not know.
 */
export function decode(raw: RawMessage): unknown {
  if (typeof raw === 'string') return EJSON.parse(raw);
  // Tag checks rather than instanceof: frames may come from another realm (a vm, a worker).
  if (!ArrayBuffer.isView(raw) && Object.prototype.toString.call(raw) !== '[object ArrayBuffer]') {
    throw new TypeError(`the ejson parser reads text frames (or UTF-8 bytes), got ${Object.prototype.toString.call(raw)}`);
  }
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch (err) {
    throw new TypeError('the ejson parser got a binary frame that is not UTF-8 text', { cause: err });
  }
  return EJSON.parse(text);
}

/** Reported by `/primus/spec`, and the name happn-primus knows the parser by. */
export const name = 'ejson';
