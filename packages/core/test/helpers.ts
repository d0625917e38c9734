import { EventEmitter } from 'node:events';
import type http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import vm from 'node:vm';
import type { WebSocket as WsSocket } from 'ws';
import websockets from '@primus/transformer-ws';
import { Primus, type PrimusOptions, type Spark } from '@primus/core';
import { memoryTransformer, nextSpark, once, startServer, type TestServer } from '@primus/transformer-test-suite';

// @primus/core has no dependency on ws; borrow the copy the websockets transformer runs on, so the
// raw test clients speak exactly the WebSocket dialect the server side uses.
const wsPath = require.resolve('ws', { paths: [path.join(__dirname, '../../transformer-ws')] });
/** The `ws` WebSocket class, for clients that look at raw frames. */
export const WebSocket: typeof WsSocket = (require(wsPath) as typeof import('ws')).WebSocket;

const cleanups: Array<() => unknown> = [];

/** Tear down every server and raw socket the current test created; use as `afterEach(cleanup)`. */
export async function cleanup(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn();
}

/** A real HTTP server on a random port with Primus over the websockets transformer. */
export async function start(options: PrimusOptions = {}): Promise<TestServer> {
  const server = await startServer({ transformer: websockets, ...options });
  cleanups.push(() => server.close());
  return server;
}

/** Attach Primus to an HTTP server the test built itself, listen on a random port, clean both up. */
export async function attach(server: http.Server, options: PrimusOptions = {}): Promise<{ primus: Primus; port: number; url: string }> {
  const primus = new Primus(server, { transformer: websockets, ...options });
  cleanups.push(async () => {
    await new Promise<void>((resolve) => primus.destroy(() => resolve()));
    server.closeAllConnections();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return { primus, port, url: `http://127.0.0.1:${port}` };
}

/** The in-process transformer double, for tests that need a transformer but not its framework. */
export const memory = memoryTransformer();

/** A Primus on a bare emitter: enough for sparks created by hand, middleware and plugin tests. */
export function detached(options: PrimusOptions = {}): Primus {
  const primus = new Primus(new EventEmitter() as unknown as http.Server, { transformer: memory, ...options });
  cleanups.push(() => new Promise<void>((resolve) => primus.destroy({ close: false }, () => resolve())));
  return primus;
}

/** `detached()` over the websockets transformer, for tests of its browser half (the client library). */
export function detachedWs(options: PrimusOptions = {}): Primus {
  return detached({ transformer: websockets, ...options });
}

/** Wait until the sparks created so far have been announced (`connection` runs on the next tick). */
export function flush(): Promise<void> {
  return new Promise((resolve) => process.nextTick(resolve));
}

/** Every payload a spark sends, decoded from JSON. */
export function sent(spark: Spark): unknown[] {
  const payloads: unknown[] = [];
  spark.on('outgoing::data', (payload) => payloads.push(JSON.parse(String(payload))));
  return payloads;
}

/** A WebSocket client that sees the frames exactly as the server sent them. */
export interface RawClient {
  ws: WsSocket;
  /** The spark the server made for this connection. */
  spark: Spark;
  /** The next message: text frames as strings, binary frames as Buffers. */
  next(ms?: number): Promise<string | Buffer>;
  /** Send a value JSON-encoded, as a Primus client would. */
  send(value: unknown): void;
  /** Resolves when the connection closes, with the close code. */
  closed: Promise<number>;
}

/** Open a raw WebSocket to the server's pathname and wait for its spark. */
export async function connectRaw(server: TestServer, query = '', headers: Record<string, string> = {}): Promise<RawClient> {
  const sparkReady = nextSpark(server.primus);
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}${server.primus.pathname}${query ? `?${query}` : ''}`, { headers });
  cleanups.push(() => ws.terminate());
  const inbox: Array<string | Buffer> = [];
  const waiting: Array<(message: string | Buffer) => void> = [];
  ws.on('message', (data, isBinary) => {
    const message = isBinary ? (data as Buffer) : data.toString();
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else inbox.push(message);
  });
  ws.on('error', () => {});
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await once(ws, 'open');
  const spark = await sparkReady;
  return {
    ws,
    spark,
    closed,
    send: (value) => ws.send(JSON.stringify(value)),
    next(ms = 5000) {
      const queued = inbox.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no message within ${ms} ms`)), ms);
        waiting.push((message) => {
          clearTimeout(timer);
          resolve(message);
        });
      });
    },
  };
}

/** Send raw bytes to a port and collect everything until the server closes the connection. */
export function rawExchange(port: number, text: string, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    cleanups.push(() => socket.destroy());
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close the connection within ${ms} ms; got ${JSON.stringify(received)}`));
    }, ms);
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (received += chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.write(text);
  });
}

/** The bytes of a WebSocket upgrade request. */
export function upgradeRequest(pathAndQuery: string, headers: Record<string, string> = {}): string {
  const lines = [
    `GET ${pathAndQuery} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return lines.join('\r\n') + '\r\n\r\n';
}

/** A stand-in for the browser's WebSocket that records what the client library does with it. */
export class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  readyState = 0;
  binaryType = 'blob';
  sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;

  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this);
  }

  send(data: unknown): void {
    this.sent.push(data);
  }

  close(): void {
    this.readyState = 3;
  }

  /** Play the server accepting the connection. */
  accept(): void {
    this.readyState = 1;
    this.onopen?.();
  }
}

/** Run a `primus.js` source the way a browser page would and return its global scope. */
export function evaluateLibrary(source: string): Record<string, any> {
  FakeWebSocket.instances = [];
  const context = vm.createContext({ WebSocket: FakeWebSocket, setTimeout, clearTimeout, TextDecoder, URL, URLSearchParams });
  vm.runInContext(source, context, { filename: 'primus.js' });
  return context;
}
