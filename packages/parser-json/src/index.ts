/** What a value decoded from the wire can arrive as. */
export type RawMessage = string | Uint8Array | ArrayBuffer;

/**
 * The JSON parser: the default message codec of Primus and the one happn-primus 6.0.1 speaks.
 *
 * Text frames are parsed as JSON. Binary frames are decoded as UTF-8 and then parsed as JSON, so
 * `data` listeners only ever see JSON values; a binary frame that is not UTF-8 JSON is a decode
 * error like any other malformed message.
 */
export interface JsonParser {
  /** Name reported in `/primus/spec`. */
  readonly name: 'json';
  /** Encode one message; `undefined` (or a function) encodes to `undefined` and is not sent. */
  encode(data: unknown): string;
  /** Decode one message; throws a SyntaxError for malformed input. */
  decode(raw: RawMessage): unknown;
  /** JavaScript source of an expression that evaluates to the same codec in a browser. */
  readonly browser: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decode(raw: RawMessage): unknown {
  return JSON.parse(typeof raw === 'string' ? raw : utf8.decode(raw));
}

/** The JSON parser object; pass it as `parser` or use the default `'json'`. */
export const json: JsonParser = {
  name: 'json',
  encode: JSON.stringify as (data: unknown) => string,
  decode,
  browser:
    // TextDecoder's default encoding is UTF-8.
    '{name:"json",encode:JSON.stringify,decode:(r)=>JSON.parse(typeof r==="string"?r:new TextDecoder(void 0,{fatal:true}).decode(r))}',
};

export default json;
