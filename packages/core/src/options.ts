import type { Transformer } from './contract';
import { invalidOption } from './errors';
import { compileTrustedProxies } from './forwarded';
import type { HttpError, PrimusRequest } from './middleware';
import type { LegacyParser, Parser } from './parser';
import type { Plugin } from './plugins';
import type { Primus } from './primus';
import { resolveRecovery, type RecoveryOptions, type ResolvedRecovery } from './recovery-store';

/** The authorization hook: call `done()` to accept, `done(err)` to refuse (status `err.statusCode`, default 401). */
export type AuthorizationHandler = (this: Primus, req: PrimusRequest, done: (err?: HttpError | Error | null) => void) => void | Promise<void>;

/**
 * Server options; every one is optional and documented with its default. A misspelt option in an
 * object literal does not compile. A plugin or transformer that reads options of its own declares
 * them by merging into this interface:
 *
 * ```ts
 * declare module '@primus/core' {
 *   interface PrimusOptions {
 *     rooms?: { maxRooms?: number };
 *   }
 * }
 * ```
 */
export interface PrimusOptions {
  /** The real-time framework: a name (`'websockets'`, `'engine.io'`, ...) or a transformer object. @default 'websockets' */
  transformer?: string | Transformer;
  /** Alias of `transformer`, as in happn-primus. */
  transport?: string | Transformer;
  /** Message codec: `'json'` or a parser object. @default 'json' */
  parser?: string | Parser | LegacyParser;
  /** The URL path Primus owns (a string prefix). @default '/primus' */
  pathname?: string;
  /** Authorization hook for every request and upgrade under the pathname; false or null for none. @default null */
  authorization?: AuthorizationHandler | false | null;
  /** Reported by `/primus/spec`; the compiled client's default ping is `timeout - 10000` (false: no ping). The server learns each client's timing from its connect query. @default 35000 */
  timeout?: number | false;
  /** Heartbeats a spark may miss before it is ended; never below 2. @default 2 */
  allowSkippedHeartBeats?: number;
  /** Pongs within this many ms of the previous one are not sent again. @default 1000 */
  pongSkipTime?: number;
  /** Plugins: `{ name: plugin }`, or names separated by commas or spaces (each is `require`d). @default {} */
  plugin?: string | Record<string, Plugin>;
  /** Name of the global the browser library assigns. @default 'Primus' */
  global?: string;
  /** permessage-deflate / HTTP compression in frameworks that support it. @default false */
  compression?: boolean;
  /** Largest incoming message in bytes; larger ones close the connection (1009 on WebSockets). @default 10485760 */
  maxLength?: number;
  /** Bytes a spark may have queued toward a slow client before `spark.write()` returns false (then `drain` follows). Only transformers that can measure their buffer apply it (websockets). @default 1048576 */
  highWaterMark?: number;
  /** CORS: allowed origins. A list also refuses WebSocket upgrades from other origins (403). @default '*' */
  origins?: string | string[];
  /** CORS: allowed methods. @default 'GET, HEAD, PUT, POST, DELETE, OPTIONS' */
  methods?: string | string[];
  /** CORS: allow credentials. @default true */
  credentials?: boolean;
  /** CORS: preflight cache time, seconds or a duration string. @default '30 days' */
  maxAge?: number | string;
  /** CORS: allowed request headers; empty echoes the request's. @default '' */
  headers?: string | string[];
  /** CORS: headers exposed to the page. @default '' */
  exposed?: string | string[];
  /** What `spark.request` keeps once the `connection` listeners have run: `true`, the request's retained form (method, url, headers, socket, query, middleware's properties; not Node's `IncomingMessage`); `'full'`, the `IncomingMessage` itself (about 0.8 KB more per idle connection); `false`, nothing (`spark.headers`, `spark.address` and `spark.query` stay). @default true */
  keepRequest?: boolean | 'full';
  /** Proxies whose forwarding headers are believed: IP addresses, CIDR ranges (`'10.0.0.0/8'`) or `'loopback'`, `'linklocal'`, `'uniquelocal'`. Unset, any client's headers are believed, as in happn-primus. @default undefined */
  trustedProxies?: string[];
  /**
   * Connection-state recovery (docs/recovery.md): a client that reconnects within `window` gets its
   * spark back and nothing written either way is lost. `true` takes the defaults
   * `{ window: 120000, maxMessages: 10000, maxBytes: 8388608 }`. @default false
   */
  recovery?: boolean | RecoveryOptions;
  /** Silence the warning printed in cluster workers. @default false */
  iknowclusterwillbreakconnections?: boolean;
  /** Silence `createServer`'s warning about plain HTTP. @default false */
  iknowhttpsisbetter?: boolean;
}

/** The options after defaults are applied. */
export interface ResolvedOptions extends PrimusOptions {
  transformer: string | Transformer;
  parser: string | Parser | LegacyParser;
  authorization: AuthorizationHandler | false | null;
  plugin: string | Record<string, Plugin>;
  iknowclusterwillbreakconnections: boolean;
  iknowhttpsisbetter: boolean;
  pathname: string;
  timeout: number | false;
  allowSkippedHeartBeats: number;
  pongSkipTime: number;
  global: string;
  compression: boolean;
  maxLength: number;
  highWaterMark: number;
  keepRequest: boolean | 'full';
  origins: string | string[];
  methods: string | string[];
  credentials: boolean;
  maxAge: number | string;
  headers: string | string[];
  exposed: string | string[];
  /** The `recovery` option checked and completed, or false when recovery is off. */
  recovery: ResolvedRecovery | false;
}

/** The smallest `highWaterMark`: a Node socket's own write buffer mark. */
export const MIN_HIGH_WATER_MARK = 16 * 1024;

/**
 * Every option's default, in one place: what `new Primus()` applies to the options left out, and
 * what the options table of the core's README documents (a test keeps the two in step).
 */
export const DEFAULT_OPTIONS = Object.freeze({
  transformer: 'websockets',
  transport: undefined,
  parser: 'json',
  pathname: '/primus',
  authorization: null,
  timeout: 35000,
  allowSkippedHeartBeats: 2,
  pongSkipTime: 1000,
  plugin: Object.freeze({}),
  global: 'Primus',
  compression: false,
  maxLength: 10 * 1024 * 1024,
  highWaterMark: 1024 * 1024,
  origins: '*',
  methods: 'GET, HEAD, PUT, POST, DELETE, OPTIONS',
  credentials: true,
  maxAge: '30 days',
  headers: '',
  exposed: '',
  keepRequest: true,
  trustedProxies: undefined,
  recovery: false,
  iknowclusterwillbreakconnections: false,
  iknowhttpsisbetter: false,
} as const);

/** Apply the defaults to `input` and check every option: a bad one throws a TypeError that names it. */
export function resolveOptions(input: PrimusOptions): ResolvedOptions {
  const options = { ...input } as ResolvedOptions;
  // `transport` is happn-primus's name for `transformer`: it stands in before the default does.
  if (options.transformer === undefined && options.transport !== undefined) options.transformer = options.transport;
  const defaults = options as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(DEFAULT_OPTIONS)) {
    if (defaults[key] === undefined && value !== undefined) defaults[key] = value;
  }
  if (typeof options.pathname !== 'string') throw invalidOption('pathname', 'a string', options.pathname);
  options.pathname = '/' + options.pathname.replace(/^\/+/, '');
  if (options.pathname.length > 1) options.pathname = options.pathname.replace(/\/+$/, '');
  if (options.timeout !== false && !(typeof options.timeout === 'number' && options.timeout >= 0)) {
    throw invalidOption('timeout', 'a non-negative number or false', options.timeout);
  }
  if (typeof options.allowSkippedHeartBeats !== 'number' || Number.isNaN(options.allowSkippedHeartBeats)) {
    if (options.allowSkippedHeartBeats as unknown) throw invalidOption('allowSkippedHeartBeats', 'a number', options.allowSkippedHeartBeats);
  }
  // happn-primus never tolerates fewer than two skipped heartbeats.
  options.allowSkippedHeartBeats = Math.max(2, Math.floor(Number(options.allowSkippedHeartBeats) || 0));
  if (!(typeof options.pongSkipTime === 'number' && options.pongSkipTime >= 0)) {
    throw invalidOption('pongSkipTime', 'a non-negative number of ms', options.pongSkipTime);
  }
  if (!(Number.isInteger(options.maxLength) && options.maxLength > 0)) {
    throw invalidOption('maxLength', 'a positive integer number of bytes', options.maxLength);
  }
  // Node's sockets say 'drain' only after a write went past their own 16 KiB mark; with a lower
  // mark here a spark could wait for a drain that never comes.
  if (!(Number.isInteger(options.highWaterMark) && options.highWaterMark >= MIN_HIGH_WATER_MARK)) {
    throw invalidOption('highWaterMark', `an integer number of bytes, at least ${MIN_HIGH_WATER_MARK}`, options.highWaterMark);
  }
  if (typeof options.global !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(options.global)) {
    throw invalidOption('global', 'a JavaScript identifier', options.global);
  }
  if (typeof options.compression !== 'boolean') throw invalidOption('compression', 'a boolean', options.compression);
  if (typeof options.keepRequest !== 'boolean' && options.keepRequest !== 'full') throw invalidOption('keepRequest', "a boolean or 'full'", options.keepRequest);
  if (typeof options.credentials !== 'boolean') throw invalidOption('credentials', 'a boolean', options.credentials);
  for (const key of ['origins', 'methods', 'headers', 'exposed'] as const) {
    const value = options[key];
    if (typeof value !== 'string' && !(Array.isArray(value) && value.every((v) => typeof v === 'string'))) {
      throw invalidOption(key, 'a string or an array of strings', value);
    }
  }
  if (typeof options.maxAge !== 'number' && typeof options.maxAge !== 'string') throw invalidOption('maxAge', 'seconds or a duration string', options.maxAge);
  if (options.authorization !== undefined && options.authorization !== null && options.authorization !== false && typeof options.authorization !== 'function') {
    throw invalidOption('authorization', 'a function (req, done)', options.authorization);
  }
  const plugins: unknown = options.plugin;
  if (typeof plugins !== 'string' && (typeof plugins !== 'object' || plugins === null)) {
    throw invalidOption('plugin', 'an object of plugins or a string of names', plugins);
  }
  if (options.trustedProxies !== undefined) compileTrustedProxies(options.trustedProxies);
  options.recovery = resolveRecovery(options.recovery);
  return options;
}
