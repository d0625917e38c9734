import type { Redis } from 'ioredis';
import type { LogLevel, RecoveryPayload, Spark } from '@primus/core';
import { pack, unpack, type Payload } from './envelope';
import { ClusterError } from './errors';
import { defineRecoveryScripts, type RecoveryCommands } from './recovery-scripts';
import { RedisRecoveryStore, type RecoveryHost, type Resumed } from './recovery';

/** The Primus server, as far as recovery needs it. */
interface Server {
  readonly connections: Record<string, Spark>;
  readonly transformers: { readonly outgoing: readonly unknown[] };
  encodeBroadcast(data: unknown): string | Buffer | Uint8Array | undefined;
  writeEncoded(payload: string | Buffer | Uint8Array): boolean;
}

/** What the cluster gives its recovery: its connection, names and state. */
export interface RecoveryWiring {
  id: string;
  prefix: string;
  /** The channel of broadcasts, and the prefix of each server's own channel. */
  broadcastChannel: string;
  inboxPrefix: string;
  /** The registry lease, ms. */
  lease: number;
  window: number;
  maxMessages: number;
  /** Whether Redis is reachable (registered and subscribed). */
  up(): boolean;
  /** A broadcast of this server reached Redis. */
  published(): void;
  /** A broadcast of another server was delivered here. */
  received(): void;
  warn(operation: string, err: unknown): void;
  log(level: LogLevel, ...args: unknown[]): void;
}

const HASH = 0x23;
const NEWLINE = 0x0a;

/**
 * Connection-state recovery across the cluster: the Redis side of `RedisRecoveryStore`, and the
 * delivery of every message to a recoverable spark through Redis, in one order (see
 * recovery-scripts.ts and docs/recovery.md).
 */
export class ClusterRecovery implements RecoveryHost {
  readonly store: RedisRecoveryStore;
  readonly id: string;
  readonly lease: number;
  current: string | undefined;
  position: string | undefined;
  private marking = false;

  /** The sparks of the sessions held here, connected or with their client away. */
  private readonly sparks = new Map<string, Spark>();
  private readonly redis: Redis & RecoveryCommands;
  private readonly keys: { clock: string; broadcasts: string; cut: string; session: string };

  constructor(
    redis: Redis,
    private readonly primus: Server,
    private readonly wiring: RecoveryWiring,
  ) {
    this.redis = defineRecoveryScripts(redis);
    this.id = wiring.id;
    this.lease = wiring.lease;
    const rc = `${wiring.prefix}:rc`;
    this.keys = { clock: `${rc}:clock`, broadcasts: `${rc}:b`, cut: `${rc}:b:cut`, session: `${rc}:s:` };
    this.store = new RedisRecoveryStore(this);
  }

  // ---- Writing: every message to a recoverable spark goes to Redis first ----

  /**
   * `primus.write()`: add the broadcast to the stream; every server (this one too) delivers it
   * from there. Undefined when the server has outgoing message transformers, which run per spark
   * on the delivering server: the cluster then broadcasts as without recovery, and the sessions
   * here resume only on this server.
   */
  broadcast(data: unknown): boolean | undefined {
    if (this.primus.transformers.outgoing.length) {
      this.unchain();
      return undefined;
    }
    const payload = this.primus.encodeBroadcast(data);
    if (payload === undefined) return false;
    if (!this.wiring.up()) {
      // Delivered here only, outside the cluster's order: the sessions here can no longer be
      // rebuilt elsewhere (they still resume on this server).
      this.unchain();
      this.primus.writeEncoded(payload);
      return true;
    }
    this.add(payload).then(
      () => this.wiring.published(),
      (err: unknown) => this.wiring.warn('broadcast', err),
    );
    return true;
  }

  /** `cluster.broadcast()`: resolves once Redis holds the broadcast; undefined when it encodes to nothing. */
  publish(data: unknown): Promise<void> | undefined {
    const payload = this.primus.encodeBroadcast(data);
    if (payload === undefined) return undefined;
    return this.add(payload).then(() => this.wiring.published());
  }

  private add(payload: Payload): Promise<string> {
    const binary = typeof payload !== 'string';
    return this.redis.primusRcBroadcast(
      this.keys.clock,
      this.keys.broadcasts,
      this.keys.cut,
      this.wiring.broadcastChannel,
      header({ t: 'b', f: this.id }, binary),
      asBuffer(payload),
      binary ? '1' : '0',
      this.wiring.maxMessages,
      this.keep(),
    );
  }

  /** The write of a spark with a recoverable session; `write` is the spark's own, for when Redis is away. */
  write(spark: Spark, data: unknown, write: (data: unknown) => boolean): boolean {
    const record = this.store.records.get(spark.id);
    const gen = record?.generation;
    if (!record || !gen || !this.wiring.up() || this.primus.transformers.outgoing.length) {
      record?.unchain();
      return write.call(spark, data);
    }
    const payload = this.primus.encodeBroadcast(data);
    if (payload === undefined) return false;
    this.direct(spark.id, payload, record.takeReceived(), gen).then(
      (id) => {
        // The session moved to another server, which ended this spark or is about to.
        if (id === null) this.wiring.log('debug', `a write to spark ${spark.id} was dropped: its session moved to another server`);
      },
      (err: unknown) => {
        record.unchain();
        this.wiring.warn('send', err);
        write.call(spark, data);
      },
    );
    return true;
  }

  /**
   * `cluster.send()` to a spark whose session is in Redis, wherever it is (or while its client is
   * away): resolves true once Redis holds it, undefined when no session exists.
   */
  async send(sparkId: string, data: unknown): Promise<boolean | undefined> {
    if (this.primus.transformers.outgoing.length) return undefined;
    const payload = this.primus.encodeBroadcast(data);
    if (payload === undefined) return undefined;
    const id = await this.direct(sparkId, payload, '', '');
    return id === null ? undefined : true;
  }

  private direct(sparkId: string, payload: Payload, received: string, gen: string): Promise<string | null> {
    const binary = typeof payload !== 'string';
    const session = this.keys.session + sparkId;
    return this.redis.primusRcDirect(
      this.keys.clock,
      session,
      `${session}:d`,
      this.wiring.inboxPrefix,
      header({ t: 'd', f: this.id, s: sparkId }, binary),
      asBuffer(payload),
      binary ? '1' : '0',
      this.wiring.maxMessages,
      received,
      gen,
    );
  }

  // ---- Delivering: in the order of the ids ----

  /** A message with a position (`#<id>\n` before the envelope) arrived on a channel. Returns false when it is not one. */
  receive(message: Buffer): boolean {
    if (message[0] !== HASH) return false;
    const end = message.indexOf(NEWLINE);
    const envelope = end === -1 ? undefined : unpack(message.subarray(end + 1));
    if (!envelope) {
      this.wiring.log('debug', 'ignored a message on a cluster channel that is not from @primus/redis');
      return true;
    }
    const id = message.toString('latin1', 1, end);
    const { header, payload } = envelope;
    if (header.t === 'p') {
      if (header.f === this.id && this.position === undefined) this.position = id;
      if (this.store.catchingUp) this.store.sift(undefined, id, undefined);
    } else if (header.t === 'm') this.moved(header.s);
    else if (header.t === 'b') {
      this.deliverBroadcast(id, payload!);
      if (header.f !== this.id) this.wiring.received();
    } else if (header.t === 'd') this.deliverDirect(id, header.s, payload!);
    return true;
  }

  private deliverBroadcast(id: string, payload: Payload): void {
    if (this.position === undefined) {
      // Before this server knows where the order stands, no session here is in Redis.
      this.primus.writeEncoded(payload);
      return;
    }
    this.position = id;
    const skip = this.store.catchingUp ? (this.store.sift(undefined, id, payload) as Set<string>) : undefined;
    this.current = id;
    try {
      if (!skip?.size) this.primus.writeEncoded(payload);
      else for (const sparkId in this.primus.connections) if (!skip.has(sparkId)) this.primus.connections[sparkId]!.sendEncoded(payload);
    } finally {
      this.current = undefined;
    }
  }

  private deliverDirect(id: string, sparkId: string, payload: Payload): void {
    if (this.store.catchingUp && this.store.sift(sparkId, id, payload)) return;
    const spark = this.sparks.get(sparkId) ?? this.primus.connections[sparkId];
    if (spark) this.deliverTo(spark, id, payload);
  }

  private deliverTo(spark: Spark, id: string, payload: RecoveryPayload): void {
    this.current = id;
    try {
      spark.sendEncoded(payload);
    } finally {
      this.current = undefined;
    }
  }

  /** Another server took over a session: the spark that held it here is stale. */
  private moved(sparkId: string): void {
    const spark = this.sparks.get(sparkId);
    if (!spark) return;
    this.sparks.delete(sparkId);
    this.wiring.log('debug', `spark ${sparkId} resumed on another server; ending it here`);
    spark.end(undefined, { reconnect: true });
  }

  /** A spark went live on this server: start its session, or deliver what arrived while it was being resumed. */
  connected(spark: Spark, write: (data: unknown) => boolean): void {
    if (!this.store.records.has(spark.id)) return;
    this.sparks.set(spark.id, spark);
    this.store.begin(spark);
    this.store.settle(spark, (id, payload) => this.deliverTo(spark, id, payload));
    spark.write = (data: unknown) => this.write(spark, data, write);
  }

  // ---- Leases and Redis's state ----

  /**
   * The subscription is (back) in place: learn where the cluster's order stands, from a mark sent
   * to this server's own channel. Everything the subscription delivers after the mark comes later
   * in the order. Tried again with every heartbeat until it works.
   */
  async synchronise(): Promise<void> {
    if (this.position !== undefined || this.marking || !this.wiring.up()) return;
    this.marking = true;
    try {
      await this.redis.primusRcMark(this.keys.clock, this.wiring.inboxPrefix + this.id, JSON.stringify({ t: 'p', f: this.id }));
    } catch {
      // The next heartbeat tries again.
    } finally {
      this.marking = false;
    }
  }

  /** The subscription was lost: broadcasts may be missed, so no session here can be rebuilt elsewhere. */
  lost(): void {
    this.position = undefined;
    this.unchain();
  }

  /** Renew the lease of every session this server holds; with the registry's heartbeat. */
  async renew(): Promise<void> {
    const pairs = this.store.live();
    for (let i = 0; i < pairs.length; i += 4000) {
      await this.redis.primusRcRenew(this.keys.session, this.wiring.window + this.lease, ...pairs.slice(i, i + 4000));
    }
  }

  /** Messages reach the sparks here outside the cluster's order: their sessions can no longer be rebuilt elsewhere. */
  unchain(): void {
    for (const record of this.store.records.values()) record.unchain();
  }

  /** How long the broadcast stream keeps an entry: the window, plus the time a client may take to acknowledge. */
  private keep(): number {
    return this.wiring.window + this.lease + 60_000;
  }

  // ---- RecoveryHost ----

  createSession(id: string, gen: string, start: string, ttl: number): Promise<unknown> {
    const session = this.keys.session + id;
    return this.redis.primusRcCreate(session, `${session}:d`, this.id, gen, start, ttl);
  }

  updateSession(id: string, gen: string, ttl: number, fields: string[]): Promise<unknown> {
    const session = this.keys.session + id;
    return this.redis.primusRcUpdate(session, `${session}:d`, gen, ttl, ...fields);
  }

  checkpoint(id: string, gen: string, ck: number, ckId: string): Promise<unknown> {
    const session = this.keys.session + id;
    return this.redis.primusRcCheckpoint(session, `${session}:d`, gen, String(ck), ckId);
  }

  dropSession(id: string, gen: string): Promise<unknown> {
    const session = this.keys.session + id;
    return this.redis.primusRcDrop(session, `${session}:d`, gen);
  }

  async resumeSession(id: string, after: number, ttl: number): Promise<Resumed | undefined> {
    if (!this.wiring.up()) return undefined;
    const session = this.keys.session + id;
    const notice = JSON.stringify({ t: 'm', f: this.id, s: id });
    const reply = await this.redis.primusRcResumeBuffer(
      this.keys.clock,
      session,
      `${session}:d`,
      this.keys.broadcasts,
      this.keys.cut,
      after,
      this.id,
      this.wiring.inboxPrefix,
      ttl,
      notice,
    );
    // A mark through this server's subscription tells when it has delivered everything up to the
    // point the session was taken at (see RedisRecoveryStore.sift).
    if (reply[0]?.toString() === 'ok') {
      this.redis.primusRcMark(this.keys.clock, this.wiring.inboxPrefix + this.id, JSON.stringify({ t: 'p', f: this.id })).catch(() => {});
    }
    const status = reply[0]?.toString();
    if (status !== 'ok') {
      this.wiring.log('debug', `session ${id} cannot be resumed from Redis: ${status}`);
      return undefined;
    }
    const text = (i: number): string => reply[i]!.toString();
    const messages: Resumed['messages'] = [];
    for (let i = 6; i + 2 < reply.length; i += 3) {
      const payload = reply[i + 1]!;
      messages.push({ id: text(i), payload: text(i + 2) === '1' ? payload : payload.toString('utf8') });
    }
    return { received: Number(text(1)), sent: Number(text(2)), position: text(3), gen: text(4), afterId: text(5), messages };
  }

  released(id: string): void {
    this.sparks.delete(id);
  }

  failed(operation: string, err: unknown): void {
    this.wiring.log('warn', new ClusterError('PRIMUS_ERR_CLUSTER_UNAVAILABLE', `recovery: a session ${operation} did not reach Redis`, { cause: err }));
  }
}

/** The envelope's header line, with the binary flag when the payload is bytes. */
function header(h: { t: 'b'; f: string } | { t: 'd'; f: string; s: string }, binary: boolean): string {
  const packed = pack(binary ? { ...h, bin: 1 } : h) as string;
  return packed.slice(0, -1);
}

function asBuffer(payload: Payload): string | Buffer {
  if (typeof payload === 'string' || Buffer.isBuffer(payload)) return payload;
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
}
