import EJSON from 'ejson';
import { decode, encode, name, type RawMessage } from './codec';
import { source } from '../generated/browser';

export type { RawMessage };

/**
 * The EJSON parser, wire-compatible with happn-primus 6.0.1's `ejson` parser: JSON text that also
 * carries Dates, binary data, NaN and the infinities, and custom types registered with
 * `EJSON.addType()`.
 */
export interface EjsonParser {
  /** Reported by `/primus/spec`. */
  readonly name: 'ejson';
  /** Encode one message as EJSON text; `undefined` (or a function) encodes to `undefined` and is not sent. */
  encode(data: unknown): string;
  /** Decode one message; throws for malformed text and unknown EJSON types. */
  decode(raw: RawMessage): unknown;
  /** JavaScript source of an expression that evaluates to the same codec in a browser. */
  readonly browser: string;
}

/** The EJSON parser object; pass it as `parser`, or name it: `parser: 'ejson'`. */
export const ejson: EjsonParser = {
  name: name as 'ejson',
  encode,
  decode,
  browser: source,
};

/** The `ejson` module the server side encodes with: register custom types on it with `EJSON.addType()`. */
export { EJSON };

export default ejson;
