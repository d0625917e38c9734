import { isControl, parseControl, escapeSeparators } from './control';
import { ParserError, PrimusError } from './errors';
import { runTransformers, toError, type MessageTransformer, type Packet } from './transform';

/**
 * True in the primus.js builds (@primus/client defines it), undefined elsewhere. The fast paths for
 * an empty transformer list, which spare a server a closure per message, are left out there: the
 * general path gives the same result, synchronously.
 */
declare const PRIMUS_BROWSER: boolean | undefined;

/** The two lists of message transformers a client, or a server for all its sparks, holds. */
export interface Transformers<Ctx = any> {
  readonly incoming: MessageTransformer<Ctx, Packet>[];
  readonly outgoing: MessageTransformer<Ctx, Packet>[];
}

/**
 * Add a message transformer to `transformers[type]`, once: adding the same function again does
 * nothing. A bad type or a non-function throws `PRIMUS_ERR_TRANSFORM_TYPE`.
 */
export function addTransformer<Ctx>(transformers: Transformers<Ctx>, type: unknown, fn: unknown): void {
  if (type !== 'incoming' && type !== 'outgoing') {
    throw new PrimusError('PRIMUS_ERR_TRANSFORM_TYPE', `Invalid transformer type "${String(type)}": use "incoming" or "outgoing"`);
  }
  if (typeof fn !== 'function') throw new PrimusError('PRIMUS_ERR_TRANSFORM_TYPE', 'A message transformer must be a function');
  const list = transformers[type];
  if (list.indexOf(fn as MessageTransformer<Ctx, Packet>) < 0) list.push(fn as MessageTransformer<Ctx, Packet>);
}

/**
 * One side of a connection as the kernel sees it: the client, or a spark on the server. Each hook
 * is called with the side as `this`. The hooks are internal to the two packages, so their names
 * start with `_`: primus.js's build shortens those (see @primus/bundle-browser's `manglePrivate`).
 */
export interface Side<Ctx> {
  /** The parser's decode. */
  _decode(this: Ctx, raw: unknown): unknown;
  /** The parser's encode. */
  _encode(this: Ctx, data: unknown): unknown;
  /** A control message (`primus::<type>::<value>`) arrived; types a side does not know are ignored. */
  _control(this: Ctx, type: string, value: string, message: string): void;
  /**
   * Optional: a data message arrived, before the incoming transformers; false drops it. Recovery
   * counts messages here and drops the ones a client sent again.
   */
  _accept?(this: Ctx, data: unknown): boolean;
  /** A message for the application, after the incoming transformers: emit `data` (or hold it). */
  _deliver(this: Ctx, data: unknown, raw: unknown): void;
  /** A message failed (parser or transformer); the connection stays open. */
  _fail(this: Ctx, error: PrimusError): void;
}

/** A parser failure as a ParserError, with the parser's error as `cause`. */
export function parserError(code: 'PRIMUS_ERR_PARSER_ENCODE' | 'PRIMUS_ERR_PARSER_DECODE', cause: unknown): ParserError {
  return new ParserError(code, `Failed to ${code === 'PRIMUS_ERR_PARSER_ENCODE' ? 'encode outgoing' : 'decode incoming'} data: ${toError(cause).message}`, { cause });
}

/**
 * Handle one frame from the other side: decode it; a control message goes to `side._control`, any
 * other message through the incoming transformers to `side._deliver`. Failures go to `side._fail`.
 */
export function receive<Ctx>(ctx: Ctx, side: Side<Ctx>, transformers: readonly MessageTransformer<Ctx, Packet>[], raw: unknown): void {
  let data: unknown;
  try {
    data = side._decode.call(ctx, raw);
  } catch (err) {
    side._fail.call(ctx, parserError('PRIMUS_ERR_PARSER_DECODE', err));
    return;
  }
  if (isControl(data)) {
    const parsed = parseControl(data);
    side._control.call(ctx, parsed[0], parsed[1], data);
  } else if (side._accept !== undefined && !side._accept.call(ctx, data)) {
    return;
  } else if (typeof PRIMUS_BROWSER === 'undefined' && transformers.length === 0) {
    side._deliver.call(ctx, data, raw);
  } else {
    runTransformers(ctx, transformers, { data, raw }, (err, packet) => {
      if (err) side._fail.call(ctx, transformError('incoming', err));
      else if (packet) side._deliver.call(ctx, packet.data, raw);
    });
  }
}

/**
 * Run the outgoing transformers over `data`, then hand what is left to `send` (with `ctx` as
 * `this`). A transformer that returns false drops the message; one that fails goes to `side._fail`.
 */
export function transmit<Ctx>(
  ctx: Ctx,
  side: Side<Ctx>,
  transformers: readonly MessageTransformer<Ctx, Packet>[],
  data: unknown,
  send: (this: Ctx, data: unknown) => unknown,
): void {
  if (typeof PRIMUS_BROWSER === 'undefined' && transformers.length === 0) {
    send.call(ctx, data);
    return;
  }
  runTransformers(ctx, transformers, { data }, (err, packet) => {
    if (err) side._fail.call(ctx, transformError('outgoing', err));
    else if (packet) send.call(ctx, packet.data);
  });
}

/**
 * Encode one message for the wire: the parser, then U+2028/U+2029 escaped in text. Returns
 * undefined when it encodes to nothing (`undefined` or `''`: no frame is sent) or when the parser
 * fails (the ParserError goes to `side._fail`).
 */
export function encode<Ctx, Payload>(ctx: Ctx, side: Side<Ctx>, data: unknown): Payload | undefined {
  let payload: unknown;
  try {
    payload = side._encode.call(ctx, data);
  } catch (err) {
    side._fail.call(ctx, parserError('PRIMUS_ERR_PARSER_ENCODE', err));
    return undefined;
  }
  if (!payload) return undefined;
  return (typeof payload === 'string' ? escapeSeparators(payload) : payload) as Payload;
}

/** A failing message transformer's error as a PrimusError (`PRIMUS_ERR_TRANSFORM`), with it as `cause`. */
export function transformError(direction: 'incoming' | 'outgoing', cause: Error): PrimusError {
  return new PrimusError('PRIMUS_ERR_TRANSFORM', `An ${direction} message transformer failed: ${cause.message}`, { cause });
}
