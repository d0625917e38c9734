import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { compile } from '@primus/client';
import json from '@primus/parser-json';
import { startServer } from '@primus/transformer-test-suite';
import browserchannel from '../src';
import { client as browserchannelClient } from '../src/client';

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
  authorization?: (req: http.IncomingMessage & { query: Record<string, unknown> }, done: (err?: Error) => void) => void;
}

interface HappnPrimusClass {
  new (server: http.Server, options: Record<string, unknown>): Emitter & {
    /** browserchannel 2.0's middleware, with `close()` for its sessions. */
    transformer: { service: { close(): void } };
    destroy(options: { close?: boolean }, fn: () => void): void;
  };
  createSocket(options: Record<string, unknown>): AnyClientClass;
}

// happn-primus ships no types and is CommonJS only; it brings its own browserchannel 2.0.
const HappnPrimus = require('happn-primus') as HappnPrimusClass;

/**
 * happn-primus's own Node client for its browserchannel transformer (browserchannel 2.0's Node
 * BCSocket), compiled once for servers at `/primus` that speak JSON.
 */
export const HappnSocket: AnyClientClass = HappnPrimus.createSocket({ transformer: 'browserchannel', pathname: '/primus' });

/** Our Node client for a foreign server at `/primus` that speaks JSON. */
export const OurSocket = compile({ transport: browserchannelClient, parser: json, pathname: '/primus' }) as unknown as AnyClientClass;

/** Start happn-primus 6.0.1 with the browserchannel transformer on a random port. */
export async function startHappn(options: ServerOptions = {}): Promise<AnyServer> {
  const server = http.createServer();
  const primus = new HappnPrimus(server, { transformer: 'browserchannel', ...options });
  const service = primus.transformer.service;
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
      // happn-primus never closes browserchannel's sessions; their 30 s timeouts would outlive the test.
      service.close();
    },
  };
}

/** Start our server with the browserchannel transformer on a random port. */
export async function startOurs(options: ServerOptions = {}): Promise<AnyServer> {
  const started = await startServer({ transformer: browserchannel, ...(options as Record<string, unknown>) });
  return { primus: started.primus as unknown as Emitter, url: started.url, close: () => started.close() };
}
