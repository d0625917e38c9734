import { json } from '@primus/parser-json';
import { invalidOption, PrimusError } from './errors';
import { isPackageName, loadNamed, packageCandidates } from './load-package';

/** Raw data as it arrives from a transformer. */
export type RawData = string | Buffer | Uint8Array | ArrayBuffer;

/**
 * A message codec. `encode` and `decode` are called with the spark (or client) as `this` and may
 * throw; a throw is reported as a parser error and the connection stays open.
 */
export interface Parser {
  /** Reported by `/primus/spec`. */
  readonly name: string;
  encode(data: unknown): string | Buffer | Uint8Array | undefined;
  decode(raw: any): unknown;
  /** Source of an expression that evaluates to `{ encode, decode }` in a browser (for `primus.js`). */
  readonly browser?: string;
  /** Messages are bytes: the transformer must carry binary frames (not one that is `textOnly`). @default false */
  readonly binary?: boolean;
}

/** The happn-primus parser shape: callback-style `encoder`/`decoder`, plus an optional browser `library`. */
export interface LegacyParser {
  encoder(this: unknown, data: unknown, fn: (err: Error | null | undefined, payload?: unknown) => void): void;
  decoder(this: unknown, raw: unknown, fn: (err: Error | null | undefined, data?: unknown) => void): void;
  library?: string;
  name?: string;
}

/** Identity helper for third-party parsers: checks the shape at compile time. */
export function defineParser<P extends Parser>(parser: P): P {
  return parser;
}

function callSync(fn: LegacyParser['encoder'], ctx: unknown, value: unknown, what: string): any {
  let done = false;
  let error: unknown;
  let result: unknown;
  fn.call(ctx, value, (err, out) => {
    done = true;
    error = err;
    result = out;
  });
  if (!done) throw new Error(`the custom parser's ${what} must call back synchronously`);
  if (error) throw error;
  return result;
}

function fromLegacy(legacy: LegacyParser): Parser {
  const encoderSource = String(legacy.encoder);
  const decoderSource = String(legacy.decoder);
  return {
    name: 'custom',
    encode(this: unknown, data: unknown) {
      return callSync(legacy.encoder, this, data, 'encoder');
    },
    decode(this: unknown, raw: unknown) {
      return callSync(legacy.decoder, this, raw, 'decoder');
    },
    browser:
      '(function(){' +
      (legacy.library ?? '') +
      '\nvar e=(' +
      functionExpression(encoderSource) +
      '),d=(' +
      functionExpression(decoderSource) +
      ');' +
      'function s(f,c,v){var r,x;f.call(c,v,function(a,b){x=a;r=b});if(x)throw x;return r}' +
      'return{encode:function(v){return s(e,this,v)},decode:function(v){return s(d,this,v)}}})()',
  };
}

/**
 * Turn a function's source into an expression: plain and arrow functions are already expressions,
 * method shorthand (`client(p) {}`, `async client() {}`) is wrapped in an object literal.
 */
export function functionExpression(source: string): string {
  const trimmed = source.trim();
  if (/^(async\s+)?function\b/.test(trimmed) || /^(async\s*)?(\([^)]*\)|[\w$]+)\s*=>/.test(trimmed) || /^class\b/.test(trimmed)) {
    return trimmed;
  }
  return `(function(o){for(var k in o)return o[k]})({${trimmed}})`;
}

function isParser(value: unknown): value is Parser {
  const p = value as Parser | undefined;
  return !!p && typeof p === 'object' && typeof p.encode === 'function' && typeof p.decode === 'function';
}

function isLegacy(value: unknown): value is LegacyParser {
  const p = value as LegacyParser | undefined;
  return !!p && typeof p === 'object' && typeof p.encoder === 'function' && typeof p.decoder === 'function';
}

/**
 * Resolve the `parser` option: `'json'` (the default), a parser object, or the name of an installed
 * package: `@acme/x` and `primus-parser-x` load that package, another name `x` the first installed of
 * `@primus/parser-x`, `primus-parser-x` and `x`.
 */
export function resolveParser(option: unknown): Parser {
  if (option === undefined || option === null) return json;
  if (typeof option === 'string') {
    const name = option.trim().toLowerCase();
    if (name === 'json') return json;
    if (!isPackageName(name)) {
      throw new PrimusError(
        'PRIMUS_ERR_UNKNOWN_PARSER',
        `Unsupported parser: "${option}". Use "json", the name of an installed parser package, or pass a parser object ({ encode, decode })`,
      );
    }
    const found = loadNamed('parser', name);
    if (!found) {
      const candidates = packageCandidates('parser', name);
      throw new PrimusError(
        'PRIMUS_ERR_MISSING_PARSER',
        `Missing dependencies for parser: "${name}". Install the package that provides it (npm install ${candidates[0]}; tried ${candidates.join(', ')}) or pass a parser object ({ encode, decode })`,
      );
    }
    const mod = found.module as { default?: unknown };
    return resolveParser(mod.default ?? mod);
  }
  if (isParser(option)) return option;
  if (isLegacy(option)) return fromLegacy(option);
  throw new PrimusError('PRIMUS_ERR_INVALID_PARSER', 'The given parser is not valid: expected "json" or an object with encode() and decode() (or encoder() and decoder())');
}

/**
 * Refuse a parser that sends binary frames over a transformer that carries text only: bytes would
 * reach the other side as mangled UTF-8 text and fail to decode one message at a time.
 */
export function assertParserFits(parser: Parser, transformer: { name: string; textOnly?: boolean }): void {
  if (!parser.binary || !transformer.textOnly) return;
  throw invalidOption(
    'parser',
    `a parser that sends text with the "${transformer.name}" transformer, which carries text only ` +
      '(a binary parser needs websockets, engine.io, faye or lws; ejson and json send text)',
    parser.name,
  );
}
