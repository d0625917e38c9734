import type { ParsedUrl } from './url';

/** Options for `primus.uri()`, which transports call to build their connect URL. */
export interface UriOptions {
  /** Scheme without the `s`; `secure` adds it. @default 'http:' */
  protocol?: string;
  /** Carry the query (user query, `_primuscb`, `ping`, `pong`). Set a string to replace the user query. */
  query?: boolean | string;
  /** Use TLS (`wss:`/`https:`). @default whether the client URL is https or wss */
  secure?: boolean;
  /** `user:pass` for the URL. @default the client URL's */
  auth?: string;
  /** @default the server's pathname, compiled into the client */
  pathname?: string;
  /** @default the client URL's port, or 443/80 */
  port?: number;
  /** Return these options, completed, instead of a string. */
  object?: boolean;
  [key: string]: unknown;
}

/** What a client transport may use from the client that drives it. */
export interface TransportHost {
  /** The parsed URL the client was created with. */
  readonly url: ParsedUrl;
  /** The server's pathname, compiled in. */
  readonly pathname: string;
  /** `options.transport`, passed through to the framework's client untouched. */
  readonly transportOptions: Record<string, unknown>;
  /** True when the user asked to avoid WebSockets (`websockets: false`). */
  readonly avoidWebsockets: boolean;
  /** Build the connect URL (or its parts, with `object: true`). */
  uri(options?: UriOptions): string | UriOptions;
}

/** How a transport reports what happens to its connection. Calls after `close()` are ignored. */
export interface TransportEvents {
  open(): void;
  data(raw: unknown): void;
  error(err: unknown): void;
  end(): void;
}

/** One live connection made by a transport. */
export interface TransportConnection {
  /** Send one encoded message; silently dropped when the socket is not open. */
  send(payload: string | ArrayBuffer | Uint8Array): void;
  /** Close the connection and stop reporting events. */
  close(): void;
  /** The framework's own connection id, when it has one that the server also uses as `spark.id`. */
  readonly id?: string;
  /** The framework's socket object, exposed as `primus.socket`. */
  readonly socket?: unknown;
}

/**
 * The client half of a transformer: opens connections for the client state machine. The same
 * contract is used in Node and, bundled into `primus.js`, in browsers.
 */
export interface ClientTransport {
  /** The transformer's name, e.g. `websockets`. */
  readonly name: string;
  /**
   * True when `connect()` can reach a Unix domain socket: it connects to `host.url.socketPath`
   * when that is set (a `ws+unix:` URL). Clients refuse such URLs for transports without it.
   * @default false
   */
  readonly unixSocket?: boolean;
  /** Open a connection; report its lifecycle through `events`. */
  connect(host: TransportHost, events: TransportEvents): TransportConnection;
}
