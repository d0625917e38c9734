/** The packet a message transformer receives; it may replace `data`. */
export interface Packet<Raw = unknown> {
  data: unknown;
  raw?: Raw;
}

/** Completion callback of an asynchronous message transformer; `keep === false` drops the message. */
export type TransformNext = (err?: Error | null, keep?: boolean) => void;

// One function type rather than a union of the two forms, so that `(packet) => ...` gets its
// parameter type from context; a function that declares fewer parameters still fits it.
/**
 * A message transformer. One declared parameter or none means synchronous: return `false` to drop
 * the message, or a promise (an `async` function) that resolves to `false` to drop it. Two or
 * more is callback style and must call `next`. Throwing, or rejecting, fails the message the same
 * way as `next(err)`.
 */
export type MessageTransformer<Ctx = unknown, P extends Packet = Packet> = (this: Ctx, packet: P, next: TransformNext) => unknown;

/** Called once the chain is done: `packet` is undefined when a transformer dropped the message. */
export type TransformDone<P> = (err: Error | null, packet?: P) => void;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/**
 * Run message transformers in series. Synchronous ones run in a plain loop, so a chain without
 * asynchronous members completes before this function returns and allocates no closures.
 */
export function runTransformers<Ctx, P extends Packet>(ctx: Ctx, list: readonly MessageTransformer<Ctx, P>[], packet: P, done: TransformDone<P>, from = 0): void {
  for (let i = from; i < list.length; i++) {
    const fn = list[i]!;
    if (fn.length < 2) {
      let result: unknown;
      try {
        result = (fn as (this: Ctx, packet: P) => unknown).call(ctx, packet);
      } catch (err) {
        return done(toError(err));
      }
      if (result === false) return done(null);
      if (isThenable(result)) {
        result.then(
          (value) => (value === false ? done(null) : runTransformers(ctx, list, packet, done, i + 1)),
          (err: unknown) => done(toError(err)),
        );
        return;
      }
      continue;
    }
    let called = false;
    try {
      (fn as (this: Ctx, packet: P, next: TransformNext) => void).call(ctx, packet, (err, keep) => {
        if (called) return;
        called = true;
        if (err) return done(toError(err));
        if (keep === false) return done(null);
        runTransformers(ctx, list, packet, done, i + 1);
      });
    } catch (err) {
      // A throw after `next` came from further down the chain (a `data` listener, say): it is not
      // this transformer's failure, so it goes on up unchanged.
      if (called) throw err;
      called = true;
      return done(toError(err));
    }
    return;
  }
  done(null, packet);
}

/** Turn whatever was thrown or passed as an error into an Error. */
export function toError(err: unknown): Error {
  if (err instanceof Error) return err;
  if (err && typeof err === 'object') {
    const { message, reason } = err as { message?: unknown; reason?: unknown };
    const error = new Error(String(message != null ? message : reason != null ? reason : 'Unknown error'));
    Object.assign(error, err);
    return error;
  }
  return new Error(String(err));
}
