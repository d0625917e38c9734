import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ClientTransport } from '@primus/client';
import { PrimusError } from './errors';
import { isPackageName, loadNamed, packageCandidates } from './load-package';
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
  /** The framework carries text only: a parser that sends binary frames is refused at construction. @default false */
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

export { loadOptional } from './load-package';

function unwrap(mod: unknown): unknown {
  const candidate = mod as { default?: unknown } | undefined;
  if (candidate && typeof candidate === 'object' && 'default' in candidate && candidate.default) return candidate.default;
  return mod;
}

function isTransformer(value: unknown): value is Transformer {
  const t = value as Transformer | undefined;
  return !!t && typeof t === 'object' && typeof t.name === 'string' && typeof t.server === 'function' && typeof t.client?.connect === 'function' && typeof t.browser === 'function';
}

/**
 * Resolve the `transformer` option: a transformer object, or a name. A name is one of ours
 * (`TRANSFORMER_PACKAGES`, case-insensitive), or any installed package: `@acme/x` and
 * `primus-transformer-x` load that package, and another name `x` loads the first installed of
 * `@primus/transformer-x`, `primus-transformer-x` and `x`.
 */
export function resolveTransformer(option: unknown): Transformer {
  if (typeof option === 'string') {
    const name = option.trim();
    const ours = TRANSFORMER_PACKAGES[name.toLowerCase()];
    const candidates = ours ? [ours] : isPackageName(name) ? packageCandidates('transformer', name) : [];
    const choices = `Use one of ${Object.keys(TRANSFORMER_PACKAGES).join(', ')}, the name of an installed transformer package, or pass a transformer object`;
    if (!candidates.length) throw new PrimusError('PRIMUS_ERR_UNKNOWN_TRANSFORMER', `Unsupported transformer: "${option}". ${choices}`);
    const found = ours ? loadNamed('transformer', ours) : loadNamed('transformer', name);
    if (!found) {
      if (candidates.length > 1) {
        throw new PrimusError(
          'PRIMUS_ERR_UNKNOWN_TRANSFORMER',
          `Unsupported transformer: "${name}": no installed package provides it (tried ${candidates.join(', ')}). ${choices}. ` +
            `A third-party transformer is installed with its package: npm install ${candidates[1]}`,
        );
      }
      throw new PrimusError('PRIMUS_ERR_MISSING_TRANSFORMER', `Missing dependencies for transformer: "${name}". Install its package: npm install ${candidates[0]}`);
    }
    const transformer = unwrap(found.module);
    if (!isTransformer(transformer)) {
      throw new PrimusError('PRIMUS_ERR_INVALID_TRANSFORMER', `The package ${found.pkg} does not export a transformer (expected { name, server, client, browser })`);
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
