import { EventEmitter } from 'node:events';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo, Socket } from 'node:net';
import { compile } from '@primus/client';
import json from '@primus/parser-json';
import { startServer } from '@primus/transformer-test-suite';
import socketio from '../src';
import { client as socketioClient } from '../src/client';

/** The event surface both implementations share: servers, sparks and clients alike. */
export interface Emitter {
  on(event: string, listener: (...args: any[]) => void): unknown;
  once(event: string, listener: (...args: any[]) => void): unknown;
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
  emit(event: string, ...args: any[]): boolean;
}

/** A server-side connection as the tests use it, on either implementation. */
export interface AnySpark extends Emitter {
  id: string;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
  address: { ip: string; port: number };
  request?: { url?: string };
  write(data: unknown): boolean;
  end(data?: unknown, options?: { reconnect?: boolean }): unknown;
}

/** A client as the tests use it, on either implementation. */
export interface AnyClient extends Emitter {
  readyState: number;
  latency: number;
  write(data: unknown): boolean;
  end(data?: unknown): unknown;
  destroy(): unknown;
  id(fn: (id: string) => void): unknown;
}

/** A client class: `new Client(url, options)`. */
export type AnyClientClass = new (url: string, options?: Record<string, unknown>) => AnyClient;

/** A listening server of either implementation. */
export interface AnyServer {
  primus: Emitter;
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

/** Server options both implementations understand. */
export interface ServerOptions {
  pongSkipTime?: number;
}

interface HappnPrimusClass {
  new (server: http.Server | EventEmitter, options: Record<string, unknown>): Emitter & {
    library(nodejs?: boolean): string;
    destroy(options: { close?: boolean }, fn: () => void): void;
  };
}

// happn-primus ships no types and is CommonJS only; it brings its own socket.io 0.9 and
// primus-socket.io-client 2.0.
const HappnPrimus = require('happn-primus') as HappnPrimusClass;
const happnRequire = createRequire(require.resolve('happn-primus'));

/** primus-socket.io-client as happn-primus's client finds it. */
export const happnIo = happnRequire('primus-socket.io-client') as { transports: string[] };

/**
 * happn-primus's own Node client for socket.io: its compiled `primus.js`, run the way its `Socket`
 * getter runs it (with `load`), but handed primus-socket.io-client as the `io` global. Left to
 * itself, the client's `require('primus-socket.io-client')` inside that sandbox resolves from the
 * working directory, where the package is not installed.
 */
export const HappnSocket: AnyClientClass = (() => {
  const library = new HappnPrimus(new EventEmitter(), { transformer: 'socket.io', pathname: '/primus' }).library(true);
  const context = (happnRequire('load') as { compiler(code: string, name: string, globals: Record<string, unknown>): { Primus: AnyClientClass } }).compiler(
    library,
    'primus.js',
    { __dirname: process.cwd(), __filename: 'primus.js', Uint8Array, Object, RegExp, Array, Date, io: happnIo },
  );
  return context.Primus;
})();

/**
 * Make happn-primus's Node client use only `transport` until `restore()` is called. Its client
 * ignores `transport.transports` and always passes socket.io's shared default list (`io.transports`),
 * so the list itself is changed; our client passes its own list and is not affected.
 */
export function pinHappnClient(transport: string): () => void {
  const saved = [...happnIo.transports];
  happnIo.transports.splice(0, happnIo.transports.length, transport);
  return () => void happnIo.transports.splice(0, happnIo.transports.length, ...saved);
}

/** Our Node client for a foreign server at `/primus` that speaks JSON. */
export const OurSocket = compile({ transport: socketioClient, parser: json, pathname: '/primus' }) as unknown as AnyClientClass;

/** Start happn-primus 6.0.1 with the socket.io transformer (socket.io 0.9) on a random port. */
export async function startHappn(options: ServerOptions = {}): Promise<AnyServer> {
  const server = http.createServer();
  const primus = new HappnPrimus(server, { transformer: 'socket.io', ...options });
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
    },
  };
}

/** Start our server with the socket.io transformer on a random port. */
export async function startOurs(options: ServerOptions = {}): Promise<AnyServer> {
  const started = await startServer({ transformer: socketio, ...options });
  return { primus: started.primus as unknown as Emitter, url: started.url, close: () => started.close() };
}
