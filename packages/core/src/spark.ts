import { randomUUID } from 'node:crypto';
import { IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import { parse as parseQuerystring } from 'node:querystring';
import { Stream } from 'node:stream';
import { control, emits, encode, isControl, receive, transmit, type MessageTransformer, type Packet, type Side } from '@primus/protocol';
import { compactListeners } from './compact-listeners';
import { connectionError, invalidValue } from './errors';
import { forwarded, type Address, type RemoteLike, type TrustProxy } from './forwarded';
import type { ConnectionSocket } from './contract';
import type { HeartbeatEntry } from './heartbeat-timers';
import { retainRequest, type RetainedRequest } from './retained-request';
import type { SparkSession } from './recovery';

/** Values of `spark.readyState`, the same numbers as the client's. */
export const OPENING = 1;
export const CLOSED = 2;
export const OPEN = 3;

/** The heartbeat a client asks for when it sends no `ping`/`pong` query: happn-primus's defaults. */
export const DEFAULT_PING = 25000;
export const DEFAULT_PONG = 10000;
/** Learned ping/pong values are clamped to these bounds (ms); see the core README. */
export const MIN_HEARTBEAT = 100;
export const MAX_HEARTBEAT = 3_600_000;

/** What `spark.query` holds: the connect query, plus the heartbeat values the client asked for. */
export interface SparkQuery {
  [key: string]: unknown;
  /** The client's ping interval in ms, or 'false' when it has no heartbeat. */
  ping: number | 'false';
  /** The client's pong wait in ms, or 'false' when it has no heartbeat. */
  pong: number | 'false';
}

/**
 * Why a spark ended, in `spark.endReason`: `'client'` (the client closed the connection, or its
 * transport closed), `'server'` (`spark.end()`, `primus.destroy()`), `'heartbeat'` (too many
 * missed heartbeats) or `'error'` (a transport error, or a `connection` listener failed).
 */
export type SparkEndReason = 'client' | 'server' | 'heartbeat' | 'error';

/**
 * A spark's own events and their listeners. Names outside this map and `SparkCustomEvents` do
 * not compile: `spark.on('dtaa', ...)` is an error.
 */
export interface SparkEvents {
  /** A message from the client, decoded, after the incoming transformers. */
  data: (data: any, raw: unknown) => void;
  /** The connection ended, for whatever reason. */
  end: () => void;
  /** Recovery: the connection was lost; the spark keeps what is written to it for its client, for the window. */
  suspended: (reason: SparkEndReason) => void;
  /** Recovery: the client is back on this spark; what it missed has been sent. */
  recovered: () => void;
  /** A parser, transformer or transport error; the `log` event on the server gets it too. */
  error: (err: Error) => void;
  /** readyState changed. */
  readyStateChange: () => void;
  /** The heartbeat was reset by a ping. */
  heartbeat: () => void;
  /** `write()` starts returning false: the connection holds more than `highWaterMark` bytes. `drain` follows. */
  backpressure: () => void;
  /** After `write()` returned false: the connection's buffer emptied and writing may resume. */
  drain: () => void;
  /** A frame arrived, before decoding. */
  'incoming::data': (raw: unknown) => void;
  /** A `primus::ping` arrived (with its time), or a transport-level ping (without). */
  'incoming::ping': (time?: number) => void;
  /** The transport closed. */
  'incoming::end': () => void;
  /** The transport failed. */
  'incoming::error': (err: unknown) => void;
  /** A frame is about to be sent, encoded and escaped. */
  'outgoing::data': (payload: string | Buffer | Uint8Array) => void;
  /** The spark is closing its transport. */
  'outgoing::end': () => void;
  /** A pong is about to be sent. */
  'outgoing::pong': (time: number) => void;
}

/**
 * Events of your own on sparks, declared by merging into this interface (a plugin that emits
 * events on sparks declares them the same way):
 *
 * ```ts
 * declare module '@primus/core' {
 *   interface SparkCustomEvents {
 *     chat: (message: string) => void;
 *   }
 * }
 * spark.on('chat', (message) => spark.write(message.toUpperCase()));
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface SparkCustomEvents {}

/** Every event `spark.on()` and `spark.emit()` accept: the spark's own and yours. */
export type SparkEventMap = SparkEvents & SparkCustomEvents;

/** Options of `spark.end()`. */
export interface SparkEndOptions {
  /** End without `primus::server::close`, so the client reconnects. @default false */
  reconnect?: boolean;
}

type Hook = (this: SparkBase) => void;

/** The heartbeat deadlines a spark is kept in (the server's shared timer lists). */
export interface HeartbeatScheduler {
  /** (Re)start the spark's wait of `ms`. */
  schedule(spark: SparkBase, ms: number): void;
  /** Stop the spark's wait. */
  cancel(spark: SparkBase): void;
}

/**
 * What a spark needs from the server it belongs to. `Primus` provides it; a spark knows its
 * server through this interface only.
 */
export interface SparkHost<S extends SparkBase = SparkBase> {
  readonly options: {
    readonly highWaterMark: number;
    readonly pongSkipTime: number;
    readonly allowSkippedHeartBeats: number;
    readonly keepRequest: boolean | 'full';
    /** Where the server's requests live (what the middleware puts in `req.uri.pathname`). */
    readonly pathname?: string;
  };
  /** The message transformers that run for every spark. */
  readonly transformers: { readonly incoming: readonly MessageTransformer<any, Packet>[]; readonly outgoing: readonly MessageTransformer<any, Packet>[] };
  /** Whether the transformer carries text only: bytes are sent as their UTF-8 text. */
  readonly transformer: { readonly textOnly?: boolean };
  /** Which proxies' forwarding headers are believed (the compiled `trustedProxies` option), or undefined to believe any. */
  readonly trustProxy: TrustProxy | undefined;
  readonly heartbeats: HeartbeatScheduler;
  /** Encode with the parser, `this` = `context`. */
  encode(data: unknown, context?: unknown): string | Buffer | Uint8Array | undefined;
  /** Decode with the parser, `this` = `context`. */
  decode(raw: unknown, context?: unknown): unknown;
  /** Server events: `log`, `heartbeat-skipped`, `flatline`. */
  emit(event: string, ...args: any[]): boolean;
  /** Register the spark and run the `connection` listeners; `done(err)` refuses it. */
  announce(spark: S, done: (err?: Error) => void): void;
  /** Forget an ended spark (it was announced). */
  sparkEnded(spark: S): void;
}

/** Bytes as UTF-8 text, for transformers that carry text only. */
export function utf8Text(payload: Buffer | Uint8Array | ArrayBuffer): string {
  if (payload instanceof ArrayBuffer) return Buffer.from(payload).toString('utf8');
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
}

/**
 * A heartbeat value from the connect query, in whole ms within [MIN_HEARTBEAT, MAX_HEARTBEAT]:
 * too small or too large (`Infinity` included) is clamped, non-numeric or non-positive is the
 * fallback. A repeated parameter arrives as an array; the last one wins, as in the client's
 * query parser.
 */
function learn(value: unknown, fallback: number): number {
  const single = Array.isArray(value) ? value[value.length - 1] : value;
  // parseFloat, not parseInt: '1e12' must clamp to the maximum rather than read as 1.
  const parsed = typeof single === 'number' ? single : Number.parseFloat(String(single));
  if (Number.isNaN(parsed) || parsed <= 0) return fallback;
  return Math.floor(Math.min(Math.max(parsed, MIN_HEARTBEAT), MAX_HEARTBEAT));
}

/**
 * One client connection on the server. A Spark is a Node stream (`spark.pipe(dest)` works) and
 * speaks the happn-primus protocol: the client pings, the spark pongs, and a spark that hears no
 * ping for `ping + pong/2` ms, `allowSkippedHeartBeats + 1` times in a row, is ended so the client
 * reconnects.
 *
 * This is the spark's behaviour, written against `SparkHost`; applications meet it as `Spark`,
 * which knows its server as `Primus`.
 */
export class SparkBase extends Stream {
  static readonly OPENING = OPENING;
  static readonly CLOSED = CLOSED;
  static readonly OPEN = OPEN;

  /** Unique id (a random UUID, or the framework's session id). */
  id: string;
  /** @internal The server this spark belongs to; `Spark` shows it as `Primus`. */
  readonly primus: SparkHost<this>;
  /** The request headers of the connection. */
  headers: IncomingHttpHeaders;
  /**
   * The HTTP request that opened the connection, when the transformer has one: the
   * `IncomingMessage` while the `connection` listeners run, then (with the default `keepRequest:
   * true`) its retained form, which keeps what programs read after the handshake (see
   * `RetainedRequest`).
   */
  request: IncomingMessage | RetainedRequest | undefined;
  /** The connect query, with `ping` and `pong` as numbers. */
  query: SparkQuery;
  writable = true;
  readable = true;
  /** @internal Data received before the `connection` listeners finished; null once delivered. */
  queue: [data: unknown, raw: unknown][] | null = [];
  /** @internal The transformer's handle on the connection. */
  socket: ConnectionSocket | null = null;
  /** Why the spark ended (see `SparkEndReason`); set before `disconnection` and `end`, undefined while open. */
  endReason: SparkEndReason | undefined = undefined;
  /** @internal The spark's place in the server's heartbeat lists (see heartbeat-timers.ts). */
  hbPrev: HeartbeatEntry | null = null;
  /** @internal */
  hbNext: HeartbeatEntry | null = null;
  /** @internal */
  hbDeadline = 0;
  /** @internal */
  hbList: HeartbeatEntry['hbList'] = null;

  /** @internal The recovery session (docs/recovery.md), or null when the client did not announce recovery. */
  session: SparkSession | null = null;

  /** @internal The direct peer as the transformer reported it. */
  protected remote: RemoteLike;
  /** @internal */
  private state = OPEN;
  /** @internal */
  private cachedAddress: Address | undefined;
  /** @internal */
  private heartbeatMs = 0;
  /** @internal */
  private skipped = 0;
  /** @internal */
  private lastPong = 0;
  /** @internal */
  private lastReply = 0;
  /** @internal */
  private announced = false;
  /** @internal */
  private needDrain = false;

  /** A spark of `host`; servers make them through `primus.Spark`. */
  constructor(primus: SparkHost<any>, headers?: IncomingHttpHeaders, address?: RemoteLike, query?: string | Record<string, unknown>, id?: string, request?: IncomingMessage) {
    super();
    compactListeners(this);
    this.primus = primus;
    this.headers = headers ?? {};
    this.remote = address ?? {};
    this.id = id ?? randomUUID();
    this.request = request;
    const parsed: Record<string, unknown> = typeof query === 'string' ? { ...parseQuerystring(query.charAt(0) === '?' ? query.slice(1) : query) } : { ...query };
    this.query = parsed as SparkQuery;

    if (parsed.ping === 'false' || parsed.ping === false) {
      parsed.ping = 'false';
      parsed.pong = parsed.pong === undefined || parsed.pong === '' ? String(DEFAULT_PONG) : parsed.pong;
    } else {
      parsed.ping = learn(parsed.ping, DEFAULT_PING);
      parsed.pong = learn(parsed.pong, DEFAULT_PONG);
      this.heartbeatMs = (parsed.ping as number) + (parsed.pong as number) / 2;
      this.heartbeat();
    }

    for (const hook of this.hooks) hook.call(this);
    process.nextTick(announce, this);
  }

  /** @internal The hooks that run on construction; see `initialise`. */
  private get hooks(): readonly Hook[] {
    // A plain lookup, so reading `primus.Spark.prototype.initialise` sees that prototype's own hooks.
    return (this as unknown as { __initialise?: Hook[] }).__initialise ?? [];
  }

  /**
   * Construction hooks: assigning a function to `Spark.prototype.initialise` (or to
   * `primus.Spark.prototype.initialise`, for one server) adds a hook; reading it gives the last.
   */
  get initialise(): ((this: this) => void) | undefined {
    const hooks = this.hooks;
    return hooks[hooks.length - 1] as ((this: this) => void) | undefined;
  }

  set initialise(hook: (this: this) => void) {
    if (typeof hook !== 'function') throw invalidValue('Spark.prototype.initialise', 'a function', hook);
    if (!Object.prototype.hasOwnProperty.call(this, '__initialise')) {
      Object.defineProperty(this, '__initialise', { value: [...this.hooks], writable: true, configurable: true });
    }
    (this as unknown as { __initialise: Hook[] }).__initialise.push(hook as Hook);
  }

  /**
   * When the heartbeat next expires, as a `performance.now()` time, or null when none is running
   * (the client asked for no heartbeat, or the spark ended).
   */
  get timeout(): number | null {
    return this.hbList ? this.hbDeadline : null;
  }

  /** `Spark.OPEN`, `Spark.CLOSED` or `Spark.OPENING`; setting a new value emits `readyStateChange`. */
  get readyState(): number {
    return this.state;
  }

  set readyState(state: number) {
    if (state === this.state) return;
    this.state = state;
    this.emit('readyStateChange');
  }

  /** The client's address and port, from proxy headers when present (see the `trustedProxies` option). */
  get address(): Address {
    if (this.cachedAddress) return this.cachedAddress;
    const fromMiddleware = (this.request as { forwarded?: Address } | undefined)?.forwarded;
    this.cachedAddress = fromMiddleware ?? forwarded(this.remote, this.headers, this.primus?.trustProxy);
    return this.cachedAddress;
  }

  /** Whether `evt` is used by Primus itself. */
  reserved(evt: string): boolean {
    return evt.startsWith('incoming::') || evt.startsWith('outgoing::') || evt === 'readyStateChange' || evt === 'heartbeat' || evt === 'error' || evt === 'data' || evt === 'end';
  }

  /** A function that emits `event` on this spark with its arguments (optionally parsed). */
  emits(event: string, parser?: (...args: unknown[]) => unknown): (...args: unknown[]) => boolean {
    return emits(this, event, parser);
  }

  /**
   * Send data to the client, through the outgoing message transformers and the parser. Returns
   * false when the spark is closed, or when the connection has more than `highWaterMark` bytes
   * queued toward a slow client: the data is still sent, and `drain` says when to write again.
   */
  write(data: unknown): boolean {
    if (this.state === CLOSED) return false;
    transmit(this, side, this.primus.transformers.outgoing, data, this._write);
    return !this.needDrain;
  }

  /** Encode and send without the message transformers (control messages use this). */
  _write(data: unknown): boolean {
    if (this.state === CLOSED) return false;
    const payload = encode<SparkBase, string | Buffer | Uint8Array>(this, side, data);
    if (payload === undefined) return false;
    // With recovery, data is numbered and recorded; control messages are not.
    if (this.session !== null && isControl(data)) return this.sendNow(payload);
    return this.sendEncoded(payload);
  }

  /** @internal Encode a control message for the wire. */
  encodeControl(message: string): string | Buffer | Uint8Array {
    return encode<SparkBase, string | Buffer | Uint8Array>(this, side, message)!;
  }

  /**
   * Send an already encoded and escaped payload; broadcasts use this to encode once. Returns false
   * when the spark is closed or its connection is above the high-water mark. `frame` (internal) is
   * the transformer's wire form of a broadcast payload, built once for every spark.
   */
  sendEncoded(payload: string | Buffer | Uint8Array, frame?: unknown): boolean {
    if (this.state === CLOSED) return false;
    if (this.session !== null) return this.session.send(payload, frame) && !this.needDrain;
    return this.sendNow(payload, frame);
  }

  /** @internal Put an encoded payload (or the transformer's `frame` of it) on the connection, as is. */
  sendNow(payload: string | Buffer | Uint8Array, frame?: unknown): boolean {
    this.emit('outgoing::data', payload);
    const socket = this.socket;
    if (!socket) return true;
    let accepted: boolean | void;
    if (frame !== undefined && socket.sendFrame) accepted = socket.sendFrame(frame, payload);
    else {
      if (typeof payload !== 'string' && this.primus.transformer.textOnly) payload = utf8Text(payload);
      accepted = socket.send(payload);
    }
    if (!this.needDrain && (accepted === false || (socket.bufferedAmount ?? 0) > this.primus.options.highWaterMark)) {
      this.needDrain = true;
      this.emit('backpressure');
    }
    return !this.needDrain;
  }

  /**
   * End the connection. `data` is written first. Without `{ reconnect: true }` the client is told
   * (`primus::server::close`) and will not reconnect.
   */
  end(data?: unknown, options?: SparkEndOptions): this {
    if (this.state === CLOSED) return this;
    // The first reason wins: writing the close notice can fail and report an error on the way out.
    this.endReason ??= 'server';
    if (data !== undefined) this.write(data);
    if (!options?.reconnect) this._write('primus::server::close');
    if (this.state === CLOSED) return this;
    this.readyState = CLOSED;
    this.writable = this.readable = false;
    this.primus.heartbeats.cancel(this);
    if (this.session !== null) this.session.ended(!!options?.reconnect);
    this.emit('outgoing::end');
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    if (this.announced) this.primus.sparkEnded(this);
    this.emit('end');
    this.queue = null;
    return this;
  }

  /** Reset the heartbeat: clear the skip count and wait `ping + pong/2` for the next ping. */
  heartbeat(): this {
    // A client that asked for no heartbeat keeps none, whatever arrives (happn-primus computed a
    // near-zero timeout here and dropped the spark).
    if (this.heartbeatMs === 0 || this.state === CLOSED) return this;
    this.skipped = 0;
    this.primus.heartbeats.schedule(this, this.heartbeatMs);
    this.emit('heartbeat');
    return this;
  }

  /**
   * Send a pong. Replies to a ping (`reply`) are sent unless another reply went out within
   * `pongSkipTime`: pings that queued up behind a large upload get one answer. Unsolicited pongs
   * are skipped when any pong went out within `pongSkipTime`.
   */
  sendPong(time?: number, reply = false): this {
    const now = Date.now();
    const skip = this.primus.options.pongSkipTime;
    if (reply) {
      if (now - this.lastReply < skip) return this;
      this.lastReply = now;
    } else if (now - this.lastPong < skip) {
      return this;
    }
    this.lastPong = now;
    const value = time || now;
    this.emit('outgoing::pong', value);
    this._write(control('pong', value));
    return this;
  }

  /** @internal The heartbeat timer fired: tolerate a skip, or end the spark. */
  onHeartbeatExpired(): void {
    const primus = this.primus;
    this.skipped += 1;
    if (this.skipped <= primus.options.allowSkippedHeartBeats) {
      primus.emit('heartbeat-skipped', this.skipped, this);
      this.sendPong();
      if (this.state !== CLOSED) primus.heartbeats.schedule(this, this.heartbeatMs);
      return;
    }
    const skipped = this.skipped;
    if (this.session !== null && this.suspend('heartbeat')) {
      primus.emit('flatline', skipped, this);
      return;
    }
    this.endReason ??= 'heartbeat';
    this.end(undefined, { reconnect: true });
    primus.emit('flatline', skipped, this);
  }

  // The transformer's side, reached through the connection's sink (connection.ts).

  /** @internal A message arrived from the client. */
  incomingData(raw: unknown): void {
    if (this.state === CLOSED) return;
    if (this.session !== null && this.session.held !== null) {
      // The store is still looking for the session this client presented.
      this.session.held.push(raw);
      return;
    }
    this.emit('incoming::data', raw);
    receive(this, this.session === null ? side : recoverySide, this.primus.transformers.incoming, raw);
  }

  /**
   * @internal The connection's buffer emptied: after a `write()` that returned false, emit `drain`
   * once the buffer is back under the high-water mark.
   */
  incomingDrain(): void {
    if (!this.needDrain || this.state === CLOSED) return;
    if ((this.socket?.bufferedAmount ?? 0) > this.primus.options.highWaterMark) return;
    this.needDrain = false;
    this.emit('drain');
  }

  /** @internal A transport-level ping (a WebSocket ping frame) arrived: it resets the heartbeat, no pong. */
  incomingPing(): void {
    if (this.state === CLOSED) return;
    this.emit('incoming::ping');
    this.heartbeat();
  }

  /** @internal The transport failed; the spark ends and tells the client not to reconnect. */
  incomingError(err: unknown): void {
    if (this.state === CLOSED) return;
    this.emit('incoming::error', err);
    const error = connectionError(err);
    this.report(error);
    if (this.session !== null && this.suspend('error')) return;
    this.endReason ??= 'error';
    this.end();
  }

  /** @internal The transport closed; the client may reconnect. */
  incomingEnd(): void {
    if (this.state === CLOSED) return;
    this.emit('incoming::end');
    if (this.session !== null && this.suspend('client')) return;
    this.endReason ??= 'client';
    this.end(undefined, { reconnect: true });
  }

  /**
   * @internal The connection was lost but the spark has a recovery session: keep the spark for the
   * window (writes are recorded), and say so with `suspended`. False when it cannot be kept.
   */
  private suspend(reason: SparkEndReason): boolean {
    if (!this.session!.suspend()) return false;
    this.primus.heartbeats.cancel(this);
    this.session!.suspendedFor = reason;
    this.emit('suspended', reason);
    this.primus.emit('suspended', this, reason);
    return true;
  }

  /** @internal The client came back within the window on a new connection. */
  resumed(): void {
    this.session!.suspendedFor = undefined;
    this.skipped = 0;
    this.session!.reopened();
    this.heartbeat();
    // A writer that waits for `drain` after back-pressure on the lost connection: the new one is empty.
    if (this.needDrain) {
      this.needDrain = false;
      this.emit('drain');
    }
  }

  /** True while the client is away and the spark waits for it to come back (recovery). */
  get suspended(): boolean {
    return this.session !== null && this.session.suspended;
  }

  /** @internal Handle a control message. Unknown types are ignored, as the protocol says. */
  protocol(type: string, value: string, message: string): void {
    if (type === 'ping') {
      const time = +value;
      this.emit('incoming::ping', time);
      if (this.session !== null) this.session.ackIfChanged();
      this.sendPong(time, true);
      this.heartbeat();
    } else if (type === 'id') {
      this._write(control('id', this.id));
    } else if (type === 'ack' && this.session !== null) {
      this.session.acknowledged(value);
    } else if (type === 'recovery' && value === 'end' && this.session !== null) {
      // The client ends on purpose: its connection's end is the spark's.
      this.session.finished = true;
    } else {
      this.primus.emit('log', 'debug', `ignored an unknown control message "${message.slice(0, 64)}"`, this);
    }
  }

  /** @internal */
  deliver(data: unknown, raw: unknown): void {
    if (this.queue) this.queue.push([data, raw]);
    else if (this.state !== CLOSED) this.emit('data', data, raw);
  }

  /** @internal Emit `error` when someone listens, and always `log` on the server; never throws. */
  report(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    this.primus.emit('log', 'error', err, this);
  }

  /** @internal Announce the spark once its `connection` listeners have run. */
  announce(): void {
    if (this.state === CLOSED) return;
    this.announced = true;
    this.primus.announce(this, (err) => {
      if (err) {
        this.incomingError(err);
        return;
      }
      const keep = this.primus.options.keepRequest;
      if (keep !== 'full' && this.request instanceof IncomingMessage) {
        // Settle the address first: the middleware's proxy-aware answer lives on the request.
        void this.address;
        this.request = keep ? retainRequest(this.request, this, this.remote) : undefined;
      }
      const queue = this.queue;
      this.queue = null;
      if (!queue) return;
      for (const [data, raw] of queue) {
        if (this.state === CLOSED) break;
        this.emit('data', data, raw);
      }
    });
  }
}

/** A spark as the protocol kernel sees it. */
const side: Side<SparkBase> = {
  _decode(raw) {
    return this.primus.decode(raw, this);
  },
  _encode(data) {
    const payload = this.primus.encode(data, this);
    if (!payload) this.primus.emit('log', 'debug', 'dropped a write that encoded to nothing', this);
    return payload;
  },
  _control(type, value, message) {
    this.protocol(type, value, message);
  },
  _deliver(data, raw) {
    this.deliver(data, raw);
  },
  _fail(error) {
    this.report(error);
  },
};

/** A spark with a recovery session: data messages are counted, and resent duplicates dropped. */
const recoverySide: Side<SparkBase> = {
  ...side,
  _accept() {
    return this.session!.accept();
  },
};

function announce(spark: SparkBase): void {
  spark.announce();
}

Object.defineProperty(SparkBase.prototype, '__initialise', { value: [] as Hook[], writable: true, configurable: true });

/**
 * Typed event methods for sparks: the names of `SparkEventMap` only, each with its listener.
 * (Node's `Stream` methods accept any name; these replace them on a spark.)
 */
export interface SparkBase {
  on<E extends keyof SparkEventMap>(event: E, listener: SparkEventMap[E]): this;
  addListener<E extends keyof SparkEventMap>(event: E, listener: SparkEventMap[E]): this;
  once<E extends keyof SparkEventMap>(event: E, listener: SparkEventMap[E]): this;
  prependListener<E extends keyof SparkEventMap>(event: E, listener: SparkEventMap[E]): this;
  prependOnceListener<E extends keyof SparkEventMap>(event: E, listener: SparkEventMap[E]): this;
  off<E extends keyof SparkEventMap>(event: E, listener: SparkEventMap[E]): this;
  removeListener<E extends keyof SparkEventMap>(event: E, listener: SparkEventMap[E]): this;
  removeAllListeners(event?: keyof SparkEventMap): this;
  listeners<E extends keyof SparkEventMap>(event: E): SparkEventMap[E][];
  listenerCount<E extends keyof SparkEventMap>(event: E, listener?: SparkEventMap[E]): number;
  emit<E extends keyof SparkEventMap>(event: E, ...args: Parameters<SparkEventMap[E]>): boolean;
}
