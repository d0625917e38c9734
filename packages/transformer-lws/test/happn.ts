import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { compile } from '@primus/client';
import json from '@primus/parser-json';
import { startServer } from '@primus/transformer-test-suite';
import lws from '../src';
import { client as lwsClient } from '../src/client';

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
  timeout: unknown;
  write(data: unknown): boolean;
  end(data?: unknown, options?: { reconnect?: boolean }): unknown;
}

/** A client as the tests use it, on either implementation. */
export interface AnyClient extends Emitter {
  readyState: number;
  latency: number;
  options: Record<string, unknown>;
  recovery: { reconnecting(): boolean };
  write(data: unknown): boolean;
  end(data?: unknown): unknown;
  destroy(): unknown;
  id(fn: (id: string) => void): unknown;
  heartbeat(): unknown;
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

/** Options both servers understand. */
export interface HeartbeatOptions {
  pongSkipTime?: number;
  allowSkippedHeartBeats?: number;
}

interface HappnPrimusClass {
  new (server: http.Server, options: Record<string, unknown>): Emitter & {
    Socket: AnyClientClass;
    destroy(options: { close?: boolean }, fn: () => void): void;
  };
  createSocket(options: Record<string, unknown>): AnyClientClass;
}

// happn-primus ships no types and is CommonJS only.
const HappnPrimus = require('happn-primus') as HappnPrimusClass;

/**
 * happn-primus's own Node client, compiled once: the getter recompiles it in a vm on every
 * access, and the class talks to any server at `/primus` that speaks JSON.
 */
export const HappnSocket: AnyClientClass = HappnPrimus.createSocket({ transformer: 'websockets', pathname: '/primus' });

/** Our Node client, compiled for a foreign server at `/primus` that speaks JSON. */
export const OurSocket = compile({ transport: lwsClient, parser: json, pathname: '/primus' }) as unknown as AnyClientClass;

/** Start happn-primus 6.0.1 with the websockets transformer on a random port. */
export async function startHappn(options: HeartbeatOptions = {}): Promise<AnyServer> {
  const server = http.createServer();
  const primus = new HappnPrimus(server, { transformer: 'websockets', ...options });
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
    },
  };
}

/** Start our server with the lws transformer on a random port. */
export async function startOurs(options: HeartbeatOptions = {}): Promise<AnyServer> {
  const started = await startServer({ transformer: lws, ...options });
  return { primus: started.primus as unknown as Emitter, url: started.url, close: () => started.close() };
}
