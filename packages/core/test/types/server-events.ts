// Type test (compiled, never run): the server's and the spark's events as a user's project sees
// them. A line after `// @ts-expect-error <code>` must fail with that TypeScript error code;
// test/types.test.ts checks it against the built declarations.
import type { Server } from 'node:http';
import { Primus, type DestroyOptions, type LogLevel, type Parser, type Plugin, type ResolvedOptions, type Spark, type Transformer } from '@primus/core';

declare const server: Server;
const primus = new Primus(server);

// Events of your own, declared as the README documents.
declare module '@primus/core' {
  interface PrimusCustomEvents {
    'room:created': (room: string, members: number) => void;
  }
  interface SparkCustomEvents {
    chat: (message: string) => void;
  }
}

// The server's own events, each with its listener.
primus.on('connection', (spark) => {
  const connected: Spark = spark;
  connected.write('hello');
});
primus.on('connection', (spark, next) => {
  if (!spark.headers.authorization) next(new Error('refused'));
  else next();
});
primus.on('connection', async (spark) => {
  await Promise.resolve(spark.id);
});
primus.once('disconnection', (spark) => spark.endReason);
primus.on('initialised', (transformer: Transformer, parser: Parser, options: ResolvedOptions) => options.pathname);
primus.on('plugin', (name: string, plugin: Plugin) => plugin.name ?? name);
primus.on('plugout', (name: string, plugin: Plugin) => plugin.name ?? name);
primus.on('close', (options: DestroyOptions, next) => {
  if (options.reconnect) next();
});
primus.on('close', async () => undefined);
primus.on('log', (level: string, ...args: unknown[]) => [level, ...args]);
primus.on('log', (level: LogLevel) => level === 'warn');
primus.emit('log', 'info', 'started');
primus.on('heartbeat-skipped', (skipped: number, spark: Spark) => skipped + spark.id.length);
primus.on('flatline', (skipped: number, spark: Spark) => skipped + spark.id.length);
primus.off('log');

// @ts-expect-error 2345 a misspelt server event
primus.on('conection', () => undefined);
// @ts-expect-error 2345 a misspelt server event
primus.once('disconection', () => undefined);
// @ts-expect-error 2345 a spark's event on the server
primus.on('data', () => undefined);
// @ts-expect-error 2345 the wrong listener: `plugin` gives a name first
primus.on('plugin', (name: number) => name);
// @ts-expect-error 2345 the wrong listener: `next` takes an Error
primus.on('connection', (spark, next) => next('refused'));
// @ts-expect-error 2345 the wrong arguments for an event
primus.emit('log', 42);
// @ts-expect-error 2345 a log level that does not exist
primus.emit('log', 'warning', 'slow');
// @ts-expect-error 2367 a misspelt log level in a listener
primus.on('log', (level) => level === 'eror');

// Custom server events: typed once declared.
primus.on('room:created', (room, members) => room.length + members);
primus.emit('room:created', 'lobby', 2);
// @ts-expect-error 2345 a custom event's arguments are checked too
primus.emit('room:created', 'lobby', 'two');

// The spark's own events, each with its listener.
declare const spark: Spark;
spark.on('data', (data: unknown, raw: unknown) => [data, raw]);
spark.on('end', () => undefined);
spark.on('error', (err: Error) => err.message);
spark.on('heartbeat', () => undefined);
spark.on('readyStateChange', () => spark.readyState);
spark.on('backpressure', () => undefined);
spark.on('drain', () => undefined);
spark.on('incoming::data', (raw: unknown) => raw);
spark.on('incoming::ping', (time?: number) => time);
spark.on('incoming::end', () => undefined);
spark.on('incoming::error', (err: unknown) => err);
spark.on('outgoing::data', (payload: string | Buffer | Uint8Array) => payload.length);
spark.on('outgoing::end', () => undefined);
spark.on('outgoing::pong', (time: number) => time);
spark.once('end', () => undefined);
spark.removeListener('end', () => undefined);
const ended = new Promise<void>((resolve) => spark.once('end', resolve));
void ended;

// @ts-expect-error 2345 a misspelt spark event
spark.on('dtaa', () => undefined);
// @ts-expect-error 2345 a misspelt spark event
spark.once('ned', () => undefined);
// @ts-expect-error 2345 a server event on a spark
spark.on('connection', () => undefined);
// @ts-expect-error 2345 the wrong listener: `error` gives an Error
spark.on('error', (err: string) => err);
// @ts-expect-error 2345 a misspelt event emitted
spark.emit('dtaa', 1);

// Custom spark events: typed once declared.
spark.on('chat', (message) => spark.write(message.toUpperCase()));
spark.emit('chat', 'hello');
// @ts-expect-error 2345 a custom event's arguments are checked too
spark.emit('chat', 42);

// A name known only at run time (from the wire, say) goes through `emits()`.
declare const fromTheWire: string;
spark.emits(fromTheWire)('payload');
