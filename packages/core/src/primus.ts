import cluster from 'node:cluster';
import { writeFile, writeFileSync } from 'node:fs';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Server as NetServer } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { Duplex } from 'node:stream';
import { EventEmitter } from 'eventemitter3';
import { compile, escapeSeparators, type ClientPlugin, type MessageTransformer, type Packet, type PrimusConstructor } from '@primus/client';
import { asyncEmit } from './async-emit';
import { createServerWith, type CreateServerOptions } from './create-server';
import { SparkSink, TextSparkSink } from './connection';
import type { ConnectionInfo, ConnectionSink, ConnectionSocket, HostServer, Logger, Transformer, TransformerServer } from './contract';
import { invalidOption, ParserError, PrimusError } from './errors';
import { callTaken, giveBack, takeListeners, type TakenListener } from './http-listeners';
import { compileTrustedProxies, type TrustProxy } from './forwarded';
import { buildLibrary } from './library';
import { loadPlugin } from './load-package';
import { pluginParts } from './plugins';
import {
  authorizationLayer,
  corsLayer,
  forwardedLayer,
  libraryLayer,
  noCacheLayer,
  prepareRequest,
  requestPath,
  runLayers,
  specLayer,
  xssLayer,
  type HttpError,
  type Layer,
  type Middleware,
  type MiddlewareFactory,
  type PrimusRequest,
} from './middleware';
import { assertParserFits, resolveParser, type LegacyParser, type Parser } from './parser';
import { HeartbeatTimers } from './heartbeat-timers';
import { StringPool } from './shared-strings';
import { Spark } from './server-spark';
import { resolveTransformer } from './transformer';
import { VERSION } from './version';

/** The authorization hook: call `done()` to accept, `done(err)` to refuse (status `err.statusCode`, default 401). */
export type AuthorizationHandler = (this: Primus, req: PrimusRequest, done: (err?: HttpError | Error | null) => void) => void | Promise<void>;

/** A plugin: a server half run at once, a client half compiled into every client, and browser code. */
export interface Plugin {
  /** Runs when the plugin is added, with `this = primus`. */
  server?: (this: Primus, primus: Primus, options: ResolvedOptions) => void;
  /** Runs in every client; in `primus.js` it is stringified, so it cannot use server variables. */
  client?: ClientPlugin;
  /** Browser code appended to `primus.js`, run with the client class as `Primus`. */
  library?: string;
  name?: string;
}

/** Server options; every one is optional and documented with its default. */
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
  /** Keep `spark.request` for the life of the connection. With false it is released once the `connection` listeners have run (about 1 KB less per idle connection); `spark.headers`, `spark.address` and `spark.query` stay. @default true */
  keepRequest?: boolean;
  /** Proxies whose forwarding headers are believed: IP addresses, CIDR ranges (`'10.0.0.0/8'`) or `'loopback'`, `'linklocal'`, `'uniquelocal'`. Unset, any client's headers are believed, as in happn-primus. @default undefined */
  trustedProxies?: string[];
  /** Silence the warning printed in cluster workers. @default false */
  iknowclusterwillbreakconnections?: boolean;
  /** Silence `createServer`'s warning about plain HTTP. @default false */
  iknowhttpsisbetter?: boolean;
  /** Plugins and transformers may read options of their own. */
  [option: string]: unknown;
}

/** The options after defaults are applied. */
export interface ResolvedOptions extends PrimusOptions {
  pathname: string;
  timeout: number | false;
  allowSkippedHeartBeats: number;
  pongSkipTime: number;
  global: string;
  compression: boolean;
  maxLength: number;
  highWaterMark: number;
  keepRequest: boolean;
  origins: string | string[];
  methods: string | string[];
  credentials: boolean;
  maxAge: number | string;
  headers: string | string[];
  exposed: string | string[];
}

/** `/primus/spec`. */
export interface PrimusSpec {
  version: string;
  pathname: string;
  timeout: number | false;
  parser: string;
  transformer: string;
}

/** Options of `destroy()`. */
export interface DestroyOptions {
  /** Close the HTTP server too. @default true */
  close?: boolean;
  /** End sparks without `primus::server::close`, so clients reconnect (implies `close`). @default false */
  reconnect?: boolean;
  /** Wait this many ms first. @default 0 */
  timeout?: number;
}

/** The server's events and their arguments. */
export interface PrimusEvents {
  /** A new connection, after the previous listeners finished. Two parameters: `next(err?)` is passed. */
  connection: (spark: Spark, next?: (err?: Error) => void) => void;
  disconnection: (spark: Spark) => void;
  initialised: (transformer: Transformer, parser: Parser, options: ResolvedOptions) => void;
  plugin: (name: string, plugin: Plugin) => void;
  plugout: (name: string, plugin: Plugin) => void;
  close: (options: DestroyOptions, next?: (err?: Error) => void) => void;
  log: (level: string, ...args: unknown[]) => void;
  /** A spark missed a heartbeat; an unsolicited pong went out. */
  'heartbeat-skipped': (skipped: number, spark: Spark) => void;
  /** A spark missed too many heartbeats and was ended (after its `disconnection`). */
  flatline: (skipped: number, spark: Spark) => void;
  [event: string]: (...args: any[]) => void;
}

/** A Spark class bound to one server. */
export type BoundSpark = {
  new (headers?: ConstructorParameters<typeof Spark>[1], address?: ConstructorParameters<typeof Spark>[2], query?: ConstructorParameters<typeof Spark>[3], id?: string, request?: ConstructorParameters<typeof Spark>[5]): Spark;
  readonly prototype: Spark;
  readonly OPENING: number;
  readonly CLOSED: number;
  readonly OPEN: number;
};

/** The smallest `highWaterMark`: a Node socket's own write buffer mark. */
const MIN_HIGH_WATER_MARK = 16 * 1024;

const DEFAULTS = {
  pathname: '/primus',
  timeout: 35000,
  allowSkippedHeartBeats: 2,
  pongSkipTime: 1000,
  global: 'Primus',
  compression: false,
  maxLength: 10 * 1024 * 1024,
  highWaterMark: 1024 * 1024,
  keepRequest: true,
  origins: '*',
  methods: 'GET, HEAD, PUT, POST, DELETE, OPTIONS',
  credentials: true,
  maxAge: '30 days',
  headers: '',
  exposed: '',
} as const;

const reservedEvents = new Set(['disconnection', 'initialised', 'connection', 'plugout', 'plugin', 'close', 'log']);

function resolveOptions(input: PrimusOptions): ResolvedOptions {
  const options = { ...input } as ResolvedOptions;
  for (const [key, value] of Object.entries(DEFAULTS)) {
    if (options[key] === undefined) (options as Record<string, unknown>)[key] = value;
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
  if (typeof options.keepRequest !== 'boolean') throw invalidOption('keepRequest', 'a boolean', options.keepRequest);
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
  if (options.trustedProxies !== undefined) compileTrustedProxies(options.trustedProxies);
  return options;
}

/**
 * A Primus server: attach it to an HTTP(S) server and talk to every client through sparks,
 * whichever real-time framework the transformer wraps.
 *
 * ```ts
 * const primus = new Primus(server, { transformer: 'websockets' });
 * primus.on('connection', (spark) => spark.on('data', (data) => spark.write(data)));
 * ```
 */
export class Primus extends EventEmitter<PrimusEvents> {
  /** The base Spark class. */
  static readonly Spark = Spark;
  /** The core's version. */
  static readonly version = VERSION;

  /** The core's version, reported by `/primus/spec` and compiled into clients. */
  readonly version = VERSION;
  /** The options with defaults applied. */
  readonly options: ResolvedOptions;
  /** The path Primus owns. */
  readonly pathname: string;
  /** The HTTP server, or null after `destroy()`. */
  server: HttpServer | null;
  /** The authorization hook, or null. */
  auth: AuthorizationHandler | null;
  /** Open sparks by id. */
  connections: Record<string, Spark> = Object.create(null);
  /** How many sparks are open. */
  connected = 0;
  /** Plugins by name. */
  ark: Record<string, Plugin> = Object.create(null);
  /** The middleware stack. */
  layers: Layer[] = [];
  /** Message transformers, run for every spark. */
  transformers: { incoming: MessageTransformer<Spark, Packet>[]; outgoing: MessageTransformer<Spark, Packet>[] } = { incoming: [], outgoing: [] };
  /** The transformer in use. */
  transformer: Transformer;
  /** The parser in use. */
  parser: Parser;
  /** The Spark class of this server: extend `primus.Spark.prototype` to change only this server's sparks. */
  readonly Spark: BoundSpark;
  /** Proxies whose forwarding headers are believed (the `trustedProxies` option), or undefined. */
  readonly trustedProxies: ReadonlySet<string> | undefined;
  /** @internal The `trustedProxies` option compiled by proxy-addr, or undefined. */
  readonly trustProxy: TrustProxy | undefined;

  private service: TransformerServer;
  /** @internal The sparks' heartbeat deadlines. */
  readonly heartbeats = new HeartbeatTimers();
  /** Shared copies of the header strings that repeat on every connection. */
  private readonly sharedStrings = new StringPool();
  private previous: { request: TakenListener[]; upgrade: TakenListener[] } = { request: [], upgrade: [] };
  private libraryCache: string | null = null;
  private socketClass: PrimusConstructor | null = null;
  private destroying: Array<(err?: Error) => void> | null = null;
  private destroyed = false;
  private readonly handleRequest = (req: IncomingMessage, res: ServerResponse): void => this.onRequest(req, res);
  private readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => this.onUpgrade(req, socket, head);
  // The HTTP server closed on its own; during destroy() the shutdown releases the transformer
  // itself, after drain().
  private readonly handleClose = (): void => {
    if (!this.destroying) void this.service.close?.();
  };

  constructor(server: HttpServer | EventEmitterLike, options: PrimusOptions = {}) {
    super();
    if (!server || typeof server !== 'object' || typeof (server as EventEmitterLike).on !== 'function') {
      throw new PrimusError('PRIMUS_ERR_INVALID_SERVER', 'The first argument of the constructor must be an HTTP or HTTPS server instance (or an EventEmitter)');
    }
    if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
    this.options = resolveOptions(options);
    this.pathname = this.options.pathname;
    this.server = server as HttpServer;
    this.auth = this.options.authorization || null;
    this.trustedProxies = this.options.trustedProxies ? new Set(this.options.trustedProxies) : undefined;
    this.trustProxy = this.options.trustedProxies ? compileTrustedProxies(this.options.trustedProxies) : undefined;

    const primus = this;
    this.Spark = class extends Spark {
      constructor(...args: [any?, any?, any?, string?, any?]) {
        super(primus, ...args);
      }
    } as unknown as BoundSpark;
    Object.defineProperty(this.Spark.prototype, '__initialise', {
      value: [...((Spark.prototype as unknown as { __initialise: unknown[] }).__initialise ?? [])],
      writable: true,
      configurable: true,
    });

    this.parser = resolveParser(this.options.parser);
    this.transformer = resolveTransformer(this.options.transformer ?? this.options.transport ?? 'websockets');
    assertParserFits(this.parser, this.transformer);
    this.service = this.transformer.server({
      options: this.options,
      logger: this.logger,
      server: typeof (server as HttpServer).listen === 'function' ? hostServer(this, server as HttpServer) : null,
      connect: (info, socket) => this.connect(info, socket),
    });
    this.hook();

    for (const [name, fn] of [
      ['forwarded', forwardedLayer],
      ['cors', corsLayer],
      ['primus.js', libraryLayer],
      ['spec', specLayer],
      ['x-xss', xssLayer],
      ['no-cache', noCacheLayer],
      ['authorization', authorizationLayer],
    ] as const) {
      this.before(name, (fn as (this: Primus) => Middleware).call(this));
    }

    const plugins = this.options.plugin;
    try {
      if (typeof plugins === 'string') {
        for (const name of plugins.split(/[, ]+/).filter(Boolean)) this.use(name, name);
      } else if (plugins !== undefined) {
        if (typeof plugins !== 'object' || plugins === null) throw invalidOption('plugin', 'an object of plugins or a string of names', plugins);
        for (const [name, plugin] of Object.entries(plugins)) this.use(name, plugin);
      }
    } catch (err) {
      // A constructor that throws must leave the HTTP server as it found it.
      this.unhook();
      throw err;
    }

    if (cluster.isWorker && !this.options.iknowclusterwillbreakconnections) {
      console.warn(
        [
          'Primus: this server runs in a cluster worker. Node\'s cluster module balances connections',
          'Primus: without sticky sessions, which breaks polling transports and reconnects.',
          'Primus: use a sticky load balancer (see the @primus/core README), or set',
          'Primus: iknowclusterwillbreakconnections: true to silence this warning.',
        ].join('\n'),
      );
    }

    process.nextTick(() => {
      if (!this.destroyed) this.emit('initialised', this.transformer, this.parser, this.options);
    });
  }

  /** `/primus/spec`: what a client needs to know about this server. */
  get spec(): PrimusSpec {
    return {
      version: this.version,
      pathname: this.pathname,
      timeout: this.options.timeout,
      parser: this.parser.name ? this.parser.name.toLowerCase() : 'custom',
      transformer: this.transformer.name ? this.transformer.name.toLowerCase() : 'custom',
    };
  }

  /** Logging through the `log` event, for transformers. */
  get logger(): Logger {
    const log = (level: string) => (...args: unknown[]) => void this.emit('log', level, ...args);
    return { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug'), log: log('log'), plain: log('log') };
  }

  /** Whether `evt` is used by Primus itself. */
  reserved(evt: string): boolean {
    return evt.startsWith('incoming::') || evt.startsWith('outgoing::') || reservedEvents.has(evt);
  }

  /** Encode a message with the parser (with `this` = the spark, as happn-primus does). */
  encode(data: unknown, context?: unknown): string | Buffer | Uint8Array | undefined {
    return this.parser.encode.call(context ?? this, data);
  }

  /** Decode a message with the parser. */
  decode(raw: unknown, context?: unknown): unknown {
    return this.parser.decode.call(context ?? this, raw);
  }

  /** Replace the parser at run time. */
  parsers(parser: string | Parser | LegacyParser): this {
    const resolved = resolveParser(parser);
    assertParserFits(resolved, this.transformer);
    this.parser = resolved;
    this.invalidateClient();
    return this;
  }

  // ---- HTTP ----

  /** Whether a request URL falls under the pathname (a plain string-prefix test, as in happn-primus). */
  owns(url: string | undefined): boolean {
    return requestPath(url).startsWith(this.pathname);
  }

  private hook(): void {
    const server = this.server!;
    this.previous = { request: takeListeners(server, 'request'), upgrade: takeListeners(server, 'upgrade') };
    server.on('request', this.handleRequest);
    if (this.service.upgrade || this.previous.upgrade.length) server.on('upgrade', this.handleUpgrade);
    server.on('close', this.handleClose);
  }

  /** Give the HTTP server back its original request and upgrade listeners. */
  private unhook(): void {
    const server = this.server;
    if (!server) return;
    server.removeListener('request', this.handleRequest);
    server.removeListener('upgrade', this.handleUpgrade);
    server.removeListener('close', this.handleClose);
    giveBack(server, 'request', this.previous.request);
    giveBack(server, 'upgrade', this.previous.upgrade);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (!this.owns(req.url)) {
      callTaken(this.previous.request, this.server, [req, res]);
      return;
    }
    const request = prepareRequest(req, requestPath(req.url));
    runLayers(this, 'http', request, res, () => {
      if (this.service.request) this.service.request(request, res);
      else {
        res.statusCode = 426;
        res.setHeader('Content-Type', 'text/plain');
        res.end('Upgrade Required');
      }
    });
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!this.owns(req.url) || !this.service.upgrade) {
      if (this.previous.upgrade.length) {
        callTaken(this.previous.upgrade, this.server, [req, socket, head]);
      } else if (this.server!.listenerCount('upgrade') === 1) {
        // Nobody else will answer this upgrade; leaving it open would leak the socket.
        socket.destroy();
      }
      return;
    }
    // A socket error before the transformer takes over must not crash the process.
    socket.on('error', noop);
    const request = prepareRequest(req, requestPath(req.url));
    const copy = Buffer.from(head);
    runLayers(this, 'upgrade', request, socket, () => this.service.upgrade!(request, socket, copy));
  }

  // ---- Sparks ----

  /** Create a spark for a connection a transformer accepted, and the sink it reports to. */
  private connect(info: ConnectionInfo, socket: ConnectionSocket): ConnectionSink {
    const query = info.query ?? (info.request as PrimusRequest | undefined)?.query ?? {};
    if (info.headers) this.sharedStrings.shareHeaders(info.headers, info.request);
    const spark = new this.Spark(info.headers, info.address, query, info.id, info.request);
    spark.socket = socket;
    return this.transformer.textOnly ? new TextSparkSink(spark) : new SparkSink(spark);
  }

  /** @internal Register a spark and run the `connection` listeners. */
  announce(spark: Spark, done: (err?: Error) => void): void {
    if (this.destroying || this.destroyed) {
      // The connection completed while the server shuts down: destroy() has already ended the
      // sparks it knew of, so this one is ended here instead of being left behind.
      spark.end(undefined, { reconnect: true });
      return;
    }
    this.connections[spark.id] = spark;
    this.connected++;
    asyncEmit(this, 'connection', [spark], 2, done);
  }

  /** @internal Forget an ended spark. */
  sparkEnded(spark: Spark): void {
    if (this.connections[spark.id] !== spark) return;
    delete this.connections[spark.id];
    this.connected--;
    this.emit('disconnection', spark);
  }

  /** The spark with this id, if it is connected. */
  spark(id: string): Spark | undefined {
    return this.connections[id];
  }

  /** Visit every spark: `fn(spark, id, connections)`; return false to stop. */
  forEach(fn: (spark: Spark, id: string, connections: Record<string, Spark>) => unknown): this;
  /** Visit every spark asynchronously, including those that connect meanwhile; `next(err)` or `next(null, false)` stops. */
  forEach(fn: (spark: Spark, next: (err?: Error | null, more?: boolean) => void) => void, done: (err?: Error) => void): this;
  forEach(fn: (...args: any[]) => unknown, done?: (err?: Error) => void): this {
    if (!done) {
      for (const id in this.connections) {
        if (fn.call(this, this.connections[id], id, this.connections) === false) break;
      }
      return this;
    }
    const ids = Object.keys(this.connections);
    const add = (spark: Spark): void => void ids.push(spark.id);
    this.on('connection', add);
    let index = 0;
    const finish = (err?: Error | null): void => {
      this.off('connection', add);
      done.call(this, err ?? undefined);
    };
    const step = (): void => {
      while (index < ids.length) {
        const spark = this.connections[ids[index++]!];
        if (!spark) continue;
        let called = false;
        fn.call(this, spark, (err?: Error | null, more?: boolean) => {
          if (called) return;
          called = true;
          if (err || more === false) return finish(err);
          step();
        });
        return;
      }
      finish();
    };
    step();
    return this;
  }

  /**
   * Broadcast to every spark. The message is encoded once for all of them unless outgoing message
   * transformers (which run per spark) are registered.
   */
  write(data: unknown): boolean {
    if (this.transformers.outgoing.length) {
      for (const id in this.connections) this.connections[id]!.write(data);
      return true;
    }
    const payload = this.encodeBroadcast(data);
    return payload !== undefined && this.writeEncoded(payload);
  }

  /**
   * Encode a broadcast once, escaped for the wire, without the message transformers. Returns
   * undefined when it encodes to nothing or fails (the failure goes to the `log` event).
   */
  encodeBroadcast(data: unknown): string | Buffer | Uint8Array | undefined {
    let payload: string | Buffer | Uint8Array | undefined;
    try {
      payload = this.encode(data);
    } catch (err) {
      this.emit('log', 'error', new ParserError('PRIMUS_ERR_PARSER_ENCODE', `Failed to encode a broadcast: ${(err as Error)?.message ?? err}`, { cause: err }));
      return undefined;
    }
    if (!payload) return undefined;
    return typeof payload === 'string' ? escapeSeparators(payload) : payload;
  }

  /**
   * Send a payload from `encodeBroadcast()` to every local spark as is. Cluster plugins use it to
   * deliver a broadcast that another server encoded, without encoding it again.
   */
  writeEncoded(payload: string | Buffer | Uint8Array): boolean {
    for (const id in this.connections) this.connections[id]!.sendEncoded(payload);
    return true;
  }

  // ---- Message transformers, plugins, middleware ----

  /** Add a message transformer that runs for every spark (sync: one parameter; async: `next`). */
  transform(type: 'incoming' | 'outgoing', fn: MessageTransformer<Spark, Packet>): this {
    if (type !== 'incoming' && type !== 'outgoing') {
      throw new PrimusError('PRIMUS_ERR_TRANSFORM_TYPE', `Invalid transformer type "${String(type)}": use "incoming" or "outgoing"`);
    }
    if (typeof fn !== 'function') throw new PrimusError('PRIMUS_ERR_TRANSFORM_TYPE', 'A message transformer must be a function');
    if (!this.transformers[type].includes(fn)) this.transformers[type].push(fn);
    return this;
  }

  /** Add a plugin: `use(name, plugin)` or `use(plugin)` with `plugin.name`; a string plugin is `require`d. */
  use(name: string | Plugin, plugin?: Plugin | string | (new () => Plugin)): this {
    if (typeof name === 'object' && name !== null && plugin === undefined) {
      plugin = name;
      name = (name as Plugin).name as string;
    }
    if (!name) throw new PrimusError('PRIMUS_ERR_PLUGIN', 'Plugin should be specified with a name');
    if (typeof name !== 'string') throw new PrimusError('PRIMUS_ERR_PLUGIN', 'Plugin names should be a string');
    if (typeof plugin === 'string') {
      const loaded = loadPlugin(plugin);
      plugin = (loaded.default ?? loaded) as Plugin;
    }
    if (!plugin || (typeof plugin !== 'object' && typeof plugin !== 'function')) {
      throw new PrimusError('PRIMUS_ERR_PLUGIN', 'Plugin should be an object or function');
    }
    const { server, client } = pluginParts(plugin);
    if (!server && !client) throw new PrimusError('PRIMUS_ERR_PLUGIN', 'The plugin is missing a client or server function');
    if (this.ark[name]) throw new PrimusError('PRIMUS_ERR_PLUGIN', `The plugin name "${name}" was already defined`);
    // The plugin as given, so `plugin(name)` returns it with whatever else it carries (a version, helpers).
    this.ark[name] = plugin as Plugin;
    this.invalidateClient();
    this.emit('plugin', name, plugin as Plugin);
    if (typeof server === 'function') server.call(this, this, this.options);
    return this;
  }

  /** Remove a plugin by name (its server-side effects stay). Returns false when unknown. */
  plugout(name: string): boolean {
    const plugin = this.ark[name];
    if (!plugin) return false;
    this.emit('plugout', name, plugin);
    delete this.ark[name];
    this.invalidateClient();
    return true;
  }

  /** One plugin by name, or a copy of all of them. */
  plugin(): Record<string, Plugin>;
  plugin(name: string): Plugin | undefined;
  plugin(name?: string): Plugin | Record<string, Plugin> | undefined {
    if (name !== undefined) return this.ark[name];
    return { ...this.ark };
  }

  /**
   * Add middleware. Two parameters: synchronous, return true when it answered. Three: call
   * `next(err?)`. Fewer than two: a factory called now with `(options)`. A layer of the same name
   * is replaced in place; `level` inserts at that index.
   */
  before(name: string | Middleware | MiddlewareFactory, fn?: Middleware | MiddlewareFactory | Record<string, unknown> | number, options?: Record<string, unknown> | number, level?: number): this {
    if (typeof name === 'function') {
      level = options as number | undefined;
      options = fn as Record<string, unknown> | number | undefined;
      fn = name;
      name = fn.name || `pid_${Date.now()}`;
    }
    if (typeof options === 'number') {
      level = options;
      options = undefined;
    }
    if (typeof fn !== 'function') throw new PrimusError('PRIMUS_ERR_MIDDLEWARE', 'Middleware should be a function that accepts at least 2 args');
    let middleware = fn as Middleware;
    if (middleware.length < 2) middleware = (fn as MiddlewareFactory).call(this, (options as Record<string, unknown>) ?? {});
    if (typeof middleware !== 'function' || middleware.length < 2) {
      throw new PrimusError('PRIMUS_ERR_MIDDLEWARE', 'Middleware should be a function that accepts at least 2 args');
    }
    const layer: Layer = { length: middleware.length, enabled: true, name, fn: middleware };
    const index = this.indexOfLayer(name);
    if (index !== -1) this.layers[index] = layer;
    else if (typeof level === 'number' && level >= 0 && level < this.layers.length) this.layers.splice(level, 0, layer);
    else this.layers.push(layer);
    return this;
  }

  /** Remove a middleware layer by name. */
  remove(name: string): this {
    const index = this.indexOfLayer(name);
    if (index !== -1) this.layers.splice(index, 1);
    return this;
  }

  /** Enable a middleware layer by name. */
  enable(name: string): this {
    const index = this.indexOfLayer(name);
    if (index !== -1) this.layers[index]!.enabled = true;
    return this;
  }

  /** Disable a middleware layer by name. */
  disable(name: string): this {
    const index = this.indexOfLayer(name);
    if (index !== -1) this.layers[index]!.enabled = false;
    return this;
  }

  /** The index of a middleware layer, or -1. */
  indexOfLayer(name: string): number {
    return this.layers.findIndex((layer) => layer.name === name);
  }

  /** Set the authorization hook: `fn(req, done)`; `done(err)` refuses with `err.statusCode` (default 401). */
  authorize(fn: AuthorizationHandler): this {
    if (typeof fn !== 'function') throw invalidOption('authorize', 'a function (req, done)', fn);
    if (fn.length < 2) throw new PrimusError('PRIMUS_ERR_INVALID_OPTION', 'Authorize function requires more arguments: (req, done)');
    this.auth = fn;
    this.invalidateClient();
    return this;
  }

  // ---- Client ----

  /** The settings compiled into clients. */
  private clientConfig(): { pathname: string; version: string; authorization: boolean; ping: number | false } {
    const timeout = this.options.timeout;
    return { pathname: this.pathname, version: this.version, authorization: !!this.auth, ping: timeout ? Math.max(timeout - 10000, 0) : false };
  }

  private invalidateClient(): void {
    this.libraryCache = null;
    this.socketClass = null;
  }

  /** The browser client library (`primus.js`) as a string. */
  library(): string {
    return buildLibrary(this);
  }

  /** @internal The library as served at `<pathname>/primus.js`, built once per configuration. */
  cachedLibrary(): string {
    return (this.libraryCache ??= buildLibrary(this));
  }

  /** Write the browser library to a file: synchronously, or with a callback. */
  save(path: string): void;
  save(path: string, fn: (err: NodeJS.ErrnoException | null) => void): void;
  save(path: string, fn?: (err: NodeJS.ErrnoException | null) => void): void {
    if (!fn) return writeFileSync(path, this.library());
    writeFile(path, this.library(), fn);
  }

  /** A Node client class for this server: its transformer, parser, pathname and plugins. */
  get Socket(): PrimusConstructor {
    if (this.socketClass) return this.socketClass;
    const plugins: Record<string, ClientPlugin> = {};
    for (const [name, plugin] of Object.entries(this.ark)) {
      const { client } = pluginParts(plugin);
      if (typeof client === 'function') plugins[name] = client;
    }
    this.socketClass = compile({
      ...this.clientConfig(),
      transport: this.transformer.client,
      parser: this.parser as unknown as Parameters<typeof compile>[0]['parser'],
      plugins,
    });
    return this.socketClass;
  }

  /**
   * Create an HTTP(S) server with Primus attached, listening at once: `createServer(fn?, options)`,
   * where `fn` is a `connection` listener; see `CreateServerOptions`. A class that extends Primus
   * builds an instance of itself.
   */
  static createServer<P extends Primus>(this: new (server: HttpServer, options: PrimusOptions) => P, fn?: ((spark: Spark) => void) | CreateServerOptions, options?: CreateServerOptions): P {
    return createServerWith(this, fn, options);
  }

  /**
   * A client class without a server: `{ transformer, parser, pathname, plugin, authorization, timeout }`.
   * Here `authorization` only tells the client that the server has a hook, so any truthy value
   * will do, as in happn-primus.
   */
  static createSocket(
    this: typeof Primus,
    options: { [K in keyof PrimusOptions]: K extends 'authorization' ? AuthorizationHandler | boolean | null : PrimusOptions[K] } = {},
  ): PrimusConstructor {
    const authorization = typeof options.authorization === 'function' ? options.authorization : options.authorization ? acceptAll : null;
    const primus = new this(new EventEmitter() as unknown as HttpServer, { iknowclusterwillbreakconnections: true, ...options, authorization });
    const Socket = primus.Socket;
    primus.destroy({ close: false });
    return Socket;
  }

  // ---- Shutdown ----

  /**
   * Shut down: end every spark (clients are told not to reconnect unless `reconnect`), close the
   * HTTP server unless `close: false`, restore its original listeners and release the transformer.
   */
  destroy(options?: DestroyOptions | ((err?: Error) => void), fn?: (err?: Error) => void): this {
    if (typeof options === 'function') {
      fn = options;
      options = undefined;
    }
    const opts: DestroyOptions = { ...(options ?? {}) };
    if (opts.reconnect) opts.close = true;
    const callback = fn ?? noop;
    if (this.destroyed) {
      process.nextTick(callback);
      return this;
    }
    if (this.destroying) {
      this.destroying.push(callback);
      return this;
    }
    this.destroying = [callback];
    const run = (): void => {
      for (const id in this.connections) this.connections[id]!.end(undefined, { reconnect: !!opts.reconnect });
      const server = this.server;
      if (opts.close !== false && server && typeof server.close === 'function') {
        let finished = false;
        const next = (): void => {
          if (finished) return;
          finished = true;
          this.shutdown(opts);
        };
        try {
          server.close(() => next());
          (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
        } catch {
          next();
        }
      } else {
        this.shutdown(opts);
      }
    };
    if (opts.timeout) setTimeout(run, opts.timeout);
    else run();
    return this;
  }

  /** Alias of `destroy()`. */
  end(options?: DestroyOptions | ((err?: Error) => void), fn?: (err?: Error) => void): this {
    return this.destroy(options, fn);
  }

  private shutdown(options: DestroyOptions): void {
    // Step one: clients between two polls collect what their ended sparks sent last, while
    // requests are still routed to the transformer.
    let draining: void | Promise<void> = undefined;
    try {
      draining = this.service.drain?.({ close: options.close !== false });
    } catch (e) {
      this.emit('log', 'error', e);
    }
    if (draining && typeof draining.then === 'function') {
      draining.then(
        () => this.closeAfterDrain(options),
        (e: unknown) => (this.emit('log', 'error', e), this.closeAfterDrain(options)),
      );
    } else {
      this.closeAfterDrain(options);
    }
  }

  private closeAfterDrain(options: DestroyOptions): void {
    asyncEmit(this, 'close', [options], 2, (err) => {
      this.unhook();
      const finish = (): void => {
        this.destroyed = true;
        this.removeAllListeners();
        this.transformers = { incoming: [], outgoing: [] };
        this.connections = Object.create(null);
        this.connected = 0;
        this.ark = Object.create(null);
        this.server = null;
        const callbacks = this.destroying ?? [];
        this.destroying = null;
        for (const callback of callbacks) callback(err);
      };
      let closing: void | Promise<void> = undefined;
      try {
        closing = this.service.close?.();
      } catch (e) {
        this.emit('log', 'error', e);
      }
      if (closing && typeof closing.then === 'function') closing.then(finish, (e: unknown) => (this.emit('log', 'error', e), finish()));
      else finish();
    });
  }
}

/** Stands in for a truthy `authorization` flag given to `createSocket()`; that server never runs it. */
const acceptAll: AuthorizationHandler = (_req, done) => done();

/**
 * The HTTP server as the transformer sees it. `listening` turns false once the server stops
 * listening or `destroy()` has finished.
 */
function hostServer(primus: Primus, node: HttpServer): HostServer {
  const secure = node instanceof TlsServer;
  return {
    get listening() {
      return primus.server !== null && node.listening;
    },
    secure,
    node: node as NetServer,
  };
}

/** The minimal server shape Primus accepts (used by `createSocket`). */
export interface EventEmitterLike {
  on(event: string, listener: (...args: any[]) => void): unknown;
}

function noop(): void {}
