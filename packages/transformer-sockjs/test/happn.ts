import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { compile } from '@primus/client';
import json from '@primus/parser-json';
import { startServer } from '@primus/transformer-test-suite';
import sockjs from '../src';
import { client as sockjsClient } from '../src/client';

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

/** sockjs 0.3's connection, with its private session. */
interface SockjsConnection extends Emitter {
  _session?: { recv: unknown; readyState: number; didTimeout(): void } | null;
}

interface HappnPrimusClass {
  new (server: http.Server, options: Record<string, unknown>): Emitter & {
    Socket: AnyClientClass;
    transformer: { service: Emitter };
    destroy(options: { close?: boolean }, fn: () => void): void;
  };
}

// happn-primus ships no types and is CommonJS only; it brings its own sockjs 0.3 and sockjs-client 1.1.
const HappnPrimus = require('happn-primus') as HappnPrimusClass;

// The Socket getter compiles the client in a vm on every access: compile it once, from a server
// that is never started.
const happnCompiler = new HappnPrimus(http.createServer(), { transformer: 'sockjs' });

/** happn-primus's own Node client for its sockjs transformer (sockjs-client 1.1), for servers at `/primus`. */
export const HappnSocket: AnyClientClass = happnCompiler.Socket;

/** Our Node client (sockjs-client 1.6) for a foreign server at `/primus` that speaks JSON. */
export const OurSocket = compile({ transport: sockjsClient, parser: json, pathname: '/primus' }) as unknown as AnyClientClass;

/** Start happn-primus 6.0.1 with the sockjs transformer on a random port. */
export async function startHappn(options: ServerOptions = {}): Promise<AnyServer> {
  const server = http.createServer();
  const primus = new HappnPrimus(server, { transformer: 'sockjs', ...options });
  // happn-primus keeps a polling session its server closed for sockjs's 5 s disconnect_delay,
  // even after destroy(); expire them on close so the test process can exit.
  const sessions = new Set<SockjsConnection>();
  primus.transformer.service.on('connection', (conn: SockjsConnection) => {
    sessions.add(conn);
    conn.once('close', () => sessions.delete(conn));
  });
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
      // Dropping the sockets first makes sockjs expire polling sessions at once, instead of
      // keeping them for its 5 s disconnect_delay after the server closed them.
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => primus.destroy({ close: true }, resolve));
      for (const conn of sessions) {
        const session = conn._session;
        if (session && !session.recv && session.readyState !== 3) session.didTimeout();
      }
    },
  };
}

/** Start our server with the sockjs transformer on a random port. */
export async function startOurs(options: ServerOptions = {}): Promise<AnyServer> {
  const started = await startServer({ transformer: sockjs, ...options });
  return { primus: started.primus as unknown as Emitter, url: started.url, close: () => started.close() };
}
