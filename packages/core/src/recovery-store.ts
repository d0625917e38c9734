import { parseDuration } from '@primus/protocol';
import { invalidOption } from './errors';

/**
 * Connection-state recovery: the option, and the store that keeps what a client has not yet
 * acknowledged. docs/recovery.md explains the mechanism; docs/protocol.md the wire extension.
 */

/** One data message as it went on the wire: encoded by the parser and escaped. */
export type RecoveryPayload = string | Uint8Array;

/** The bounds of one session, from the `recovery` option. */
export interface RecoveryLimits {
  /** How long a session outlives its connection, in ms. */
  readonly window: number;
  /** Unacknowledged messages kept per session; older ones are dropped first. */
  readonly maxMessages: number;
  /** Bytes of unacknowledged messages kept per session (a text message counts its length). */
  readonly maxBytes: number;
}

/**
 * What a store knows of a session that a client asks to resume on a server that holds no spark
 * for it (another process, or this one after a restart with a shared store).
 */
export interface RecoveredSession {
  /** How many data messages the server delivered from the client. */
  readonly received: number;
  /** How many data messages the server sent to the client (the sequence number of the last one). */
  readonly sent: number;
  /** The messages numbered `after + 1` to `sent`, in order, exactly as they went on the wire. */
  readonly messages: readonly RecoveryPayload[];
  /** The session's record, which this server now appends to. */
  readonly record: RecoveryRecord;
}

/**
 * One session's log in a store, made by `RecoveryStore.create()` or handed back by `resume()`.
 * The core calls these methods in order and synchronously, from the spark's own code paths; each
 * must return quickly and must not throw. A method may return a promise (a remote store
 * writing in the background): the core does not wait for it and reports a rejection through the
 * server's `log` event.
 */
export interface RecoveryRecord {
  /**
   * A data message numbered `seq` was sent to the client, or was written while the client was
   * away. Numbers start at 1 and have no gaps. The record keeps the payload until `ack()` covers
   * it; beyond `maxMessages` or `maxBytes` it drops its oldest messages, which makes `replay()`
   * of an earlier point fail.
   */
  append(seq: number, payload: RecoveryPayload): void | Promise<unknown>;
  /** The client has received every message up to `seq`: the record may free them. */
  ack(seq: number): void | Promise<unknown>;
  /**
   * Optional: the server has delivered `count` data messages from the client. Called for every
   * message when present, so a store that outlives the process can tell a resumed client which
   * ones to send again; a store that lives with its sparks leaves it out.
   */
  received?(count: number): void | Promise<unknown>;
  /** The connection dropped: keep the session for `window` ms from now. */
  detach(): void | Promise<unknown>;
  /** The client came back (to the spark that still held the session). */
  attach(): void | Promise<unknown>;
  /**
   * The messages numbered `after + 1` onward, in order, synchronously; `undefined` when any of
   * them was dropped (overflow), so the session cannot be resumed from `after`.
   */
  replay(after: number): RecoveryPayload[] | undefined;
  /** The session is over (window passed, the spark ended for good): free everything. */
  drop(): void | Promise<unknown>;
}

/**
 * Where recovery keeps each session's unacknowledged messages. The default,
 * `MemoryRecoveryStore`, keeps them in the spark's own process; `@primus/redis` provides one that
 * other server processes can resume from.
 *
 * Guarantees a store must give:
 * - `create()` is synchronous and never throws; the record it returns follows `RecoveryRecord`.
 * - `resume()` answers `undefined` ("not recoverable") when the session is unknown, expired
 *   (older than `window` since its last connection dropped), or no longer holds every message
 *   after `after` (it overflowed). It must never answer with a log that has gaps: the core
 *   replays `messages` as they are. It may be asynchronous; a rejection counts as `undefined`
 *   and is reported through the server's `log` event.
 * - A session is resumed at most once: after `resume()` answered it, the store hands it to no
 *   other caller.
 */
export interface RecoveryStore {
  /** Start the log of a new session `id`. */
  create(id: string, limits: RecoveryLimits): RecoveryRecord;
  /**
   * A client presents session `id`, having received `after` messages, to a server that holds no
   * spark for it. Answer the session, or `undefined` when it cannot be recovered.
   */
  resume(id: string, after: number, limits: RecoveryLimits): RecoveredSession | undefined | Promise<RecoveredSession | undefined>;
  /** Release connections and timers; called once by `primus.destroy()`. */
  close?(): void | Promise<unknown>;
}

/** The `recovery` option in its object form. */
export interface RecoveryOptions {
  /** How long a session outlives its connection: ms, or a duration string such as `'2 minutes'`. @default 120000 */
  window?: number | string;
  /** Unacknowledged messages kept per spark. @default 10000 */
  maxMessages?: number;
  /** Bytes of unacknowledged messages kept per spark (text counts its length). @default 8388608 */
  maxBytes?: number;
  /** Where sessions are kept. @default a `MemoryRecoveryStore` */
  store?: RecoveryStore;
}

/** The `recovery` option resolved: every field set. */
export interface ResolvedRecovery extends RecoveryLimits {
  readonly store: RecoveryStore;
  /** The client acknowledges after this many messages (and with every heartbeat). */
  readonly ackEvery: number;
}

/** Defaults of the `recovery` option's fields. */
export const RECOVERY_DEFAULTS = Object.freeze({ window: 120_000, maxMessages: 10_000, maxBytes: 8 * 1024 * 1024 });

/** Acknowledge at least this often, in messages, whatever `maxMessages` is. */
const ACK_EVERY_MAX = 256;

/** Check and complete the `recovery` option; false or undefined turns recovery off. Bad values throw naming the option. */
export function resolveRecovery(value: unknown): ResolvedRecovery | false {
  if (value === undefined || value === false || value === null) return false;
  if (value !== true && (typeof value !== 'object' || Array.isArray(value))) {
    throw invalidOption('recovery', 'true, false or an object { window, maxMessages, maxBytes, store }', value);
  }
  const given = (value === true ? {} : value) as RecoveryOptions;
  const window = given.window === undefined ? RECOVERY_DEFAULTS.window : parseDuration(given.window);
  if (!(typeof window === 'number' && window > 0 && Number.isFinite(window))) {
    throw invalidOption('recovery.window', 'a positive number of ms or a duration string', given.window);
  }
  const maxMessages = given.maxMessages ?? RECOVERY_DEFAULTS.maxMessages;
  if (!(Number.isInteger(maxMessages) && maxMessages > 0)) throw invalidOption('recovery.maxMessages', 'a positive integer', given.maxMessages);
  const maxBytes = given.maxBytes ?? RECOVERY_DEFAULTS.maxBytes;
  if (!(Number.isInteger(maxBytes) && maxBytes > 0)) throw invalidOption('recovery.maxBytes', 'a positive integer number of bytes', given.maxBytes);
  const store = given.store ?? new MemoryRecoveryStore();
  if (typeof store !== 'object' || store === null || typeof store.create !== 'function' || typeof store.resume !== 'function') {
    throw invalidOption('recovery.store', 'an object with create() and resume() (a RecoveryStore)', store);
  }
  for (const key of Object.keys(given)) {
    if (!['window', 'maxMessages', 'maxBytes', 'store'].includes(key)) {
      throw invalidOption(`recovery.${key}`, 'absent: recovery takes window, maxMessages, maxBytes and store', (given as Record<string, unknown>)[key]);
    }
  }
  const ackEvery = Math.max(1, Math.min(ACK_EVERY_MAX, Math.floor(maxMessages / 4)));
  return Object.freeze({ window, maxMessages, maxBytes, store, ackEvery });
}

/** The size a payload counts for against `maxBytes`. */
export function payloadSize(payload: RecoveryPayload): number {
  return typeof payload === 'string' ? payload.length : payload.byteLength;
}

/**
 * A session's log in memory: the unacknowledged messages in order, the oldest dropped past the
 * limits. It lives as long as its spark does.
 */
export class MemoryRecoveryRecord implements RecoveryRecord {
  /** Sequence number of `messages[head]`. */
  private first = 1;
  private head = 0;
  /** Null while empty: an idle session holds no array. */
  private messages: RecoveryPayload[] | null = null;
  private bytes = 0;

  constructor(private readonly limits: RecoveryLimits) {}

  /** Messages held, not yet acknowledged. */
  get size(): number {
    return this.messages === null ? 0 : this.messages.length - this.head;
  }

  /** Bytes held, not yet acknowledged. */
  get byteSize(): number {
    return this.bytes;
  }

  append(seq: number, payload: RecoveryPayload): void {
    let messages = this.messages;
    if (messages === null) {
      messages = this.messages = [];
      this.first = seq;
    }
    messages.push(payload);
    this.bytes += typeof payload === 'string' ? payload.length : payload.byteLength;
    if (messages.length - this.head > this.limits.maxMessages || this.bytes > this.limits.maxBytes) {
      while (this.size > this.limits.maxMessages || (this.bytes > this.limits.maxBytes && this.size > 1)) this.shift();
      this.compact();
    }
  }

  ack(seq: number): void {
    while (this.size > 0 && this.first <= seq) this.shift();
    this.compact();
  }

  detach(): void {}

  attach(): void {}

  replay(after: number): RecoveryPayload[] | undefined {
    if (this.messages === null || this.size === 0) return [];
    if (after + 1 < this.first) return undefined;
    return this.messages.slice(this.head + (after + 1 - this.first));
  }

  drop(): void {
    this.messages = null;
    this.head = 0;
    this.bytes = 0;
  }

  private shift(): void {
    const messages = this.messages!;
    const payload = messages[this.head]!;
    messages[this.head++] = undefined as unknown as RecoveryPayload;
    this.bytes -= payloadSize(payload);
    this.first++;
  }

  /** Give back the array's dead head once it is most of the array. */
  private compact(): void {
    const messages = this.messages;
    if (messages === null) return;
    if (this.head === messages.length) {
      this.messages = null;
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > messages.length) {
      this.messages = messages.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * The default store: each session's log in the memory of the server that made it. A session is
 * recovered by the spark that still holds it, so `resume()` — asked only when no spark does —
 * always answers "not recoverable": a restarted server, or another process, starts afresh.
 */
export class MemoryRecoveryStore implements RecoveryStore {
  create(_id: string, limits: RecoveryLimits): MemoryRecoveryRecord {
    return new MemoryRecoveryRecord(limits);
  }

  resume(): undefined {
    return undefined;
  }
}
