// The event emitter of the browser build, which `scripts/bundle-browser.mjs` substitutes for
// eventemitter3 in `primus.js`; Node and bundlers keep eventemitter3 itself. eventemitter3 ships as
// CommonJS with per-arity fast paths and a fallback for engines without `Object.create`, and
// bundled it was about a sixth of `primus.js`. This class keeps its public behaviour: listeners in
// a null-prototype object keyed by event name (so `1` and `'1'` are one event, and `eventNames()`
// has the same order), listener order, `context` (the emitter when falsy), `once`, the
// `removeListener(event, fn, context, once)` filters, a falsy event name in `removeAllListeners`
// clearing everything, `emit`'s return value, and emits that call the listeners registered when
// they started, whatever those listeners add or remove. test/emitter.test.ts runs the same
// script against both.

type Fn = (...args: any[]) => unknown;
type Listener = { _fn: Fn; _context: unknown; _once: boolean };
type Events = Record<PropertyKey, Listener[] | undefined>;

/** An eventemitter3-compatible emitter: `on/once/off/emit/removeAllListeners/listeners/...`. */
export class EventEmitter {
  _events: Events = Object.create(null);

  /** Names of the events that have listeners. */
  eventNames(): PropertyKey[] {
    return Reflect.ownKeys(this._events);
  }

  /** The listeners of `event`, in order. */
  listeners(event: any): Fn[] {
    return (this._events[event] || []).map((listener) => listener._fn);
  }

  /** How many listeners `event` has. */
  listenerCount(event: any): number {
    return (this._events[event] || []).length;
  }

  /** Call the listeners of `event` with `args`; false when it had none. */
  emit(event: any, ...args: unknown[]): boolean {
    const list = this._events[event];
    if (!list) return false;
    // Adding and removing replace the array, so this loop sees the listeners of this moment.
    for (const listener of list) {
      if (listener._once) this.removeListener(event, listener._fn, undefined, true);
      listener._fn.apply(listener._context, args);
    }
    return true;
  }

  /** Add a listener, called with `context` as `this` (the emitter when it is falsy). */
  on(event: any, fn: Fn, context?: unknown): this {
    return add(this, event, fn, context, false);
  }

  /** Add a listener that is removed before its first call. */
  once(event: any, fn: Fn, context?: unknown): this {
    return add(this, event, fn, context, true);
  }

  /**
   * Remove the listeners of `event` that are `fn` (and, when given, have `context` / are `once`);
   * without `fn`, every listener of `event`.
   */
  removeListener(event: any, fn?: Fn, context?: unknown, once?: boolean): this {
    const list = this._events[event];
    if (!list) return this;
    const keep = fn ? list.filter((l) => l._fn !== fn || (once && !l._once) || (context && l._context !== context)) : [];
    if (keep.length) this._events[event] = keep;
    else delete this._events[event];
    return this;
  }

  /** Remove every listener of `event`, or of every event when `event` is not given (or falsy). */
  removeAllListeners(event?: any): this {
    if (event) delete this._events[event];
    else this._events = Object.create(null);
    return this;
  }
}

function add<T extends EventEmitter>(emitter: T, event: any, fn: Fn, context: unknown, once: boolean): T {
  if (typeof fn !== 'function') throw new TypeError('The listener must be a function');
  emitter._events[event] = (emitter._events[event] || []).concat({ _fn: fn, _context: context || emitter, _once: once });
  return emitter;
}

export interface EventEmitter {
  /** Same as `removeListener`. */
  off: EventEmitter['removeListener'];
  /** Same as `on`. */
  addListener: EventEmitter['on'];
}
EventEmitter.prototype.off = EventEmitter.prototype.removeListener;
EventEmitter.prototype.addListener = EventEmitter.prototype.on;
