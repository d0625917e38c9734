import cluster from 'node:cluster';
import type { Server as HttpServer } from 'node:http';
import type { Server as NetServer } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import { EventEmitter } from 'eventemitter3';
import type { PrimusConstructor } from '@primus/client';
import { addTransformer, type MessageTransformer, type Packet } from '@primus/protocol';
import { asyncEmit } from './async-emit';
import { SparkSink, TextSparkSink } from './connection';
import type { ConnectionInfo, ConnectionSink, ConnectionSocket, HostServer, Logger, Transformer, TransformerServer } from './contract';
import { createServerWith, type CreateServerOptions } from './create-server';
import { invalidOption, PrimusError } from './errors';
import { compileTrustedProxies, type TrustProxy } from './forwarded';
import { HeartbeatTimers } from './heartbeat-timers';
import { HttpRouting } from './http-routing';
import { buildLibrary, ClientBuild } from './library';
import {
  addMiddleware,
  authorizationLayer,
  corsLayer,
  forwardedLayer,
  libraryLayer,
  noCacheLayer,
  requestPath,
  specLayer,
  xssLayer,
  type Layer,
  type Middleware,
  type MiddlewareFactory,
  type PrimusRequest,
} from './middleware';
import { resolveOptions, type AuthorizationHandler, type PrimusOptions, type ResolvedOptions } from './options';
import { Recoveries, type RecoveryFailure } from './recovery';
import { assertParserFits, resolveParser, type LegacyParser, type Parser } from './parser';
import { checkPlugin, pluginParts, pluginsOption, type Plugin } from './plugins';
import { flushSoon } from './flush-queue';
import { parse as parseQuerystring } from 'node:querystring';
import { Spark } from './server-spark';
import type { SparkBase } from './spark';
import { StringPool } from './shared-strings';
import { Shutdown, type DestroyOptions } from './shutdown';
import { broadcast, encodeBroadcast, forgetSpark, registerSpark, sendToAll, visitSparks, visitSparksAsync } from './spark-registry';
import { resolveTransformer } from './transformer';
import { VERSION } from './version';

export type { AuthorizationHandler, PrimusOptions, ResolvedOptions } from './options';
export type { Plugin } from './plugins';
export type { DestroyOptions } from './shutdown';

/** `/primus/spec`. */
export interface PrimusSpec {
  version: string;
  pathname: string;
  timeout: number | false;
  parser: string;
  transformer: string;
  /** Present (true) when the server has connection-state recovery on. */
  recovery?: true;
}

/**
 * The server's own events and their listeners. Names outside this map and `PrimusCustomEvents`
 * do not compile: `primus.on('conection', ...)` is an error.
 */
export interface PrimusEvents {
  /**
   * A new connection; the spark's messages wait until every listener has finished. A listener
   * that declares two parameters gets `next(err?)`; one that returns a promise is awaited; an
   * error ends the spark.
   */
  connection: (spark: Spark, next: (err?: Error) => void) => void | Promise<unknown>;
  /** A spark ended, for any reason (`spark.endReason`); before the spark's own `end`. */
  disconnection: (spark: Spark) => void;
  /** On the tick after construction. */
  initialised: (transformer: Transformer, parser: Parser, options: ResolvedOptions) => void;
  /** A plugin was added. */
  plugin: (name: string, plugin: Plugin) => void;
  /** A plugin was removed. */
  plugout: (name: string, plugin: Plugin) => void;
  /** `destroy()` is shutting down. Two parameters: `next(err?)` is passed; a promise is awaited. */
  close: (options: DestroyOptions, next: (err?: Error) => void) => void | Promise<unknown>;
  /** Diagnostics: the level, then what happened. */
  log: (level: LogLevel, ...args: unknown[]) => void;
  /** A spark missed a heartbeat; an unsolicited pong went out. */
  'heartbeat-skipped': (skipped: number, spark: Spark) => void;
  /** A spark missed too many heartbeats and was ended (after its `disconnection`), or suspended (recovery). */
  flatline: (skipped: number, spark: Spark) => void;
  /** Recovery: a spark lost its connection and waits `window` ms for its client; writes are kept. */
  suspended: (spark: Spark, reason: 'client' | 'heartbeat' | 'error') => void;
  /** Recovery: a client came back within the window and has its spark again (no `connection` on this server). */
  recovered: (spark: Spark) => void;
  /** Recovery: a client asked to resume a session that cannot be; `spark` is new, and `connection` follows. */
  'recovery failed': (spark: Spark, reason: RecoveryFailure) => void;
  /** Recovery: every outcome, for metrics: `recovered`, `unknown`, `overflow` or `expired` (a window passed). */
  recovery: (outcome: 'recovered' | RecoveryFailure | 'expired', spark: Spark) => void;
}

/** The levels of the `log` event, as the transformers' `Logger` names them. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'log';

/**
 * Events of your own on the server, declared by merging into this interface (a plugin that
 * emits events declares them the same way):
 *
 * ```ts
 * declare module '@primus/core' {
 *   interface PrimusCustomEvents {
 *     'room:created': (room: string) => void;
 *   }
 * }
 * primus.on('room:created', (room) => console.log(room));
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface PrimusCustomEvents {}

/** Every event `primus.on()` and `primus.emit()` accept: the server's own and yours. */
export type PrimusEventMap = PrimusEvents & PrimusCustomEvents;

/** A Spark class bound to one server. */
export type BoundSpark = {
  new (
    headers?: ConstructorParameters<typeof Spark>[1],
    address?: ConstructorParameters<typeof Spark>[2],
    query?: ConstructorParameters<typeof Spark>[3],
    id?: string,
    request?: ConstructorParameters<typeof Spark>[5],
  ): Spark;
  readonly prototype: Spark;
  readonly OPENING: number;
  readonly CLOSED: number;
  readonly OPEN: number;
};

const reservedEvents = new Set(['disconnection', 'initialised', 'connection', 'plugout', 'plugin', 'close', 'log']);

/**
 * A Primus server: attach it to an HTTP(S) server and talk to every client through sparks,
 * whichever real-time framework the transformer wraps.
 *
 * ```ts
 * const primus = new Primus(server, { transformer: 'websockets' });
 * primus.on('connection', (spark) => spark.on('data', (data) => spark.write(data)));
 * ```
 *
 * This class wires the parts together; each part lives in its own file: options.ts (defaults and
 * validation), http-routing.ts, spark-registry.ts (sparks and broadcast), plugins.ts and
 * middleware.ts, library.ts (the clients) and shutdown.ts.
 */
export class Primus extends EventEmitter<PrimusEventMap> {
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
  /** Plugins by name, as given to `use()`. */
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

  /** @internal Connection-state recovery, or null when the `recovery` option is off. */
  readonly recoveries: Recoveries | null;
  /** @internal The sparks' heartbeat deadlines. */
  readonly heartbeats = new HeartbeatTimers();
  /** @internal The transformer's server half. */
  readonly service: TransformerServer;
  /** @internal */
  private readonly routing: HttpRouting;
  /** @internal */
  private readonly clients = new ClientBuild(this);
  /** @internal */
  private readonly shutdown: Shutdown;
  /** @internal Shared copies of the header strings that repeat on every connection. */
  private readonly sharedStrings = new StringPool();

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
    this.recoveries = this.options.recovery ? new Recoveries(this as unknown as ConstructorParameters<typeof Recoveries>[0]) : null;

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
    this.transformer = resolveTransformer(this.options.transformer);
    assertParserFits(this.parser, this.transformer);
    const service = (this.service = this.transformer.server({
      options: this.options,
      logger: this.logger,
      server: typeof (server as HttpServer).listen === 'function' ? hostServer(this, server as HttpServer) : null,
      connect: (info, socket) => this.connect(info, socket),
      flushSoon,
    }));
    // The HTTP server closed on its own; during destroy() the shutdown releases the transformer
    // itself, after drain().
    const closed = (): void => {
      if (!this.shutdown.running) void service.close?.();
    };
    this.routing = new HttpRouting(this, server as HttpServer, service, closed);
    this.shutdown = new Shutdown({
      endSparks: (reconnect) => {
        for (const id in this.connections) this.connections[id]!.end(undefined, { reconnect });
      },
      server: () => this.server,
      drain: (drainOptions) => service.drain?.(drainOptions),
      emitClose: (closeOptions, done) => asyncEmit(this, 'close', [closeOptions], 2, done),
      unhook: () => this.routing.unhook(),
      release: () => {
        const stores = this.recoveries?.close();
        const service_ = service.close?.();
        return stores ? Promise.all([stores, service_]).then(() => undefined) : service_;
      },
      reset: () => {
        this.removeAllListeners();
        this.transformers = { incoming: [], outgoing: [] };
        this.connections = Object.create(null);
        this.connected = 0;
        this.ark = Object.create(null);
        this.server = null;
      },
      log: (err) => void this.emit('log', 'error', err),
    });
    this.routing.hook();

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

    try {
      for (const [name, plugin] of pluginsOption(this.options.plugin)) this.use(name, plugin);
    } catch (err) {
      // A constructor that throws must leave the HTTP server as it found it.
      this.routing.unhook();
      throw err;
    }

    if (cluster.isWorker && !this.options.iknowclusterwillbreakconnections) {
      console.warn(
        [
          "Primus: this server runs in a cluster worker. Node's cluster module balances connections",
          'Primus: without sticky sessions, which breaks polling transports and reconnects.',
          'Primus: use a sticky load balancer (see the @primus/core README), or set',
          'Primus: iknowclusterwillbreakconnections: true to silence this warning.',
        ].join('\n'),
      );
    }

    process.nextTick(() => {
      if (!this.shutdown.finished) this.emit('initialised', this.transformer, this.parser, this.options);
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
      ...(this.options.recovery ? { recovery: true } : {}),
    };
  }

  /** Logging through the `log` event, for transformers. */
  get logger(): Logger {
    const log =
      (level: LogLevel) =>
      (...args: unknown[]) =>
        void this.emit('log', level, ...args);
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
    this.clients.invalidate();
    return this;
  }

  /** Whether a request URL falls under the pathname (a plain string-prefix test, as in happn-primus). */
  owns(url: string | undefined): boolean {
    return requestPath(url).startsWith(this.pathname);
  }

  // Sparks (spark-registry.ts).

  /** @internal Create a spark for a connection a transformer accepted, and the sink it reports to. */
  private connect(info: ConnectionInfo, socket: ConnectionSocket): ConnectionSink {
    const query = info.query ?? (info.request as PrimusRequest | undefined)?.query ?? {};
    if (info.headers) this.sharedStrings.shareHeaders(info.headers, info.request);
    if (this.recoveries) {
      const params: Record<string, unknown> = typeof query === 'string' ? { ...parseQuerystring(query.replace(/^\?/, '')) } : { ...query };
      const sink = this.recoveries.connect(params, socket, () => new this.Spark(info.headers, info.address, params, info.id, info.request) as SparkBase);
      if (sink) return sink;
    }
    const spark = new this.Spark(info.headers, info.address, query, info.id, info.request);
    spark.socket = socket;
    return this.transformer.textOnly ? new TextSparkSink(spark) : new SparkSink(spark);
  }

  /** @internal Register a spark and run the `connection` listeners. */
  announce(spark: Spark, done: (err?: Error) => void): void {
    const register = (): void => registerSpark(this, spark, this.shutdown.running || this.shutdown.finished, done);
    if (spark.session !== null && this.recoveries) this.recoveries.announce(spark as SparkBase, register);
    else register();
  }

  /** @internal Forget an ended spark. */
  sparkEnded(spark: Spark): void {
    forgetSpark(this, spark);
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
    if (done) visitSparksAsync(this, fn, done);
    else visitSparks(this, fn);
    return this;
  }

  /**
   * Broadcast to every spark. The message is encoded once for all of them unless outgoing message
   * transformers (which run per spark) are registered.
   */
  write(data: unknown): boolean {
    return broadcast(this, data);
  }

  /**
   * Encode a broadcast once, escaped for the wire, without the message transformers. Returns
   * undefined when it encodes to nothing or fails (the failure goes to the `log` event).
   */
  encodeBroadcast(data: unknown): string | Buffer | Uint8Array | undefined {
    return encodeBroadcast(this, data);
  }

  /**
   * Send a payload from `encodeBroadcast()` to every local spark as is. Cluster plugins use it to
   * deliver a broadcast that another server encoded, without encoding it again.
   */
  writeEncoded(payload: string | Buffer | Uint8Array): boolean {
    sendToAll(this, payload);
    return true;
  }

  // Message transformers, plugins (plugins.ts) and middleware (middleware.ts).

  /** Add a message transformer that runs for every spark (sync: one parameter; async: `next`). */
  transform(type: 'incoming' | 'outgoing', fn: MessageTransformer<Spark, Packet>): this {
    addTransformer(this.transformers, type, fn);
    return this;
  }

  /** Add a plugin: `use(name, plugin)` or `use(plugin)` with `plugin.name`; a string plugin is `require`d. */
  use(name: string | Plugin, plugin?: Plugin | string | (new () => Plugin)): this {
    const checked = checkPlugin(name, plugin);
    if (this.ark[checked.name]) throw new PrimusError('PRIMUS_ERR_PLUGIN', `The plugin name "${checked.name}" was already defined`);
    // The plugin as given, so `plugin(name)` returns it with whatever else it carries (a version, helpers).
    this.ark[checked.name] = checked.plugin;
    this.clients.invalidate();
    this.emit('plugin', checked.name, checked.plugin);
    const { server } = pluginParts(checked.plugin);
    if (typeof server === 'function') server.call(this, this, this.options);
    return this;
  }

  /** Remove a plugin by name (its server-side effects stay). Returns false when unknown. */
  plugout(name: string): boolean {
    const plugin = this.ark[name];
    if (!plugin) return false;
    this.emit('plugout', name, plugin);
    delete this.ark[name];
    this.clients.invalidate();
    return true;
  }

  /** One plugin by name (the object given to `use()`), or a copy of all of them. */
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
  before(
    name: string | Middleware | MiddlewareFactory,
    fn?: Middleware | MiddlewareFactory | Record<string, unknown> | number,
    options?: Record<string, unknown> | number,
    level?: number,
  ): this {
    addMiddleware(this, name, fn, options, level);
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
    this.clients.invalidate();
    return this;
  }

  // Clients (library.ts).

  /** The browser client library (`primus.js`) as a string. */
  library(): string {
    return buildLibrary(this);
  }

  /** @internal The library as served at `<pathname>/primus.js`, built once per configuration. */
  cachedLibrary(): string {
    return this.clients.cachedLibrary();
  }

  /** Write the browser library to a file: synchronously, or with a callback. */
  save(path: string): void;
  save(path: string, fn: (err: NodeJS.ErrnoException | null) => void): void;
  save(path: string, fn?: (err: NodeJS.ErrnoException | null) => void): void {
    this.clients.save(path, fn);
  }

  /** A Node client class for this server: its transformer, parser, pathname and plugins. */
  get Socket(): PrimusConstructor {
    return this.clients.Socket();
  }

  /**
   * Create an HTTP(S) server with Primus attached, listening at once: `createServer(fn?, options)`,
   * where `fn` is a `connection` listener; see `CreateServerOptions`. A class that extends Primus
   * builds an instance of itself.
   */
  static createServer<P extends Primus>(
    this: new (server: HttpServer, options: PrimusOptions) => P,
    fn?: ((spark: Spark) => void) | CreateServerOptions,
    options?: CreateServerOptions,
  ): P {
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

  // Shutdown (shutdown.ts).

  /**
   * Shut down: end every spark (clients are told not to reconnect unless `reconnect`), close the
   * HTTP server unless `close: false`, let the transformer drain, restore the server's original
   * listeners and release the transformer.
   */
  destroy(options?: DestroyOptions | ((err?: Error) => void), fn?: (err?: Error) => void): this {
    if (typeof options === 'function') {
      fn = options;
      options = undefined;
    }
    this.shutdown.start(options ?? {}, fn ?? noop);
    return this;
  }

  /** Alias of `destroy()`. */
  end(options?: DestroyOptions | ((err?: Error) => void), fn?: (err?: Error) => void): this {
    return this.destroy(options, fn);
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
