import { createRequire } from 'node:module';
import { isAbsolute, join } from 'node:path';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ClientTransport } from '@primus/client';
import { PrimusError } from './errors';
import type { RemoteLike } from './forwarded';
import type { Primus, ResolvedOptions } from './primus';
import type { Spark } from './spark';

/** The transformer's handle on one connection, given to the spark it creates. */
export interface SparkSocket {
  /**
   * Send one encoded message (a string is a text frame, bytes a binary frame). Returning false
   * says the connection's buffer is full; nothing (or true) says it took the message in stride.
   * A transformer that returns false, or exposes `bufferedAmount`, must call the spark's
   * `incomingDrain()` when its buffer empties.
   */
  send(payload: string | Buffer | Uint8Array): boolean | void;
  /** Bytes this connection holds that the client has not yet received, as closely as the framework can tell. */
  readonly bufferedAmount?: number;
  /** Close the connection; the spark has already ended. */
  close(): void;
}

/** What a transformer knows about a new connection. */
export interface ConnectionInfo {
  headers: IncomingHttpHeaders;
  /** The direct peer (a socket, or `{ remoteAddress, remotePort }`). */
  address: RemoteLike;
  /** The connect query, as a string or already parsed. */
  query: string | Record<string, unknown>;
  /** The framework's session id, when it has one; otherwise a random id is made. */
  id?: string;
  /** The HTTP request that opened the connection. */
  request?: IncomingMessage;
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

/** What the core gives a transformer's server half. */
export interface TransformerContext {
  readonly primus: Primus;
  /** The server options with defaults applied (`pathname`, `compression`, `maxLength`, ...). */
  readonly options: ResolvedOptions;
  readonly logger: Logger;
  /**
   * Create the spark for an accepted connection. Report what the connection does through the
   * spark's `incomingData`, `incomingPing`, `incomingError`, `incomingEnd` and `incomingDrain`.
   */
  connect(info: ConnectionInfo, socket: SparkSocket): Spark;
}

/** What a transformer's server half gives back: handlers for requests under the pathname. */
export interface TransformerServer {
  /** A plain HTTP request that passed the middleware. Without it the core answers 426. */
  request?(req: IncomingMessage, res: ServerResponse): void;
  /** An upgrade request that passed the middleware. Without it upgrades are not taken over. */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** The server is shutting down: release the framework. */
  close?(): void | Promise<void>;
}

/** A transformer: one real-time framework behind the Primus API. */
export interface Transformer {
  /** The name, as given in the `transformer` option and reported by `/primus/spec`. */
  readonly name: string;
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

/** Transformer names and the package that provides each. */
export const TRANSFORMER_PACKAGES: Readonly<Record<string, string>> = Object.freeze({
  websockets: '@primus/transformer-ws',
  'engine.io': '@primus/transformer-engineio',
  sockjs: '@primus/transformer-sockjs',
  faye: '@primus/transformer-faye',
  browserchannel: '@primus/transformer-browserchannel',
  'socket.io': '@primus/transformer-socketio',
  lws: '@primus/transformer-lws',
});

/**
 * Load an optional package the application installed. The core's own resolution is tried first,
 * then the application's (the working directory and the main module), because with pnpm's strict
 * layout the core cannot see packages that only the application depends on.
 */
export function loadOptional(name: string): unknown {
  const bases = [join(process.cwd(), 'noop.js')];
  if (require.main?.filename) bases.push(require.main.filename);
  // An ES module entry point has no require.main; the script node was started with stands in.
  else if (process.argv[1] && isAbsolute(process.argv[1])) bases.push(process.argv[1]);
  try {
    return require(name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND' || !String((err as Error).message).includes(name)) throw err;
  }
  for (const base of bases) {
    try {
      return createRequire(base)(name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND' || !String((err as Error).message).includes(name)) throw err;
    }
  }
  return undefined;
}

function unwrap(mod: unknown): unknown {
  const candidate = mod as { default?: unknown } | undefined;
  if (candidate && typeof candidate === 'object' && 'default' in candidate && candidate.default) return candidate.default;
  return mod;
}

function isTransformer(value: unknown): value is Transformer {
  const t = value as Transformer | undefined;
  return !!t && typeof t === 'object' && typeof t.name === 'string' && typeof t.server === 'function' && typeof t.client?.connect === 'function' && typeof t.browser === 'function';
}

/** Resolve the `transformer` option: a name (case-insensitive) or a transformer object. */
export function resolveTransformer(option: unknown): Transformer {
  if (typeof option === 'string') {
    const name = option.trim().toLowerCase();
    const pkg = TRANSFORMER_PACKAGES[name];
    if (!pkg) {
      throw new PrimusError(
        'PRIMUS_ERR_UNKNOWN_TRANSFORMER',
        `Unsupported transformer: "${option}". Use one of ${Object.keys(TRANSFORMER_PACKAGES).join(', ')}, or pass a transformer object`,
      );
    }
    const mod = loadOptional(pkg);
    if (mod === undefined) {
      throw new PrimusError(
        'PRIMUS_ERR_MISSING_TRANSFORMER',
        `Missing dependencies for transformer: "${name}". Install its package: npm install ${pkg}`,
      );
    }
    const transformer = unwrap(mod);
    if (!isTransformer(transformer)) {
      throw new PrimusError('PRIMUS_ERR_INVALID_TRANSFORMER', `The package ${pkg} does not export a transformer (expected { name, server, client, browser })`);
    }
    return transformer;
  }
  const transformer = unwrap(option);
  if (!isTransformer(transformer)) {
    throw new PrimusError(
      'PRIMUS_ERR_INVALID_TRANSFORMER',
      'The given transformer is not valid: expected a name or an object with name, server(), client.connect() and browser()',
    );
  }
  return transformer;
}
