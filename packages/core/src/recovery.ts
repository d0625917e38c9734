import type { ConnectionSink, ConnectionSocket } from './contract';
import type { RecoveredSession, RecoveryPayload, RecoveryRecord, ResolvedRecovery } from './recovery-store';
import { CLOSED, OPEN, OPENING, utf8Text, type SparkBase, type SparkEndReason } from './spark';

/**
 * The server's half of connection-state recovery (docs/recovery.md, wire format in
 * docs/protocol.md section 9): a spark's session, which outlives its connection for the window.
 */

/** The connect-query parameter a client announces recovery with. */
export const RECOVERY_PARAM = '_primusrecovery';

/** Why a session a client presented could not be resumed (the wire's status words). */
export type RecoveryFailure = 'unknown' | 'overflow';

/** A client's announcement, from its connect query. */
export interface RecoveryRequest {
  /** The session to resume, or undefined for a new one. */
  id?: string;
  /** Data messages the client received in that session. */
  received: number;
  /** Its data messages the server acknowledged. */
  acked: number;
}

/**
 * Read the announcement from a connect query (and take it out of the query): undefined when the
 * client did not announce, or announced a version this server does not speak.
 */
export function takeRecoveryRequest(query: Record<string, unknown>): RecoveryRequest | undefined {
  const raw = query[RECOVERY_PARAM];
  if (raw === undefined) return undefined;
  delete query[RECOVERY_PARAM];
  const value = String(Array.isArray(raw) ? raw[raw.length - 1] : raw);
  if (value === '1') return { received: 0, acked: 0 };
  const match = /^1\.(\d{1,15})\.(\d{1,15})\.(.+)$/s.exec(value);
  if (!match) return value.startsWith('1') ? { received: 0, acked: 0 } : undefined;
  return { id: match[3], received: Number(match[1]), acked: Number(match[2]) };
}

/** What a session needs from the spark's server. */
export interface SessionHost {
  readonly recovery: ResolvedRecovery;
  /** The server's `log` event. */
  log(level: string, ...args: unknown[]): void;
  /** A spark's session resumed (`recovered`), failed to (`unknown`/`overflow`) or expired. */
  outcome(spark: SparkBase, outcome: 'recovered' | RecoveryFailure | 'expired'): void;
}

/**
 * The sink of a connection that carries a session: a spark's connection can be replaced by the
 * client's next one, and the replaced connection's late reports must not reach the spark.
 */
export class SessionSink implements ConnectionSink {
  /** False once the spark moved on to another connection, or lost this one. */
  live = true;

  constructor(
    private readonly spark: SparkBase,
    private readonly textOnly: boolean,
  ) {}

  get id(): string {
    return this.spark.id;
  }

  data(raw: unknown): void {
    if (!this.live) return;
    this.spark.incomingData(this.textOnly && (raw instanceof Uint8Array || raw instanceof ArrayBuffer) ? utf8Text(raw) : raw);
  }

  ping(): void {
    if (this.live) this.spark.incomingPing();
  }

  drain(): void {
    if (this.live) this.spark.incomingDrain();
  }

  error(err: unknown): void {
    if (this.live) this.spark.incomingError(err);
  }

  end(): void {
    if (this.live) this.spark.incomingEnd();
  }
}

/** Report a store promise's rejection instead of leaving it unhandled. */
function settle(host: SessionHost, result: unknown): void {
  if (result && typeof (result as Promise<unknown>).then === 'function') {
    (result as Promise<unknown>).then(undefined, (err: unknown) => host.log('error', err));
  }
}

/**
 * One spark's session: what it sent and has not seen acknowledged (in the store's record), what it
 * received, and the connection it is attached to. While the client is away the spark is kept,
 * writes are recorded, and the window runs.
 */
export class SparkSession {
  /** Data messages sent (or recorded while away); the number of the last one. */
  sent = 0;
  /** Data messages the client acknowledged. */
  acked = 0;
  /** Data messages delivered from the client. */
  received = 0;
  /** `received` as last acknowledged to the client. */
  ackedReceived = 0;
  /** Incoming data messages still to drop: the client sent them again, but they had arrived. */
  duplicates = 0;
  /** The connection's sink, or null while away. */
  sink: SessionSink | null = null;
  /** Whether the answer has gone out on the current connection; until then sends are only recorded. */
  answered = false;
  /** The client's request, until the store has answered it (a resume from another server). */
  pending: RecoveryRequest | null = null;
  /** Raw messages that arrived while `pending`. */
  held: unknown[] | null = null;
  /** Why the connection was lost while suspended; the spark's `endReason` if the window passes. */
  suspendedFor: SparkEndReason | undefined = undefined;
  /** The client said it ends on purpose (`primus::recovery::end`): the spark ends with the connection. */
  finished = false;
  /** How the current connection started: `new`, `ok` or a failure. */
  status: 'new' | 'ok' | RecoveryFailure = 'new';
  /** The client's `received` when it (re)connected: replay starts after it. */
  private replayFrom = 0;
  private windowTimer: NodeJS.Timeout | null = null;
  /** Set while the window's expiry ends the spark, so the session is dropped rather than kept. */
  private expiring = false;

  constructor(
    private readonly spark: SparkBase,
    private readonly host: SessionHost,
    public record: RecoveryRecord,
  ) {}

  /** Whether the client is away and the spark waits for it. */
  get suspended(): boolean {
    return this.windowTimer !== null;
  }

  /** A data message for the client: record it, and send it when connected. */
  send(payload: string | Buffer | Uint8Array, frame?: unknown): boolean {
    const result = this.record.append(++this.sent, payload);
    if (result !== undefined) settle(this.host, result);
    if (this.sink === null || !this.answered) return true;
    return this.spark.sendNow(payload, frame);
  }

  /**
   * A data message from the client: false when it is a duplicate to drop. Acknowledge every
   * `ackEvery` messages.
   */
  accept(): boolean {
    if (this.duplicates > 0) {
      this.duplicates--;
      return false;
    }
    const count = ++this.received;
    if (this.record.received !== undefined) settle(this.host, this.record.received(count));
    if (count - this.ackedReceived >= this.host.recovery.ackEvery) this.sendAck();
    return true;
  }

  /** Acknowledge what arrived, if anything did since the last acknowledgement (before a pong). */
  ackIfChanged(): void {
    if (this.received !== this.ackedReceived) this.sendAck();
  }

  /** The client acknowledged `n` messages. */
  acknowledged(value: string): void {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= this.acked || n > this.sent) return;
    this.acked = n;
    settle(this.host, this.record.ack(n));
  }

  /** Attach a connection: start a session's first one, or take over from the previous one. */
  attach(sink: SessionSink, socket: ConnectionSocket): void {
    if (this.sink) {
      // The client came back before the server noticed it had gone: retire the old connection.
      this.sink.live = false;
      this.spark.socket?.close();
    }
    this.stopWindow();
    this.sink = sink;
    this.answered = false;
    this.spark.socket = socket;
  }

  /**
   * Resume on this spark for a client that presents `request`: false when it cannot (the counts
   * do not fit, or messages it did not receive were dropped).
   */
  resumable(request: RecoveryRequest): RecoveryFailure | undefined {
    if (request.received > this.sent || request.received < this.acked || request.acked > this.received) return 'unknown';
    if (this.record.replay(request.received) === undefined) return 'overflow';
    return undefined;
  }

  /** Take the client's counts for this connection (after `resumable()` agreed). */
  resume(request: RecoveryRequest): void {
    this.status = 'ok';
    this.duplicates = this.received - request.acked;
    this.replayFrom = request.received;
    if (request.received > this.acked) this.acknowledged(String(request.received));
    settle(this.host, this.record.attach());
  }

  /** Continue a session another server held, as the store handed it over. */
  adopt(request: RecoveryRequest, session: RecoveredSession): void {
    this.record = session.record;
    this.sent = session.sent;
    this.acked = request.received;
    this.received = this.ackedReceived = session.received;
    this.duplicates = Math.max(0, session.received - request.acked);
    this.replayFrom = request.received;
    this.status = 'ok';
    this.adopted = session.messages;
  }

  /** Messages a store handed over with the session, replayed instead of the record's. */
  private adopted: readonly RecoveryPayload[] | null = null;

  /**
   * Send the answer, then everything the client has not received, in order. From here on sends
   * go out as they are written.
   */
  answer(): void {
    if (this.sink === null || this.answered || this.spark.readyState === CLOSED) return;
    this.answered = true;
    const { ackEvery } = this.host.recovery;
    this.spark.sendNow(this.spark.encodeControl(`primus::recovery::${this.status}.${ackEvery}.${this.received}.${this.spark.id}`));
    this.ackedReceived = this.received;
    const missed = this.adopted ?? this.record.replay(this.replayFrom) ?? [];
    this.adopted = null;
    for (const payload of missed) this.spark.sendNow(payload);
  }

  /**
   * The connection was lost (the client's transport ended, failed, or went silent): keep the spark
   * for the window. False when the spark should end instead.
   */
  suspend(): boolean {
    if (this.sink === null || this.spark.readyState === CLOSED || this.finished) return false;
    this.sink.live = false;
    this.sink = null;
    this.answered = false;
    const socket = this.spark.socket;
    this.spark.socket = null;
    socket?.close();
    this.spark.readyState = OPENING;
    settle(this.host, this.record.detach());
    this.windowTimer = setTimeout(() => this.expire(), this.host.recovery.window);
    this.windowTimer.unref?.();
    return true;
  }

  /** The client is back on a new connection: the spark is open again. */
  reopened(): void {
    this.spark.readyState = OPEN;
  }

  /** The window passed without the client: end the spark for good. */
  private expire(): void {
    this.windowTimer = null;
    this.host.outcome(this.spark, 'expired');
    this.abandon();
  }

  /** End the spark for good, dropping the session (the window passed, or its client cannot resume it). */
  abandon(): void {
    this.expiring = true;
    this.spark.endReason ??= this.suspendedFor ?? 'client';
    this.spark.end(undefined, { reconnect: true });
  }

  /**
   * The spark ended. `keep`: the client will come back to another server (the server shut down
   * for a restart), so a shared store keeps the session for its window; otherwise it is dropped.
   */
  ended(keep: boolean): void {
    this.stopWindow();
    if (this.sink) this.sink.live = false;
    this.sink = null;
    settle(this.host, keep && !this.expiring ? this.record.detach() : this.record.drop());
  }

  private stopWindow(): void {
    if (this.windowTimer === null) return;
    clearTimeout(this.windowTimer);
    this.windowTimer = null;
  }

  private sendAck(): void {
    this.ackedReceived = this.received;
    if (this.sink !== null && this.answered) this.spark.sendNow(this.spark.encodeControl(`primus::ack::${this.received}`));
  }
}

/** What `Recoveries` needs from the server. */
export interface RecoveryServer {
  readonly options: { readonly recovery: ResolvedRecovery | false };
  readonly connections: Record<string, SparkBase>;
  readonly transformer: { readonly textOnly?: boolean };
  emit(event: string, ...args: unknown[]): boolean;
}

/**
 * A server's recovery: it reads each connection's announcement, gives a returning client its
 * spark back, or starts a session, and asks the store for sessions this server does not hold.
 */
export class Recoveries implements SessionHost {
  constructor(private readonly server: RecoveryServer) {}

  /**
   * The `recovery` option, read when it is used: a plugin may put its own store in place of the
   * in-memory default from its `server()` hook (`@primus/redis` does), after this was made.
   */
  get recovery(): ResolvedRecovery {
    return this.server.options.recovery as ResolvedRecovery;
  }

  log(level: string, ...args: unknown[]): void {
    this.server.emit('log', level, ...args);
  }

  outcome(spark: SparkBase, outcome: 'recovered' | RecoveryFailure | 'expired'): void {
    this.server.emit('recovery', outcome, spark);
  }

  /**
   * A new connection whose query announces recovery: the sink of the spark it resumes, or of a new
   * spark made by `create`. Undefined when the client did not announce.
   */
  connect(query: Record<string, unknown>, socket: ConnectionSocket, create: () => SparkBase): ConnectionSink | undefined {
    const request = takeRecoveryRequest(query);
    if (!request) return undefined;
    const textOnly = !!this.server.transformer.textOnly;
    let failure: RecoveryFailure | undefined;
    let pending = false;
    if (request.id !== undefined) {
      const existing = this.server.connections[request.id];
      const session = existing?.session;
      if (existing && session && session.pending === null) {
        failure = session.resumable(request);
        if (failure === undefined) {
          const sink = new SessionSink(existing, textOnly);
          session.attach(sink, socket);
          session.resume(request);
          existing.resumed();
          process.nextTick(() => this.recovered(existing));
          return sink;
        }
        // The client cannot go on with that spark: it is finished.
        session.abandon();
      } else {
        pending = true;
      }
    }
    const spark = create();
    const session = (spark.session = new SparkSession(spark, this, this.recovery.store.create(spark.id, this.recovery)));
    const sink = new SessionSink(spark, textOnly);
    session.attach(sink, socket);
    if (failure) session.status = failure;
    if (pending) {
      session.pending = request;
      session.held = [];
    }
    return sink;
  }

  /**
   * Before a new spark's `connection`: ask the store for the session its client presented, if
   * any, answer the client, then `register` the spark.
   */
  announce(spark: SparkBase, register: () => void): void {
    const session = spark.session!;
    const request = session.pending;
    if (request === null) {
      session.answer();
      if (session.status !== 'new') this.failed(spark, session.status as RecoveryFailure);
      register();
      return;
    }
    let answer: ReturnType<ResolvedRecovery['store']['resume']>;
    try {
      answer = this.recovery.store.resume(request.id!, request.received, this.recovery);
    } catch (err) {
      this.log('error', err);
      answer = undefined;
    }
    const settleWith = (found: RecoveredSession | undefined): void => {
      const held = session.held ?? [];
      session.pending = null;
      session.held = null;
      if (spark.readyState === CLOSED) {
        // The client left again while the store answered: a shared store keeps the session for it.
        if (found) settle(this, found.record.detach());
        return;
      }
      if (found && this.fits(request, found)) {
        settle(this, session.record.drop());
        spark.id = request.id!;
        session.adopt(request, found);
        session.answer();
        register();
        this.recovered(spark);
      } else {
        // A session that does not fit what the client presents is of no use to anyone.
        if (found) settle(this, found.record.drop());
        session.status = 'unknown';
        session.answer();
        this.failed(spark, 'unknown');
        register();
      }
      for (const raw of held) spark.incomingData(raw);
    };
    if (answer && typeof (answer as Promise<unknown>).then === 'function') {
      (answer as Promise<RecoveredSession | undefined>).then(settleWith, (err: unknown) => {
        this.log('error', err);
        settleWith(undefined);
      });
    } else {
      settleWith(answer as RecoveredSession | undefined);
    }
  }

  /** Release the store (server shutdown). */
  close(): void | Promise<unknown> {
    return this.recovery.store.close?.();
  }

  /** Whether a store's session agrees with what the client presents. */
  private fits(request: RecoveryRequest, found: RecoveredSession): boolean {
    return request.received <= found.sent && request.acked <= found.received && found.messages.length === found.sent - request.received;
  }

  private recovered(spark: SparkBase): void {
    if (spark.readyState === CLOSED) return;
    spark.session!.answer();
    this.outcome(spark, 'recovered');
    spark.emit('recovered');
    this.server.emit('recovered', spark);
  }

  private failed(spark: SparkBase, reason: RecoveryFailure): void {
    this.outcome(spark, reason);
    this.server.emit('recovery failed', spark, reason);
  }
}
