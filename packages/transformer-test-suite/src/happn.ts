import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, expect } from '@jest/globals';
import type { PrimusOptions, Transformer } from '@primus/core';
import { once, startServer, waitFor } from './harness';

// Helpers for wire-compatibility tests against the real happn-primus 6.0.1. The caller loads
// happn-primus and hands it in: this package does not depend on it.

/** The event surface both implementations share: servers, sparks and clients alike. */
export interface Emitter {
  on(event: string, listener: (...args: any[]) => void): unknown;
  once(event: string, listener: (...args: any[]) => void): unknown;
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
  emit(event: string, ...args: any[]): boolean;
}

/** A server-side connection as the interop tests use it, on either implementation. */
export interface Spark extends Emitter {
  id: string;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
  address: { ip: string; port: number };
  /** The request that opened the connection (not every transformer keeps its URL). */
  request?: { url?: string };
  /** The heartbeat timer; `null` when the client asked for no heartbeat. */
  timeout?: unknown;
  write(data: unknown): boolean;
  end(data?: unknown, options?: { reconnect?: boolean }): unknown;
}

/** A client as the interop tests use it, on either implementation. */
export interface Client extends Emitter {
  readyState: number;
  latency: number;
  options: Record<string, unknown>;
  recovery: { reconnecting(): boolean };
  /** The framework's own client object. */
  socket?: unknown;
  write(data: unknown): boolean;
  end(data?: unknown): unknown;
  destroy(): unknown;
  id(fn: (id: string) => void): unknown;
  heartbeat(): unknown;
}

/** A client class: `new Client(url, options)`. */
export type ClientClass = new (url: string, options?: Record<string, unknown>) => Client;

/** A listening server of either implementation. */
export interface Server {
  primus: Emitter;
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

/** Server options both implementations understand. */
export interface ServerOptions {
  /** Pongs closer together than this are not sent again. */
  pongSkipTime?: number;
  /** Missed heartbeats tolerated before a spark is dropped. */
  allowSkippedHeartBeats?: number;
}

/** A happn-primus server instance, as far as the interop tests reach into it. */
export interface HappnPrimusServer extends Emitter {
  /** happn-primus's Node client for this server; its getter recompiles the client on every access. */
  Socket: ClientClass;
  /** The transformer; `service` is the framework's server (engine.io, sockjs, browserchannel...). */
  transformer: { service: unknown };
  /** The client library source; `true` for the Node flavour. */
  library(nodejs?: boolean): string;
  destroy(options: { close?: boolean }, fn: () => void): void;
}

/** The happn-primus module (`require('happn-primus')`); it ships no types. */
export interface HappnPrimusModule {
  new (server: http.Server | EventEmitter, options: Record<string, unknown>): HappnPrimusServer;
  createSocket(options: Record<string, unknown>): ClientClass;
}

/** The `load` module happn-primus compiles its Node client with. */
export interface LoadModule {
  compiler(code: string, name: string, globals: Record<string, unknown>): { Primus: ClientClass };
}

/** `readyState` of a client that has ended. */
export const CLOSED = 2;
/** `readyState` of an open client. */
export const OPEN = 3;

/** Values whose encoding must survive both implementations unchanged. */
export const samples: readonly unknown[] = [
  { nested: { list: [1, 'two', { three: [3.5, null] }], yes: true, no: false }, empty: {}, none: null },
  'line\u2028paragraph\u2029end',
  'astral 😀 𝌆 \u{1F680}',
  'pongРУССКИЙ €€€ 中文',
  // Characters that matter to some framework's own framing: JSON escapes, form encoding
  // (BrowserChannel) and socket.io 0.9's `3:::` message prefix.
  'quotes " and \\ backslashes & = ? + %, and a socket.io-looking 3::: prefix',
  0,
  [],
];

/** The JSON text happn-primus puts on the wire: U+2028/U+2029 escaped after encoding. */
export function wire(value: unknown): string {
  return JSON.stringify(value)
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * Register an `afterEach` that runs, newest first, every cleanup deferred during the test, and
 * return the function that defers one.
 */
export function useCleanups(): (cleanup: () => unknown) => void {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    // Every cleanup runs; the first that failed fails the test.
    let failure: unknown;
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure) throw failure;
  });
  return (cleanup) => void cleanups.push(cleanup);
}

/** Resolve with the next spark to connect to `server`. */
export function nextSpark(server: Server, ms?: number): Promise<Spark> {
  return once<[Spark]>(server.primus, 'connection', ms).then(([spark]) => spark);
}

/** Record the arguments of every emit of `events`, by name. */
export function record(emitter: Emitter, ...events: string[]): Record<string, unknown[][]> {
  const seen: Record<string, unknown[][]> = {};
  for (const event of events) {
    seen[event] = [];
    emitter.on(event, (...args: unknown[]) => seen[event]!.push(args));
  }
  return seen;
}

/**
 * Write every sample from `client` to `spark`, which echoes it, and check the decoded values and
 * the raw text on both sides.
 */
export async function expectEcho(client: Client, spark: Spark, ms = 10000): Promise<void> {
  const atServer: unknown[] = [];
  spark.on('data', (data: unknown, raw: unknown) => {
    atServer.push(raw);
    spark.write(data);
  });
  const echoed: [unknown, unknown][] = [];
  client.on('data', (data: unknown, raw: unknown) => echoed.push([data, raw]));
  for (const sample of samples) client.write(sample);
  await waitFor(() => echoed.length === samples.length, ms, 'every echo');

  expect(echoed.map(([data]) => data)).toEqual(samples);
  expect(echoed.map(([, raw]) => raw)).toEqual(samples.map(wire));
  expect(atServer).toEqual(samples.map(wire));
  expect(atServer[1]).toBe('"line\\u2028paragraph\\u2029end"');
}

/**
 * Start happn-primus on a random port of 127.0.0.1. `setup` sees the instance before anyone
 * connects and may return a cleanup that runs after it is destroyed, for framework sessions that
 * outlive `destroy()`.
 */
export async function startHappn(
  HappnPrimus: HappnPrimusModule,
  options: Record<string, unknown> & { transformer: string },
  setup?: (primus: HappnPrimusServer) => (() => void) | void,
): Promise<Server & { primus: HappnPrimusServer }> {
  const server = http.createServer();
  const primus = new HappnPrimus(server, options);
  const afterDestroy = setup?.(primus);
  // Upgraded sockets leave the http server's bookkeeping, so track them to destroy them on close.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    primus,
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => primus.destroy({ close: true }, resolve));
      afterDestroy?.();
    },
  };
}

/** Start our server with `transformer` on a random port of 127.0.0.1. */
export async function startOurs(transformer: Transformer, options: object = {}): Promise<Server> {
  const started = await startServer({ transformer, ...(options as PrimusOptions) });
  return { primus: started.primus as unknown as Emitter, url: started.url, close: () => started.close() };
}

/**
 * happn-primus's own Node client, compiled the way its `Socket` getter compiles it (with `load`),
 * with the framework's client handed in as a global (`eio`, `io`, ...). Left to itself the
 * client's `require()` inside that sandbox resolves from the working directory, which may find
 * another version of the framework or none.
 */
export function compileHappnClient(HappnPrimus: HappnPrimusModule, load: LoadModule, transformer: string, globals: Record<string, unknown>): ClientClass {
  const library = new HappnPrimus(new EventEmitter(), { transformer, pathname: '/primus' }).library(true);
  const sandbox = { __dirname: process.cwd(), __filename: 'primus.js', Uint8Array, Object, RegExp, Array, Date, ...globals };
  return load.compiler(library, 'primus.js', sandbox).Primus;
}
