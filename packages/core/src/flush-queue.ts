import type { ConnectionSocket } from './contract';

/**
 * `context.flushSoon()`: the connections that held writes during this tick, flushed together in
 * one `process.nextTick` callback (one per tick for all servers, not one per connection).
 */
const pending: ConnectionSocket[] = [];
let scheduled = false;

function flushAll(): void {
  scheduled = false;
  // A flush can make more writes (a `drain` listener, an error ending a spark): those that ask
  // again join the end of the list and are flushed in this pass too.
  for (let i = 0; i < pending.length; i++) {
    const socket = pending[i]!;
    try {
      socket.flush?.();
    } catch (err) {
      // One connection's failure must not keep the others' writes back.
      pending.splice(0, i + 1);
      if (pending.length && !scheduled) {
        scheduled = true;
        process.nextTick(flushAll);
      }
      throw err;
    }
  }
  pending.length = 0;
}

/** Call `socket.flush()` before the current tick ends. */
export function flushSoon(socket: ConnectionSocket): void {
  pending.push(socket);
  if (scheduled) return;
  scheduled = true;
  process.nextTick(flushAll);
}
