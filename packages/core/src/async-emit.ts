import { EventEmitter } from 'eventemitter3';

type Listener = (...args: unknown[]) => unknown;

/** One registration as eventemitter3 stores it: the function, its `this`, and whether it is `once`. */
interface Registration {
  fn: Listener;
  context: unknown;
  once: boolean;
}

/**
 * The registrations of `event`, in order. `emitter.listeners(event)` returns bare functions and
 * loses the `once` flag and the context given to `on(event, fn, context)`, so this reads
 * eventemitter3's table (an entry is one registration or an array of them).
 */
function registrations(emitter: EventEmitter<any>, event: string): Registration[] {
  const prefix = EventEmitter.prefixed;
  const key = typeof prefix === 'string' ? prefix + event : event;
  const entry = (emitter as unknown as { _events?: Record<string, Registration | Registration[] | undefined> })._events?.[key];
  if (!entry) return [];
  return Array.isArray(entry) ? entry.slice() : [entry];
}

/**
 * Emit `event` to each listener in turn and call `done` when all have finished. A listener that
 * declares exactly `arity` parameters receives a `next(err?)` callback as its last argument; one
 * that returns a promise is awaited; any other listener is synchronous. The first error stops the
 * chain and is passed to `done`. Listeners run with the context they were added with (the emitter
 * when none), and `once` listeners are removed as the emit starts, so a second emit that begins
 * while this one waits on an asynchronous listener does not call them again.
 */
export function asyncEmit(emitter: EventEmitter<any>, event: string, args: readonly unknown[], arity: number, done: (err?: Error) => void): void {
  const listeners = registrations(emitter, event);
  for (const listener of listeners) {
    if (listener.once) emitter.removeListener(event, listener.fn, listener.context, true);
  }
  let index = 0;
  const next = (err?: unknown): void => {
    if (err) return done(err instanceof Error ? err : new Error(String(err)));
    while (index < listeners.length) {
      const { fn, context } = listeners[index++]!;
      let result: unknown;
      let settled = false;
      const once = (e?: unknown): void => {
        if (settled) return;
        settled = true;
        next(e);
      };
      try {
        result = fn.length === arity ? fn.apply(context, [...args, once]) : fn.apply(context, args as unknown[]);
      } catch (e) {
        return done(e instanceof Error ? e : new Error(String(e)));
      }
      if (fn.length === arity) return;
      if (result && typeof (result as PromiseLike<unknown>).then === 'function') {
        (result as PromiseLike<unknown>).then(
          () => once(),
          (e: unknown) => once(e ?? new Error(`${event} listener rejected`)),
        );
        return;
      }
    }
    done();
  };
  next();
}
