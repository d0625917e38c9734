import type { EventEmitter } from 'node:events';

type Listener = (...args: any[]) => unknown;

/** A listener Primus took over from the HTTP server, and whether it was added with `once`. */
export interface TakenListener {
  fn: Listener;
  once: boolean;
}

/**
 * Remove the listeners of `event` from `server` and return them. Node's `listeners()` unwraps
 * `once` listeners into plain functions, which would then answer every request; `rawListeners()`
 * keeps the wrapper, whose `listener` property is the function the application added. A server
 * stand-in without `rawListeners` (Primus.createSocket() uses a bare emitter) has no wrappers.
 */
export function takeListeners(server: EventEmitter, event: string): TakenListener[] {
  const registered = typeof server.rawListeners === 'function' ? server.rawListeners(event) : server.listeners(event);
  const taken = registered.map((fn) => {
    const original = (fn as { listener?: unknown }).listener;
    return typeof original === 'function' ? { fn: original as Listener, once: true } : { fn: fn as Listener, once: false };
  });
  server.removeAllListeners(event);
  return taken;
}

/** Call the taken listeners as the server would, dropping each `once` listener before its call. */
export function callTaken(list: TakenListener[], server: unknown, args: readonly unknown[]): void {
  for (const listener of list.slice()) {
    if (listener.once) list.splice(list.indexOf(listener), 1);
    listener.fn.apply(server, args as unknown[]);
  }
}

/** Give the listeners not yet used up back to `server`, first and in their original order. */
export function giveBack(server: EventEmitter, event: string, list: readonly TakenListener[]): void {
  for (const listener of [...list].reverse()) {
    if (listener.once) server.prependOnceListener(event, listener.fn);
    else server.prependListener(event, listener.fn);
  }
}
