import type { EventEmitter } from 'node:events';

/**
 * Where a listener table keeps its listeners. Like the object Node's EventEmitter starts with, it
 * inherits nothing, so an event named `toString` or `__proto__` finds no listener by accident.
 */
const ListenerTable = function ListenerTable() {} as unknown as new () => Record<string | symbol, unknown>;
ListenerTable.prototype = Object.create(null);

/**
 * Node's EventEmitter keeps its listeners in a null-prototype object, which V8 stores as a hash
 * table: about 160 bytes with one event name and 330 with four, for every spark and every
 * connection object, for as long as the connection lives. An object made by a constructor whose
 * prototype inherits nothing behaves the same for every lookup the emitter makes but stays a
 * compact, fast-mode object. Call this on an emitter with no listeners yet (right after it is
 * made); on any other emitter it does nothing. Node goes back to its own table by itself when
 * every listener is removed.
 */
export function compactListeners(emitter: EventEmitter): void {
  const internals = emitter as unknown as { _events?: unknown; _eventsCount?: unknown };
  if (internals._eventsCount === 0 && typeof internals._events === 'object' && internals._events !== null) {
    internals._events = new ListenerTable();
  }
}
