import { EventEmitter } from 'node:events';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo, Socket } from 'node:net';
import { compile } from '@primus/client';
import json from '@primus/parser-json';
import { startServer } from '@primus/transformer-test-suite';
import engineio from '../src';
import { client as engineioClient } from '../src/client';

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
  address: { ip: string; port: number };
  write(data: unknown): boolean;
  end(data?: unknown, options?: { reconnect?: boolean }): unknown;
}

/** A client as the tests use it, on either implementation. */
export interface AnyClient extends Emitter {
  readyState: number;
  latency: number;
  socket: unknown;
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

/** The engine.io 1.6 server behind happn-primus's transformer, as far as these tests reach into it. */
interface Engine16 {
  pingInterval: number;
  pingTimeout: number;
  clients: Record<string, { onClose(reason: string): void; transport: { shouldClose?: (() => void) | null } }>;
}

/** happn-primus's server, as far as these tests reach into it. */
export interface HappnServer extends AnyServer {
  /** The engine.io 1.6 server behind its transformer. */
  engine: Engine16;
}

interface HappnPrimusClass {
  new (server: http.Server | EventEmitter, options: Record<string, unknown>): Emitter & {
    transformer: { service: HappnServer['engine'] };
    library(nodejs?: boolean): string;
    destroy(options: { close?: boolean }, fn: () => void): void;
  };
}

// happn-primus ships no types and is CommonJS only.
const HappnPrimus = require('happn-primus') as HappnPrimusClass;
const happnRequire = createRequire(require.resolve('happn-primus'));

/**
 * happn-primus's own Node client for engine.io: its compiled `primus.js` run the way its `Socket`
 * getter runs it (with `load`), but handed engine.io-client 1.6 (protocol 3) as the `eio` global.
 * Left to itself, the client's `require('engine.io-client')` inside that sandbox resolves from
 * the working directory, which in this repository finds engine.io-client 6.
 */
export const HappnSocket: AnyClientClass = (() => {
  const library = new HappnPrimus(new EventEmitter(), { transformer: 'engine.io', pathname: '/primus' }).library(true);
  const context = (happnRequire('load') as { compiler(code: string, name: string, globals: Record<string, unknown>): { Primus: AnyClientClass } }).compiler(
    library,
    'primus.js',
    { __dirname: process.cwd(), __filename: 'primus.js', Uint8Array, Object, RegExp, Array, Date, eio: happnRequire('engine.io-client') },
  );
  return context.Primus;
})();

/** Our Node client, compiled for a foreign server at `/primus` that speaks JSON. */
export const OurSocket = compile({ transport: engineioClient, parser: json, pathname: '/primus' }) as unknown as AnyClientClass;

/** Heartbeat options both servers understand. */
export interface HeartbeatOptions {
  pongSkipTime?: number;
}

/** Start happn-primus 6.0.1 with the engine.io transformer (engine.io 1.6) on a random port. */
export async function startHappn(options: HeartbeatOptions = {}): Promise<HappnServer> {
  const server = http.createServer();
  const primus = new HappnPrimus(server, { transformer: 'engine.io', ...options });
  const engine = primus.transformer.service;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    primus,
    engine,
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => primus.destroy({ close: true }, resolve));
      // A session that never polls again (our client cannot read protocol 3 polling) stays in
      // engine.io 1.6 until its ping timeout, and closing its polling transport arms a 30 s wait
      // for the next poll. Finish both so no timer outlives the test.
      for (const client of Object.values(engine.clients)) {
        client.onClose('forced close');
        const pending = client.transport.shouldClose;
        client.transport.shouldClose = null;
        pending?.();
      }
    },
  };
}

/** Start our server with the engine.io transformer on a random port. */
export async function startOurs(options: HeartbeatOptions = {}): Promise<AnyServer> {
  const started = await startServer({ transformer: engineio, ...options });
  return { primus: started.primus as unknown as Emitter, url: started.url, close: () => started.close() };
}
