import { EventEmitter } from 'eventemitter3';
import { Recovery, type AttemptDone, type ReconnectAttempt, type ReconnectOptions } from './recovery';
import { Timers } from './timers';
import type { ClientSession } from './session';
import { addTransformer, emits, encode, isControl, PrimusError, receive, transmit, type MessageTransformer, type Packet, type Side } from '@primus/protocol';
import { connectionError, invalidValue, optionalObject } from './errors';
import type { ClientTransport, TransportConnection, TransportEvents, TransportHost, UriOptions } from './transport';
import { parseQuery, parseUrl, stringifyQuery, unixUrls, yeast, type ParsedUrl } from './url';

/**
 * The primus.js builds define this (package.json): false for servers without recovery, which
 * leaves every call into the session out of their primus.js, true for servers with it. Elsewhere
 * it is undefined and the calls stay. Each check spells out
 * `typeof PRIMUS_SESSION_HOOKS === 'undefined' || PRIMUS_SESSION_HOOKS`: esbuild folds that where
 * the name is defined, but does not inline a module constant holding it.
 */
declare const PRIMUS_SESSION_HOOKS: boolean | undefined;

/**
 * True in the primus.js builds (package.json), undefined elsewhere: code that only a Node client
 * or a direct user of `PrimusClient` can reach is left out of primus.js behind
 * `typeof PRIMUS_BROWSER === 'undefined'`.
 */
declare const PRIMUS_BROWSER: boolean | undefined;

/** A message codec as the client uses it. */
export interface ClientParser {
  encode(data: unknown): string | ArrayBuffer | Uint8Array | undefined;
  decode(raw: any): unknown;
}

/** The client half of a plugin: called with the client and its options while it is constructed. */
export type ClientPlugin = (this: PrimusClient, primus: PrimusClient, options: ClientOptions) => void;

/** What the server compiles into a client class. */
export interface ClientConfig {
  /** The transformer's client half. */
  transport: ClientTransport;
  /** The message codec. */
  parser: ClientParser;
  /** The server's pathname. @default '/primus' */
  pathname?: string;
  /** The server's version string, exposed as `primus.version`. */
  version?: string;
  /** Whether the server has an authorization hook; drops `timeout` from the default strategy. @default false */
  authorization?: boolean;
  /** Default `ping` interval: the server's `timeout` − 10000, or false. @default 25000 */
  ping?: number | false;
  /** Client halves of the server's plugins, by name. */
  plugins?: Record<string, ClientPlugin>;
  /** Whether the server has connection-state recovery on: the client's `recovery` default. @default false */
  recovery?: boolean;
}

/**
 * Client options; every key is optional and documented with its default. A misspelt option in an
 * object literal does not compile. A plugin that reads options of its own declares them by
 * merging into this interface:
 *
 * ```ts
 * declare module '@primus/client' {
 *   interface ClientOptions {
 *     rooms?: string[];
 *   }
 * }
 * ```
 */
export interface ClientOptions {
  /** The server URL, when not given as the first argument. @default the page's origin, or http://127.0.0.1 in Node */
  url?: string;
  /** Alias of `url`. */
  uri?: string;
  /** Writes buffered while not open; the oldest is dropped when full, and 0 buffers nothing. @default Infinity */
  queueSize?: number;
  /** Connect timeout for `open()` (reconnect attempts use `reconnect['reconnect timeout']`); false disables. @default 10000 */
  timeout?: number | false;
  /** Back-off settings. @default { min: 500, max: Infinity, retries: 10, factor: 2, 'reconnect timeout': 30000 } */
  reconnect?: Partial<ReconnectOptions>;
  /** Heartbeat: send `primus::ping` this many ms after the last pong; false disables. @default 25000 (compiled from the server's timeout) */
  ping?: number | false;
  /** How long to wait for a pong before treating the connection as dead, in ms. @default 10000 */
  pong?: number;
  /** What triggers a reconnect: `disconnect`, `online`, `timeout`, as a list, a comma-separated string, or false. @default 'disconnect,online,timeout' ('disconnect,online' when the server has authorization) */
  strategy?: string | readonly string[] | false;
  /** Options passed to the transformer's own client. @default {} */
  transport?: Record<string, unknown>;
  /** Do not connect until `open()` is called. @default false */
  manual?: boolean;
  /** Set false to avoid WebSockets where the transformer has a fallback. */
  websockets?: boolean;
  /** Force browser network (online/offline) events on or off. @default on where the browser has them */
  network?: boolean;
  /**
   * Connection-state recovery (docs/recovery.md): after a reconnect within the server's window,
   * nothing written either way is lost. Used only when the server has it on too.
   * @default true for primus.js and primus.Socket of a server with recovery on, false otherwise
   */
  recovery?: boolean;
}

/** The options after defaults are applied. */
export interface ResolvedClientOptions extends ClientOptions {
  queueSize: number;
  timeout: number | false;
  reconnect: Partial<ReconnectOptions>;
  ping: number | false;
  pong: number;
  strategy: string;
  transport: Record<string, unknown>;
  manual: boolean;
}

/**
 * The client's own events and their listeners. Names outside this map and `ClientCustomEvents`
 * do not compile: `primus.on('opne', ...)` is an error.
 */
export interface ClientEvents {
  /** The connection is open (after a reconnect too); buffered writes have been sent. */
  open: () => void;
  /** A message, decoded and through the incoming transformers; `raw` is the frame. */
  data: (data: any, raw: unknown) => void;
  /** A transport, parser or message transformer error. */
  error: (err: Error) => void;
  /** The client stopped for good. */
  end: () => void;
  /** An open connection closed; a reconnect may follow. */
  close: () => void;
  /** `open()` did not connect within `timeout`. */
  timeout: () => void;
  /** The network came back. */
  online: () => void;
  /** The network went away (a browser event, or a missing pong). */
  offline: () => void;
  /** `destroy()` was called. */
  destroy: () => void;
  /** `readyState` changed. */
  readyStateChange: (state: 'opening' | 'open' | 'end') => void;
  /** A reconnect will start in `attempt.scheduled` ms. */
  'reconnect scheduled': (attempt: ReconnectAttempt) => void;
  /** An attempt starts; `done(err?)` reports its outcome to the back-off (the client calls it itself). */
  reconnect: (attempt: ReconnectAttempt, done: AttemptDone) => void;
  /** An attempt succeeded; just before `open`. */
  reconnected: (attempt: ReconnectAttempt) => void;
  /** An attempt took longer than `reconnect timeout`. */
  'reconnect timeout': (err: Error, attempt: ReconnectAttempt) => void;
  /** `retries` attempts failed; after `end`. */
  'reconnect failed': (err: Error, attempt: ReconnectAttempt) => void;
  /** The connect URL is being built; a plugin may change the options. */
  'outgoing::url': (options: UriOptions) => void;
  /** The client is opening a connection. */
  'outgoing::open': () => void;
  /** A frame is about to be sent. */
  'outgoing::data': (payload: unknown) => void;
  /** The client is closing its connection. */
  'outgoing::end': () => void;
  /** A reconnect attempt opens a connection. */
  'outgoing::reconnect': () => void;
  /** A ping is sent. */
  'outgoing::ping': (time: number) => void;
  /** The transport connected. */
  'incoming::open': () => void;
  /** A frame arrived, before decoding. */
  'incoming::data': (raw: unknown) => void;
  /** The transport failed. */
  'incoming::error': (err: unknown) => void;
  /** The transport closed. */
  'incoming::end': () => void;
  /** A pong arrived. */
  'incoming::pong': (time: number) => void;
  /** The server told its spark id. */
  'incoming::id': (id: string) => void;
  /** Recovery: the reconnected connection resumed the session; nothing was lost either way. */
  recovered: (id: string) => void;
  /** Recovery: the session could not be resumed (`unknown`: expired or unknown to the server; `overflow`). Resynchronise. */
  'recovery failed': (reason: 'unknown' | 'overflow') => void;
}

/**
 * Events of your own on the client, declared by merging into this interface (a plugin that emits
 * events declares them the same way):
 *
 * ```ts
 * declare module '@primus/client' {
 *   interface ClientCustomEvents {
 *     news: (headline: string) => void;
 *   }
 * }
 * primus.on('news', (headline) => console.log(headline));
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface ClientCustomEvents {}

/** Every event `primus.on()` and `primus.emit()` accept on a client: its own and yours. */
export type ClientEventMap = ClientEvents & ClientCustomEvents;

/** Values of `readyState`; the same numbers as on a server Spark. */
export const OPENING = 1;
export const CLOSED = 2;
export const OPEN = 3;

/** `readyStateChange` names, indexed by state. */
const stateNames = ['', 'opening', 'end', 'open'] as const;

const reservedEvents = new Set([
  'reconnect scheduled',
  'reconnect timeout',
  'readyStateChange',
  'reconnect failed',
  'reconnected',
  'reconnect',
  'offline',
  'timeout',
  'online',
  'error',
  'close',
  'open',
  'data',
  'end',
]);

const strategies = ['disconnect', 'online', 'timeout'];

function defaultUrl(): string {
  // Every ES2018 browser has location.origin; a page without a host (file:) gets the default.
  const location = (globalThis as { location?: { origin: string; host: string } }).location;
  return location && location.host ? location.origin : 'http://127.0.0.1';
}

function normaliseStrategy(strategy: unknown, authorization: boolean): string {
  if (strategy === false) return '';
  if (strategy === undefined || (Array.isArray(strategy) && strategy.length === 0)) {
    return authorization ? 'disconnect,online' : strategies.join(',');
  }
  // Empty entries of a comma-separated string are skipped; an array's are not.
  const list = typeof strategy === 'string' ? strategy.split(',').filter((s) => s.trim()) : Array.isArray(strategy) ? strategy.map(String) : null;
  if (!list) throw invalidValue('options.strategy', 'a string, an array or false', strategy);
  const names = list.map((s) => s.trim().toLowerCase());
  for (const name of names) {
    if (!strategies.includes(name)) {
      throw invalidValue('options.strategy', 'disconnect, online or timeout', name);
    }
  }
  return names.join(',');
}

function optionalNumber(options: ClientOptions, key: 'queueSize' | 'timeout' | 'ping' | 'pong', fallback: number | false, allowFalse: boolean): number | false {
  const value = options[key];
  if (value === undefined) return fallback;
  if (value === false && allowFalse) return false;
  if (typeof value !== 'number' || !(value >= 0)) {
    throw invalidValue('options.' + key, 'a non-negative number' + (allowFalse ? ' or false' : ''), value);
  }
  return value;
}

/** happn-primus's context check: `method` was called on something that is not a client. */
function checkContext(self: unknown, method: string): void {
  if (!(self instanceof PrimusClient)) throw new PrimusError('PRIMUS_ERR_CONTEXT', `Primus#${method}'s context should be called with a Primus instance`);
}

/**
 * The Primus client. One state machine for browsers and Node: connect with reconnect and
 * randomised back-off, the happn heartbeat (the client pings, the server pongs), write buffering
 * while not connected, message transformers and plugins.
 *
 * Create classes with `compile()` (what `primus.Socket` and the generated `primus.js` do); this
 * base has no transport or parser of its own.
 */
export class PrimusClient extends EventEmitter<ClientEventMap> implements TransportHost {
  static readonly OPENING = OPENING;
  static readonly CLOSED = CLOSED;
  static readonly OPEN = OPEN;

  /** Same as `new Primus(url, options)`, on a compiled class (`Primus.connect(url)`). */
  static connect<T extends PrimusClient>(this: new (url?: string | ClientOptions, options?: ClientOptions) => T, url?: string | ClientOptions, options?: ClientOptions): T {
    return new this(url, options);
  }

  /** The transformer's client half (compiled in). */
  declare readonly client: ClientTransport;
  /** Encodes outgoing messages (compiled in). */
  declare readonly encoder: ClientParser['encode'];
  /** Decodes incoming messages (compiled in). */
  declare readonly decoder: ClientParser['decode'];
  /** The server's pathname (compiled in). */
  declare readonly pathname: string;
  /** The server's version (compiled in). */
  declare readonly version: string;
  /** Whether the server had an authorization hook (compiled in). */
  declare readonly authorization: boolean;
  /** Plugins' client halves by name (compiled in). */
  declare readonly ark: Readonly<Record<string, ClientPlugin>>;
  /** The compiled default `ping`. */
  declare readonly defaultPing: number | false;
  /** The compiled default of `recovery`. */
  declare readonly defaultRecovery: boolean;
  /** The recovery session, or null when `recovery` is off. */
  session: ClientSession | null = null;

  /** The options with defaults applied. */
  options: ResolvedClientOptions;
  /** Writes waiting for the connection, unencoded, oldest first. */
  buffer: unknown[] = [];
  writable = true;
  readable = true;
  /** The parsed server URL. */
  url: ParsedUrl;
  /** `Primus.OPENING`, `Primus.CLOSED` or `Primus.OPEN`. */
  readyState: number = CLOSED;
  /** Round-trip time of the last heartbeat (or of opening), in ms. */
  latency = 0;
  /** Whether the network is believed to be up. */
  online = true;
  /** Set by `primus::server::close`: the next close ends the client for good. */
  disconnect = false;
  /** The named timers: `open`, `connect`, `ping`, `pong`. */
  timers = new Timers();
  /** The reconnect back-off. */
  recovery: Recovery;
  /** Message transformers. */
  transformers: { incoming: MessageTransformer<PrimusClient, Packet>[]; outgoing: MessageTransformer<PrimusClient, Packet>[] } = {
    incoming: [],
    outgoing: [],
  };
  /**
   * Options for the transformer's own client (`options.transport`), read when each connection
   * opens, so a plugin may change them; happn-primus's name.
   */
  transport: Record<string, unknown>;
  /** True when `websockets: false` was given; a plugin may set it before the client connects. happn-primus's name. */
  AVOID_WEBSOCKETS: boolean;

  private _connection: TransportConnection | null = null;
  private _openedAt = 0;
  private _networkHandlers: { online: () => void; offline: () => void } | null = null;
  private _destroyed = false;

  constructor(url?: string | ClientOptions, options?: ClientOptions) {
    super();
    if (typeof url === 'object' && url !== null) {
      options = url;
      url = (options.url != null ? options.url : options.uri) as string | undefined;
    }
    // primus.js hands pages the compiled class only.
    if (typeof PRIMUS_BROWSER === 'undefined' && (typeof this.client !== 'object' || typeof this.encoder !== 'function')) {
      throw new PrimusError('PRIMUS_ERR_NOT_COMPILED', 'Primus: this client class has not been compiled; use primus.Socket, Primus.createSocket() or compile()');
    }
    const given: ClientOptions = optionalObject('options', options);
    if (url !== undefined && typeof url !== 'string') throw invalidValue('url', 'a string', url);
    // Checked in this order: queueSize, timeout, ping, pong, transport, strategy.
    const resolved = (this.options = Object.assign(given, {
      queueSize: optionalNumber(given, 'queueSize', Infinity, false),
      timeout: optionalNumber(given, 'timeout', 10000, true),
      ping: optionalNumber(given, 'ping', this.defaultPing, true),
      pong: optionalNumber(given, 'pong', 10000, false),
      reconnect: given.reconnect != null ? given.reconnect : {},
      transport: optionalObject('options.transport', given.transport),
      strategy: normaliseStrategy(given.strategy, this.authorization),
      manual: !!given.manual,
    }) as ResolvedClientOptions);
    // The back-off's events are the client's own: it emits them on the client.
    const recovery = (this.recovery = new Recovery(resolved.reconnect, (event, ...args) => {
      if (event === 'reconnect') {
        this.emit('outgoing::reconnect');
        this._openTransport();
      } else if (event === 'reconnect failed') {
        if ((typeof PRIMUS_SESSION_HOOKS === 'undefined' || PRIMUS_SESSION_HOOKS) && this.session) this.session._forget();
        this._closeTransport();
        // The failed attempt's socket was just closed and will not report its end, so settle here.
        this._setState(CLOSED);
        this.writable = this.readable = false;
        this.emit('end');
      }
      (this.emit as (event: string, ...args: unknown[]) => boolean)(event, ...args);
    }));
    this.url = parseUrl(url, defaultUrl());
    if (typeof PRIMUS_BROWSER === 'undefined' && unixUrls.complete && this.url.protocol === 'ws+unix:') this.url = unixUrls.complete(this.url, this);
    this.transport = resolved.transport;
    this.AVOID_WEBSOCKETS = given.websockets !== undefined && !given.websockets;
    if (typeof PRIMUS_SESSION_HOOKS !== 'undefined' && !PRIMUS_SESSION_HOOKS) {
      // The primus.js of a server without recovery, which has no session to offer.
      if (given.recovery !== undefined && given.recovery !== false) {
        throw invalidValue('options.recovery', 'false: the server has recovery off', given.recovery);
      }
    } else if (given.recovery !== undefined && typeof given.recovery !== 'boolean') {
      throw invalidValue('options.recovery', 'a boolean', given.recovery);
    } else if (given.recovery !== undefined ? given.recovery : this.defaultRecovery) {
      const Session = sessions.Session;
      if (!Session) throw invalidValue('options.recovery', 'false: the server has recovery off', true);
      this.session = new Session({
        _resend: (payload) => this._send(payload),
        _control: (message) => this.readyState === OPEN && this._write(message),
        emit: (event, value) => (event === 'recovered' ? this.emit(event, value) : this.emit(event, value as 'unknown' | 'overflow')),
      });
    }

    // A page's window, and a worker's global scope too: both fire online and offline.
    const browser = typeof addEventListener === 'function';
    const hasOnline = typeof navigator !== 'undefined' && 'onLine' in navigator;
    const network = given.network !== undefined ? !!given.network && browser : browser && hasOnline;
    if (network && hasOnline) this.online = navigator.onLine;

    if (!resolved.manual) this.timers.set('open', () => this.open(), 0);

    for (const name of Object.keys(this.ark)) this.ark[name]!.call(this, this, resolved);

    if (network) {
      const handlers = (this._networkHandlers = {
        offline: () => {
          if (!this._setOnline(false)) return;
          this.end();
          recovery.reset();
        },
        online: () => {
          if (this._setOnline(true) && this._strategy('online')) recovery.reconnect();
        },
      });
      addEventListener('offline', handlers.offline);
      addEventListener('online', handlers.online);
    }
  }

  /** `transport`, as transports read it. */
  get transportOptions(): Record<string, unknown> {
    return this.transport;
  }

  /** `AVOID_WEBSOCKETS`, as transports read it. */
  get avoidWebsockets(): boolean {
    return this.AVOID_WEBSOCKETS;
  }

  /** The framework's socket of the current connection, or null. */
  get socket(): unknown {
    return (this._connection && this._connection.socket) || null;
  }

  /** Whether `evt` is one of Primus's own events, which plugins must not emit for other purposes. */
  reserved(evt: string): boolean {
    return /^(incoming|outgoing)::/.test(evt) || reservedEvents.has(evt);
  }

  /** Connect. Called automatically unless `manual`; call it again after `end()` to reconnect. */
  open(): this {
    checkContext(this, 'open');
    if (this._destroyed) throw new PrimusError('PRIMUS_ERR_CLIENT_DESTROYED', 'Primus: open() on a destroyed client');
    this.timers.clear('open');
    if (!this.recovery.reconnecting() && this.options.timeout) this._startConnectTimeout();
    this._openTransport();
    return this;
  }

  /** Send data to the server; buffered (and sent in order on open) while not connected. */
  write(data: unknown): boolean {
    checkContext(this, 'write');
    transmit(this, side, this.transformers.outgoing, data, this._write);
    return true;
  }

  /**
   * Encode and send without running message transformers (control messages use it too).
   * Returns false when the data was buffered or dropped.
   */
  _write(data: unknown): boolean {
    if (this.readyState !== OPEN) {
      const size = this.options.queueSize;
      // Over `size`, the oldest writes go.
      if (size !== 0 && this.buffer.push(data) > size) this.buffer.splice(0, this.buffer.length - size);
      return false;
    }
    const payload = encode<PrimusClient, string | ArrayBuffer | Uint8Array>(this, side, data);
    if (payload === undefined) return false;
    if ((typeof PRIMUS_SESSION_HOOKS === 'undefined' || PRIMUS_SESSION_HOOKS) && this.session !== null && !isControl(data)) this.session._sent(payload);
    this._send(payload);
    return true;
  }

  private _send(payload: unknown): void {
    this.emit('outgoing::data', payload);
    if (this._connection) this._connection.send(payload as string);
  }

  /** Close the connection for good (until `open()`); `data` is written first if given. */
  end(data?: unknown): this {
    checkContext(this, 'end');
    if (this.readyState === CLOSED && !this.timers.active('connect') && !this.timers.active('open')) {
      if (this.recovery.reconnecting()) {
        if ((typeof PRIMUS_SESSION_HOOKS === 'undefined' || PRIMUS_SESSION_HOOKS) && this.session) this.session._forget();
        this.recovery.reset();
        this._closeTransport();
        this.emit('end');
      }
      return this;
    }
    if (data !== undefined) this.write(data);
    if ((typeof PRIMUS_SESSION_HOOKS === 'undefined' || PRIMUS_SESSION_HOOKS) && this.session) this.session._end();
    this.writable = this.readable = false;
    this._setState(CLOSED);
    this.timers.clearAll();
    // happn-primus left a reconnect attempt in flight here, and its timeout could revive the client.
    this.recovery.reset();
    // closeTransport() announces outgoing::end itself when there is a connection; announce it once.
    if (this._connection) this._closeTransport();
    else this.emit('outgoing::end');
    this.emit('close');
    this.emit('end');
    return this;
  }

  /** End, free every timer, socket and listener. Returns false when already destroyed. */
  destroy(): boolean {
    if (this._destroyed) return false;
    this.end();
    this._destroyed = true;
    this.timers.destroy();
    this.recovery.destroy();
    this.buffer = [];
    this.transformers.incoming.length = 0;
    this.transformers.outgoing.length = 0;
    if (this._networkHandlers) {
      removeEventListener('offline', this._networkHandlers.offline);
      removeEventListener('online', this._networkHandlers.online);
      this._networkHandlers = null;
    }
    this.emit('destroy');
    this.removeAllListeners();
    return true;
  }

  /** Get the connection id the server uses as `spark.id`. */
  id(fn: (id: string) => void): this {
    // A resumed session keeps its spark's id; a transport's own id (engine.io's sid) is the new
    // connection's. Until the server answers, the session may resume or start anew: ask the server.
    const session = (typeof PRIMUS_SESSION_HOOKS === 'undefined' || PRIMUS_SESSION_HOOKS) && this.session ? this.session._sparkId() : undefined;
    const known = session !== undefined ? session : this._connection && this._connection.id;
    if (known) {
      fn(known);
      return this;
    }
    this.once('incoming::id', fn);
    this._write('primus::id::');
    return this;
  }

  /** Add a message transformer; see `MessageTransformer` for sync and async forms. */
  transform(type: 'incoming' | 'outgoing', fn: MessageTransformer<PrimusClient, Packet>): this {
    checkContext(this, 'transform');
    addTransformer(this.transformers, type, fn);
    return this;
  }

  /** One plugin's client half by name, or a copy of all of them. */
  plugin(): Record<string, ClientPlugin>;
  plugin(name: string): ClientPlugin | undefined;
  plugin(name?: string): ClientPlugin | Record<string, ClientPlugin> | undefined {
    checkContext(this, 'plugin');
    if (name !== undefined) return this.ark[name];
    return { ...this.ark };
  }

  /** A function that emits `event` on this client with its arguments (optionally parsed). */
  emits(event: string, parser?: (...args: unknown[]) => unknown): (...args: unknown[]) => boolean {
    return emits(this as unknown as { emit(event: string, ...args: unknown[]): boolean }, event, parser);
  }

  /** Forward incoming data to a writable stream-like destination. */
  pipe<T extends { write(data: unknown): unknown; end?(): unknown }>(destination: T): T {
    this.on('data', (data) => destination.write(data));
    this.on('end', () => destination.end != null && destination.end());
    return destination;
  }

  /** Build the connect URL the way happn-primus does (see `UriOptions`). */
  uri(options: UriOptions = {}): string | UriOptions {
    const url = this.url;
    const qsa = !!options.query;
    if (options.protocol == null) options.protocol = 'http:';
    options.query = qsa && url.query.slice(1);
    if (options.secure == null) options.secure = url.protocol === 'https:' || url.protocol === 'wss:';
    if (options.auth == null) options.auth = url.auth;
    // A Unix domain socket's URL may name the HTTP path after the socket; a TCP URL's path is ignored.
    if (options.pathname == null) options.pathname = typeof PRIMUS_BROWSER === 'undefined' && url.socketPath ? url.pathname || this.pathname : this.pathname;
    if (options.port == null) options.port = +url.port || (options.secure ? 443 : 80);
    this.emit('outgoing::url', options);

    const query = parseQuery(typeof options.query === 'string' ? options.query : '') as Record<string, unknown>;
    query._primuscb = yeast();
    query.ping = this.options.ping;
    query.pong = this.options.pong;
    if ((typeof PRIMUS_SESSION_HOOKS === 'undefined' || PRIMUS_SESSION_HOOKS) && this.session) query._primusrecovery = this.session._param();
    const querystring = stringifyQuery(query);

    const protocol = options.secure ? options.protocol.replace(':', 's:') : options.protocol;
    let href = `${protocol}//${options.auth ? options.auth + '@' : ''}${url.host}`;
    if (options.pathname) href += '/' + options.pathname.replace(/^\/+|\/+$/g, '');
    if (qsa) {
      options.query = querystring;
      href += '?' + querystring;
    } else {
      delete options.query;
    }
    return options.object ? options : href;
  }

  /** Arm the `ping` timer; the pong timer takes over once the ping is sent. */
  heartbeat(): this {
    if (this.options.ping) this.timers.set('ping', () => this._sendPing(), this.options.ping);
    return this;
  }

  private _sendPing(): void {
    const time = Date.now();
    if ((typeof PRIMUS_SESSION_HOOKS === 'undefined' || PRIMUS_SESSION_HOOKS) && this.session) this.session._ackIfChanged();
    this._write(`primus::ping::${time}`);
    this.emit('outgoing::ping', time);
    this.timers.set('pong', () => this._onPongTimeout(), this.options.pong);
  }

  private _onPongTimeout(): void {
    if (this._setOnline(false)) this._onTransportEnd();
  }

  /** Set `online` and emit `online` or `offline`; false when it did not change. */
  private _setOnline(online: boolean): boolean {
    if (this.online === online) return false;
    this.online = online;
    this.emit(online ? 'online' : 'offline');
    return true;
  }

  /** Whether `options.strategy` includes `name`. */
  private _strategy(name: string): boolean {
    return this.options.strategy.includes(name);
  }

  private _startConnectTimeout(): void {
    this.timers.set(
      'connect',
      () => {
        if (this.readyState === OPEN || this.recovery.reconnecting()) return;
        this.emit('timeout');
        if (!this._strategy('timeout')) {
          this.end();
          return;
        }
        // Give up on the slow connection: opening late, it would race the scheduled attempt.
        this._closeTransport();
        this.recovery.reconnect();
      },
      this.options.timeout as number,
    );
  }

  private _setState(state: number): void {
    if (this.readyState === state) return;
    this.readyState = state;
    this.emit('readyStateChange', stateNames[state] as 'opening' | 'open' | 'end');
  }

  /** Close the current connection, if any, and open a new one through the transport. */
  private _openTransport(): void {
    this.emit('outgoing::open');
    this._setState(OPENING);
    this._openedAt = Date.now();
    this._closeTransport();
    let connection: TransportConnection | null = null;
    // Events from a replaced or closed connection are ignored.
    const live = (): boolean => connection !== null && connection === this._connection;
    const events: TransportEvents = {
      open: () => live() && this._onTransportOpen(),
      data: (raw) => live() && this._onTransportData(raw),
      error: (err) => live() && this._onTransportError(err),
      end: () => live() && this._onTransportEnd(),
    };
    try {
      connection = this.client.connect(this, events);
    } catch (err) {
      this._connection = connection = { send() {}, close() {} };
      setTimeout(() => events.error(err), 0);
      return;
    }
    this._connection = connection;
  }

  private _closeTransport(): void {
    const connection = this._connection;
    if (!connection) return;
    this._connection = null;
    this.emit('outgoing::end');
    connection.close();
  }

  private _onTransportOpen(): void {
    this.emit('incoming::open');
    this.timers.clear('connect');
    if (this.recovery.reconnecting()) this.recovery.reconnected();
    this.writable = this.readable = true;
    this._setOnline(true);
    this._setState(OPEN);
    this.latency = Date.now() - this._openedAt;
    this.timers.clear('ping', 'pong');
    this.heartbeat();
    if ((typeof PRIMUS_SESSION_HOOKS === 'undefined' || PRIMUS_SESSION_HOOKS) && this.session) this.session._opened();
    if (this.buffer.length) {
      const buffer = this.buffer;
      this.buffer = [];
      for (const data of buffer) this._write(data);
    }
    this.emit('open');
  }

  private _onTransportData(raw: unknown): void {
    this.emit('incoming::data', raw);
    receive(this, side, this.transformers.incoming, raw);
  }

  private _onTransportError(raw: unknown): void {
    this.emit('incoming::error', raw);
    const err = connectionError(raw);
    const connecting = this.timers.active('connect');
    if (this.recovery.reconnecting()) {
      this.recovery.reconnected(err);
      return;
    }
    this.emit('error', err);
    if (connecting) {
      this.timers.clear('connect');
      if (this._strategy('timeout')) this.recovery.reconnect();
      else this.end();
    }
  }

  private _onTransportEnd(): void {
    this.emit('incoming::end');
    if (this.disconnect) {
      this.disconnect = false;
      this.end();
      return;
    }
    const previous = this.readyState;
    this._setState(CLOSED);
    if (this.timers.active('connect')) {
      this.end();
      return;
    }
    if (previous !== OPEN) {
      if (this.recovery.reconnecting()) this.recovery.reconnect();
      return;
    }
    this.writable = this.readable = false;
    this.timers.clearAll();
    this.emit('close');
    if (this._strategy('disconnect')) {
      this.recovery.reconnect();
      return;
    }
    this._closeTransport();
    this.emit('end');
  }
}

/**
 * The recovery session class. The Node entry installs it, and so does the primus.js of a server
 * with recovery on (browser-recovery.ts); the primus.js of a server without recovery leaves it out.
 */
export const sessions: { Session?: typeof ClientSession } = {};

/** The client as the protocol kernel sees it. */
const side: Side<PrimusClient> = {
  _decode(raw) {
    return this.decoder(raw);
  },
  _encode(data) {
    return this.encoder(data);
  },
  // The client knows pong, server and id; other types are ignored, as the protocol says.
  _control(type, value) {
    if ((typeof PRIMUS_SESSION_HOOKS === 'undefined' || PRIMUS_SESSION_HOOKS) && this.session) this.session._control(type, value);
    if (type === 'pong') {
      const time = +value;
      this.emit('incoming::pong', time);
      this.online = true;
      this.timers.clear('pong');
      this.heartbeat();
      this.latency = Date.now() - time;
    } else if (type === 'server') {
      if (value === 'close') this.disconnect = true;
    } else if (type === 'id') {
      this.emit('incoming::id', value);
    }
  },
  _accept() {
    // A frame the transport still reports after its end is not delivered (see deliver), so it
    // must not count either: recovery sends it again.
    if (this.readyState === CLOSED) return false;
    if ((typeof PRIMUS_SESSION_HOOKS === 'undefined' || PRIMUS_SESSION_HOOKS) && this.session) this.session._data();
    return true;
  },
  _deliver(data, raw) {
    // A message whose incoming transformers finished after the client closed is dropped, as a
    // closed spark drops one.
    if (this.readyState !== CLOSED) this.emit('data', data, raw);
  },
  _fail(error) {
    this.emit('error', error);
  },
};

/** A compiled client class: construct it with or without `new`. */
export interface PrimusConstructor {
  new (url?: string | ClientOptions, options?: ClientOptions): PrimusClient;
  (url?: string | ClientOptions, options?: ClientOptions): PrimusClient;
  /** Same as `new Primus(url, options)`. */
  connect(url?: string | ClientOptions, options?: ClientOptions): PrimusClient;
  readonly prototype: PrimusClient;
  readonly OPENING: number;
  readonly CLOSED: number;
  readonly OPEN: number;
}

/**
 * Build a client class with a transport, a parser and the server's settings baked in. This is
 * what `primus.Socket`, `Primus.createSocket()` and the generated `primus.js` return.
 */
export function compile(config: ClientConfig): PrimusConstructor {
  // primus.js calls this once, with the transformer's browser half and the parser's that the
  // server put in it, and always with pathname, version and ping (core's library.ts); a page cannot
  // call it. The checks and the defaults are for Node and direct users.
  const transport = (typeof PRIMUS_BROWSER !== 'undefined' || config) && config.transport;
  const parser = (typeof PRIMUS_BROWSER !== 'undefined' || config) && config.parser;
  if (typeof PRIMUS_BROWSER === 'undefined') {
    if (!config || typeof (transport && transport.connect) !== 'function') {
      throw new PrimusError('PRIMUS_ERR_INVALID_TRANSFORMER', 'Primus: compile() needs a transport with a connect() method');
    }
    if (typeof (parser && parser.encode) !== 'function' || typeof parser.decode !== 'function') {
      throw new PrimusError('PRIMUS_ERR_INVALID_PARSER', 'Primus: compile() needs a parser with encode() and decode()');
    }
  }
  class Primus extends PrimusClient {}
  const baked: Record<string, unknown> = {
    client: transport,
    encoder: parser.encode,
    decoder: parser.decode,
    pathname: typeof PRIMUS_BROWSER !== 'undefined' || config.pathname != null ? config.pathname : '/primus',
    version: typeof PRIMUS_BROWSER !== 'undefined' || config.version != null ? config.version : '0.0.0',
    authorization: !!config.authorization,
    ark: Object.freeze({ ...config.plugins }),
    defaultPing: typeof PRIMUS_BROWSER !== 'undefined' || config.ping !== undefined ? config.ping : 25000,
    defaultRecovery: !!config.recovery,
  };
  for (const key of Object.keys(baked)) Object.defineProperty(Primus.prototype, key, { value: baked[key] });
  // With the proxy as new.target, V8 gives every client a hidden class of its own and its property
  // accesses go megamorphic: constructing with the class itself keeps one, which counts where a
  // process opens many clients (a page opens one; primus.js leaves the trap out). A subclass stays
  // new.target.
  const callable = new Proxy(Primus, {
    apply: (target, _this, args: [string?, ClientOptions?]) => new target(...args),
    ...(typeof PRIMUS_BROWSER === 'undefined' && {
      construct: (target: typeof Primus, args: [string?, ClientOptions?], newTarget: Function) => Reflect.construct(target, args, newTarget === callable ? target : newTarget),
    }),
  }) as unknown as PrimusConstructor;
  return callable;
}
