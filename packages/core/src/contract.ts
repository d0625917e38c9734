/**
 * The transformer contract: everything that crosses between the core and a transformer, and
 * nothing else. This module imports no part of the implementation, so a transformer written
 * against it depends on these types alone; `@primus/core` exports them for third parties.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ClientTransport } from '@primus/client';

/** A peer address as a framework reports it: a socket, or the fields the core reads from one. */
export interface RemoteLike {
  remoteAddress?: string;
  remotePort?: number;
  encrypted?: boolean;
}

/** An HTTP request under the pathname, as the core hands it to middleware and transformers. */
export interface PrimusRequest extends IncomingMessage {
  /** The parsed request URL. */
  uri: { pathname: string; search: string; query: Record<string, string | string[] | undefined> };
  /** The parsed query. */
  query: Record<string, string | string[] | undefined>;
  /** `req.url` as it arrived. */
  originalUrl: string;
}

/** Logging through the server's `log` event. */
export interface Logger {
  error(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  info(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  log(...args: unknown[]): void;
  plain(...args: unknown[]): void;
}

/** The server options a transformer must honour, with defaults applied. */
export interface TransformerOptions {
  /** Where the transformer's requests live, e.g. `/primus`. */
  readonly pathname: string;
  /** Largest incoming message in bytes; larger ones end the connection. */
  readonly maxLength: number;
  /** Whether permessage-deflate (or the framework's equivalent) is on. */
  readonly compression: boolean;
  /** Bytes a connection may buffer before `write()` returns false. */
  readonly highWaterMark: number;
}

/** The HTTP(S) server Primus is attached to, as far as a transformer needs to know it. */
export interface HostServer {
  /** Whether the server accepts connections now (false once `server.close()` or `destroy()` ran). */
  readonly listening: boolean;
  /** Whether connections arrive over TLS (an `https` or `http2` secure server). */
  readonly secure: boolean;
  /** The Node server itself, for transformers that must take over its sockets (lws). */
  readonly node: import('node:net').Server;
}

/** The transformer's handle on one connection, given to the core by `connect()`. */
export interface ConnectionSocket {
  /**
   * Send one encoded message (a string is a text frame, bytes a binary frame; a `textOnly`
   * transformer only ever receives strings). Return false when the connection's buffer is past
   * `highWaterMark`, and call the sink's `drain()` once it is below again.
   */
  send(payload: string | Buffer | Uint8Array): boolean | void;
  /**
   * Send a broadcast payload in the wire form `TransformerServer.frame()` built for it (the same
   * object for every connection). Optional: without it, or when `frame()` returned undefined, the
   * core calls `send(payload)`. Same return value and back-pressure as `send()`.
   */
  sendFrame?(frame: unknown, payload: string | Buffer | Uint8Array): boolean | void;
  /**
   * Write out what `send()` held back (see `TransformerContext.flushSoon()`). The core calls it
   * through `flushSoon()` only; the transformer also calls it itself before closing.
   */
  flush?(): void;
  /** Bytes this connection holds that the client has not yet received, as closely as the framework can tell. */
  readonly bufferedAmount?: number;
  /** Close the connection; the core has already ended its side. */
  close(): void;
}

/** What a transformer knows about a new connection. */
export interface ConnectionInfo {
  headers: IncomingHttpHeaders;
  /** The direct peer. */
  address: RemoteLike;
  /** The connect query; defaults to the parsed query of `request`. */
  query?: string | Record<string, unknown>;
  /** The framework's session id, when it has one; otherwise a random id is made. */
  id?: string;
  /** The HTTP request that opened the connection. */
  request?: IncomingMessage;
}

/**
 * The core's side of one connection: the transformer reports here what its connection did. Every
 * method is safe to call after the connection ended (it is then a no-op).
 */
export interface ConnectionSink {
  /** The connection id the application sees as `spark.id`. */
  readonly id: string;
  /** A message arrived. A `textOnly` transformer may pass bytes: the core decodes them as UTF-8. */
  data(raw: unknown): void;
  /** A transport-level ping (a WebSocket ping frame) arrived: it counts as a heartbeat. */
  ping(): void;
  /** The connection's buffer went back under `highWaterMark` after `send()` returned false. */
  drain(): void;
  /** The transport failed: the connection ends and the client is told not to reconnect. */
  error(err: unknown): void;
  /** The transport closed: the connection ends and the client may reconnect. */
  end(): void;
}

/** What the core gives a transformer's server half. */
export interface TransformerContext {
  readonly options: TransformerOptions;
  readonly logger: Logger;
  /** The HTTP server, or null when there is none (`Primus.createSocket()` builds a client only). */
  readonly server: HostServer | null;
  /** Accept a connection: the core creates its spark and returns the sink to report to. */
  connect(info: ConnectionInfo, socket: ConnectionSocket): ConnectionSink;
  /**
   * Per-tick write batching. A connection's `send()` may hold what it is given (a corked socket,
   * a native queue) instead of writing it at once, and ask here once for `flush()`: the core then
   * calls `socket.flush()` before the current tick ends (`process.nextTick`), for every connection
   * that asked during it, in the order they asked. So the messages one read produces leave in one
   * write, in order, and none waits for the event loop: no latency is added. `bufferedAmount`
   * must count held bytes, so that back-pressure stays exact.
   */
  flushSoon(socket: ConnectionSocket): void;
}

/** How `primus.destroy()` is shutting the server down, as passed to `drain()`. */
export interface DrainOptions {
  /** Whether the HTTP server is being closed too (then no client can come back to collect anything). */
  readonly close: boolean;
}

/** What a transformer's server half gives back: handlers for requests under the pathname. */
export interface TransformerServer {
  /**
   * Build the wire form of one encoded broadcast payload once (for WebSockets, the whole frame),
   * so that every connection writes the same bytes through `ConnectionSocket.sendFrame()`.
   * Optional; undefined means "send the payload as usual".
   */
  frame?(payload: string | Buffer | Uint8Array): unknown;
  /** A plain HTTP request that passed the middleware. Without it the core answers 426 Upgrade Required. */
  request?(req: PrimusRequest, res: ServerResponse): void;
  /** An upgrade request that passed the middleware. Without it upgrades are not taken over. */
  upgrade?(req: PrimusRequest, socket: Duplex, head: Buffer): void;
  /**
   * Shutdown, step one: every spark has been ended and requests are still routed here. Resolve
   * once clients that are between two polls have collected their last messages (or a bound of
   * the transformer's choosing passed).
   */
  drain?(options: DrainOptions): void | Promise<void>;
  /** Shutdown, step two: release the framework. */
  close?(): void | Promise<void>;
}

/** A transformer: one real-time framework behind the Primus API. */
export interface Transformer {
  /** The name, as given in the `transformer` option and reported by `/primus/spec`. */
  readonly name: string;
  /**
   * The framework carries text only: the core hands `send()` strings, decodes incoming bytes, and
   * refuses a parser that declares binary frames. @default false
   */
  readonly textOnly?: boolean;
  /** Start the server half for one Primus server. */
  server(context: TransformerContext): TransformerServer;
  /** The client half for Node (used by `primus.Socket`). */
  readonly client: ClientTransport;
  /**
   * Source of the browser client half for `primus.js`: an expression that evaluates to a
   * `ClientTransport`, or to a function that takes the client library's helpers and returns one.
   * Anything the framework's browser client needs must be bundled into it.
   */
  browser(): string;
}

/** Identity helper for third-party transformers: checks the shape at compile time. */
export function defineTransformer<T extends Transformer>(transformer: T): T {
  return transformer;
}
