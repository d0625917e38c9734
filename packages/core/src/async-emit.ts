import type { EventEmitter } from 'eventemitter3';

/**
 * Emit `event` to each listener in turn and call `done` when all have finished. A listener that
 * declares exactly `arity` parameters receives a `next(err?)` callback as its last argument; one
 * that returns a promise is awaited; any other listener is synchronous. The first error stops the
 * chain and is passed to `done`.
 */
export function asyncEmit(
  emitter: EventEmitter<any>,
  event: string,
  args: readonly unknown[],
  arity: number,
  done: (err?: Error) => void,
): void {
  const listeners = emitter.listeners(event) as ((...args: unknown[]) => unknown)[];
  let index = 0;
  const next = (err?: unknown): void => {
    if (err) return done(err instanceof Error ? err : new Error(String(err)));
    while (index < listeners.length) {
      const listener = listeners[index++]!;
      let result: unknown;
      let settled = false;
      const once = (e?: unknown): void => {
        if (settled) return;
        settled = true;
        next(e);
      };
      try {
        result = listener.length === arity ? listener.apply(emitter, [...args, once]) : listener.apply(emitter, args as unknown[]);
      } catch (e) {
        return done(e instanceof Error ? e : new Error(String(e)));
      }
      if (listener.length === arity) return;
      if (result && typeof (result as PromiseLike<unknown>).then === 'function') {
        (result as PromiseLike<unknown>).then(() => once(), (e: unknown) => once(e ?? new Error('connection listener rejected')));
        return;
      }
    }
    done();
  };
  next();
}
