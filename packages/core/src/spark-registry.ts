import { escapeSeparators } from '@primus/protocol';
import { asyncEmit } from './async-emit';
import { ParserError } from './errors';
import type { Primus } from './primus';
import type { Spark } from './server-spark';

/**
 * The server's open sparks (`primus.connections`, `primus.connected`): registering and forgetting
 * them, visiting them, and broadcasting to them.
 */

/** Register an announced spark and run the `connection` listeners; a server that shuts down ends it instead. */
export function registerSpark(primus: Primus, spark: Spark, shuttingDown: boolean, done: (err?: Error) => void): void {
  if (shuttingDown) {
    // The connection completed while the server shuts down: destroy() has already ended the
    // sparks it knew of, so this one is ended here instead of being left behind.
    spark.end(undefined, { reconnect: true });
    return;
  }
  primus.connections[spark.id] = spark;
  primus.connected++;
  asyncEmit(primus, 'connection', [spark], 2, done);
}

/** Forget an ended spark and emit `disconnection`. */
export function forgetSpark(primus: Primus, spark: Spark): void {
  if (primus.connections[spark.id] !== spark) return;
  delete primus.connections[spark.id];
  primus.connected--;
  primus.emit('disconnection', spark);
}

/** `primus.forEach(fn)`: visit every spark; `fn` returning false stops. */
export function visitSparks(primus: Primus, fn: (spark: Spark, id: string, connections: Record<string, Spark>) => unknown): void {
  for (const id in primus.connections) {
    if (fn.call(primus, primus.connections[id]!, id, primus.connections) === false) break;
  }
}

/** `primus.forEach(fn, done)`: visit every spark asynchronously, including those that connect meanwhile. */
export function visitSparksAsync(primus: Primus, fn: (spark: Spark, next: (err?: Error | null, more?: boolean) => void) => void, done: (err?: Error) => void): void {
  const ids = Object.keys(primus.connections);
  const add = (spark: Spark): void => void ids.push(spark.id);
  primus.on('connection', add);
  let index = 0;
  const finish = (err?: Error | null): void => {
    primus.off('connection', add);
    done.call(primus, err ?? undefined);
  };
  const step = (): void => {
    while (index < ids.length) {
      const spark = primus.connections[ids[index++]!];
      if (!spark) continue;
      let called = false;
      fn.call(primus, spark, (err?: Error | null, more?: boolean) => {
        if (called) return;
        called = true;
        if (err || more === false) return finish(err);
        step();
      });
      return;
    }
    finish();
  };
  step();
}

/**
 * Encode a broadcast once, escaped for the wire, without the message transformers. Returns
 * undefined when it encodes to nothing or fails (the failure goes to the `log` event).
 */
export function encodeBroadcast(primus: Primus, data: unknown): string | Buffer | Uint8Array | undefined {
  let payload: string | Buffer | Uint8Array | undefined;
  try {
    payload = primus.encode(data);
  } catch (err) {
    primus.emit('log', 'error', new ParserError('PRIMUS_ERR_PARSER_ENCODE', `Failed to encode a broadcast: ${(err as Error)?.message ?? err}`, { cause: err }));
    return undefined;
  }
  if (!payload) return undefined;
  return typeof payload === 'string' ? escapeSeparators(payload) : payload;
}

/** Send an encoded payload to every local spark as is. */
export function sendToAll(primus: Primus, payload: string | Buffer | Uint8Array): void {
  // Framed once for every connection when the transformer can (a WebSocket frame built once).
  // (A text-only transformer is handed bytes as text, per spark, so those are not framed.)
  const frame = typeof payload === 'string' || !primus.transformer.textOnly ? primus.service.frame?.(payload) : undefined;
  const connections = primus.connections;
  for (const id in connections) connections[id]!.sendEncoded(payload, frame);
}

/**
 * Broadcast to every spark: encoded once for all of them unless outgoing message transformers
 * (which run per spark) are registered.
 */
export function broadcast(primus: Primus, data: unknown): boolean {
  if (primus.transformers.outgoing.length) {
    for (const id in primus.connections) primus.connections[id]!.write(data);
    return true;
  }
  const payload = primus.encodeBroadcast(data);
  if (payload === undefined) return false;
  // Through the method, which cluster plugins may replace.
  return primus.writeEncoded(payload);
}
