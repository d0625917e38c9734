import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventEmitter } from 'node:events';
import { Primus, type PrimusOptions, type Spark } from '@primus/core';
import type { ClientOptions, PrimusClient } from '@primus/client';

/** Anything with `once` (Node emitters, EventEmitter3, Primus, sparks, clients). */
export interface Onceable {
  once(event: string, listener: (...args: any[]) => void): unknown;
  off?(event: string, listener: (...args: any[]) => void): unknown;
  removeListener?(event: string, listener: (...args: any[]) => void): unknown;
}

/** Resolve with the arguments of the next `event`; reject after `ms` with a message that names it. */
export function once<T extends unknown[] = any[]>(emitter: Onceable, event: string, ms = 10000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const listener = (...args: unknown[]): void => {
      clearTimeout(timer);
      resolve(args as T);
    };
    const timer = setTimeout(() => {
      (emitter.off ?? emitter.removeListener)?.call(emitter, event, listener);
      reject(new Error(`timed out after ${ms} ms waiting for "${event}"`));
    }, ms);
    emitter.once(event, listener);
  });
}

/** Poll `check` until it returns a truthy value; reject after `ms`. */
export async function waitFor<T>(check: () => T | Promise<T>, ms = 10000, what = 'condition'): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Collect `n` values of `event`. */
export function collect<T = unknown>(emitter: Onceable & { on(event: string, fn: (...args: any[]) => void): unknown }, event: string, n: number, ms = 10000): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const seen: T[] = [];
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: got ${seen.length} of ${n} "${event}" events`)), ms);
    emitter.on(event, (value: T) => {
      seen.push(value);
      if (seen.length === n) {
        clearTimeout(timer);
        resolve(seen);
      }
    });
  });
}

/** What a test expects of a client besides its normal life. */
export interface ClientExpectations {
  /**
   * `'expected'`: the client may emit `error` (a refused connection, a transport failure the test
   * provokes); the test checks what matters itself. By default any `error` fails the test.
   */
  errors?: 'expected';
}

/** A Primus server on a random port of 127.0.0.1, with clients that are cleaned up with it. */
export interface TestServer {
  primus: Primus;
  server: http.Server;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /**
   * A Node client of this server; ended and destroyed by `close()`. An `error` it emits fails the
   * test (`close()` rejects naming it) unless the test expects errors of this client:
   * `client(options, { errors: 'expected' })`.
   */
  client(options?: ClientOptions & { query?: string }, expectations?: ClientExpectations): PrimusClient;
  /** Errors emitted so far by clients that did not expect any. */
  readonly unexpectedErrors: readonly Error[];
  /** Destroy every client and the server; rejects when a client emitted an unexpected error. */
  close(): Promise<void>;
  /** Simulate a crash: drop every connection without a word, then stop listening. */
  kill(): Promise<void>;
}

function defaultHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  res.statusCode = req.url === '/nothrow' ? 200 : 500;
  res.end(req.url === '/nothrow' ? 'original listener' : 'the application handler was reached');
}

/**
 * Start a server. Requests outside the pathname go to `handler`; by default it answers `/nothrow`
 * and fails anything else, which proves Primus keeps its own requests.
 */
export async function startServer(options: PrimusOptions, port = 0, host = '127.0.0.1', handler: http.RequestListener = defaultHandler): Promise<TestServer> {
  return listen(options, handler, { port, host });
}

/**
 * Start a server listening on a Unix domain socket; its `url` is `ws+unix://<socketPath>` and
 * its `port` 0. Closing it removes the socket file.
 */
export async function startSocketServer(options: PrimusOptions, socketPath: string, handler: http.RequestListener = defaultHandler): Promise<TestServer> {
  return listen(options, handler, { path: socketPath });
}

async function listen(options: PrimusOptions, handler: http.RequestListener, where: { port: number; host: string } | { path: string }): Promise<TestServer> {
  const server = http.createServer(handler);
  const primus = new Primus(server, options);
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(where, () => resolve());
  });
  let actual = 0;
  let url: string;
  if ('path' in where) {
    url = `ws+unix://${where.path}`;
  } else {
    const { host } = where;
    actual = (server.address() as AddressInfo).port;
    url = host.includes(':') ? `http://[${host}]:${actual}` : `http://${host}:${actual}`;
  }
  const clients: PrimusClient[] = [];
  const unexpectedErrors: Error[] = [];
  return {
    primus,
    server,
    port: actual,
    url,
    unexpectedErrors,
    client(clientOptions = {}, expectations = {}) {
      const { query, url: target, ...rest } = clientOptions;
      const base = target ?? url;
      const socket = new primus.Socket(base + (query ? `${base.startsWith('ws+unix:') ? '?' : '/?'}${query}` : ''), rest);
      // Always listened to, so an error never throws out of the emitter; recorded unless expected.
      socket.on('error', (err: unknown) => {
        if (expectations.errors !== 'expected') unexpectedErrors.push(err instanceof Error ? err : new Error(String(err)));
      });
      clients.push(socket);
      return socket;
    },
    async kill() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => primus.destroy({ close: true }, () => resolve()));
    },
    async close() {
      for (const client of clients) client.destroy();
      await new Promise<void>((resolve) => primus.destroy({ close: true }, () => resolve()));
      server.closeAllConnections();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
      if (unexpectedErrors.length > 0) {
        const list = unexpectedErrors.map((err) => `${(err as { code?: string }).code ? `${(err as { code?: string }).code}: ` : ''}${err.message}`).join('; ');
        throw new Error(`a client emitted an error the test did not expect (pass { errors: 'expected' } to client() where one is): ${list}`);
      }
    },
  };
}

/** Resolve with the next spark to connect. */
export function nextSpark(primus: Primus, ms = 10000): Promise<Spark> {
  return once<[Spark]>(primus as unknown as EventEmitter, 'connection', ms).then(([spark]) => spark);
}

/**
 * Resolve with the first message of the next spark to connect. The listener is attached inside the
 * `connection` event: data queued during the announcement is delivered synchronously right after
 * it, before any promise continuation could attach one.
 */
export function nextData<T = unknown>(primus: Primus, ms = 10000): Promise<[data: T, spark: Spark]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      primus.off('connection', onConnection);
      reject(new Error(`timed out after ${ms} ms waiting for the first message of a new spark`));
    }, ms);
    const onConnection = (spark: Spark): void => {
      primus.off('connection', onConnection);
      spark.once('data', (data: T) => {
        clearTimeout(timer);
        resolve([data, spark]);
      });
    };
    primus.on('connection', onConnection);
  });
}

/** What a hand-made upgrade request got back. */
export interface UpgradeResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The client side of the connection when the server switched protocols; the caller closes it. */
  socket?: import('node:net').Socket;
}

/** The server side of a WebSocket upgrade, as `nextUpgradeWrites()` watches it. */
export interface UpgradeWrites {
  /** The upgrade request as the server received it (the client's offer of extensions is in its headers). */
  request: http.IncomingMessage;
  /**
   * Writes made to the connection's TCP socket since the request arrived, the answer to it
   * included: each `_write` or `_writev` is one system call.
   */
  writes(): number;
  /**
   * The server's answer to the upgrade (status line and headers) as it was written to the TCP
   * socket; undefined until then, or when native code writes to the socket's descriptor itself.
   */
  response(): string | undefined;
}

/** The status line and headers at the start of `chunk`, if it starts an HTTP response. */
function responseHead(chunk: unknown): string | undefined {
  const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('latin1') : '';
  if (!text.startsWith('HTTP/')) return undefined;
  const end = text.indexOf('\r\n\r\n');
  return end < 0 ? text : text.slice(0, end);
}

/**
 * The server side of the next WebSocket upgrade on `server`, with a count of the writes made to
 * its TCP socket from then on (each `_write` or `_writev` is one system call): what a transformer
 * that batches the writes of one tick saves. It watches the socket before the transformer sees
 * it, so the answer to the upgrade is counted and kept too.
 */
export function nextUpgradeWrites(server: TestServer): Promise<UpgradeWrites> {
  return new Promise((resolve) =>
    server.server.prependOnceListener('upgrade', (request: http.IncomingMessage, socket: import('node:net').Socket) => {
      let writes = 0;
      let response: string | undefined;
      const tcp = socket as import('node:net').Socket & {
        _write: (chunk: unknown, ...rest: unknown[]) => void;
        _writev?: (chunks: { chunk: unknown }[], ...rest: unknown[]) => void;
      };
      const write = tcp._write;
      const writev = tcp._writev;
      tcp._write = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
        if (writes++ === 0) response = responseHead(chunk);
        return write.call(this, chunk, ...rest);
      };
      if (writev) {
        tcp._writev = function (this: unknown, chunks: { chunk: unknown }[], ...rest: unknown[]) {
          if (writes++ === 0) response = responseHead(chunks[0]?.chunk);
          return writev.call(this, chunks, ...rest);
        };
      }
      resolve({ request, writes: () => writes, response: () => response });
    }),
  );
}

/** Send a WebSocket upgrade request by hand (extra `headers` override the defaults) and report the answer. */
export function upgrade(url: string, headers: Record<string, string> = {}): Promise<UpgradeResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      agent: false,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...headers,
      },
    });
    req.on('upgrade', (res, socket) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '', socket: socket as import('node:net').Socket }));
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Offer permessage-deflate in an upgrade and resolve with the extensions the server agreed to. */
export async function negotiatedExtensions(url: string): Promise<string | undefined> {
  const res = await upgrade(url, { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits' });
  res.socket?.destroy();
  if (res.status !== 101) throw new Error(`no upgrade: ${res.status}`);
  return res.headers['sec-websocket-extensions'] as string | undefined;
}

/** Make a plain HTTP request and collect the answer. */
export function request(
  url: string,
  init: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
