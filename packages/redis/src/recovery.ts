import { MemoryRecoveryRecord, type RecoveredSession, type RecoveryLimits, type RecoveryPayload, type RecoveryRecord, type RecoveryStore, type Spark } from '@primus/core';

/**
 * What the store needs from the cluster it belongs to: where a message being delivered stands in
 * the cluster's order, and the Redis commands. `RedisCluster` provides it.
 */
export interface RecoveryHost {
  /** This server's id, the owner of the sessions it holds. */
  readonly id: string;
  /**
   * The id (in the cluster's order) of the message being delivered right now, or undefined when
   * the message did not go through Redis (it cannot be recovered on another server).
   */
  readonly current: string | undefined;
  /** The id of the last broadcast this server delivered, or undefined before it knows. */
  readonly position: string | undefined;
  /** ms a session of a live server is kept beyond the window: the server's registry lease. */
  readonly lease: number;
  createSession(id: string, gen: string, start: string, ttl: number): Promise<unknown>;
  updateSession(id: string, gen: string, ttl: number, fields: string[]): Promise<unknown>;
  checkpoint(id: string, gen: string, ck: number, ckId: string): Promise<unknown>;
  dropSession(id: string, gen: string): Promise<unknown>;
  resumeSession(id: string, after: number, ttl: number): Promise<Resumed | undefined>;
  /** The session of spark `id` is over here. */
  released(id: string): void;
  /** Report a failed background write through the server's `log` event. */
  failed(operation: string, err: unknown): void;
}

/** A session taken over by `resumeSession`. */
export interface Resumed {
  received: number;
  sent: number;
  /** Every message after the client's count, with its id. */
  messages: Array<{ id: string; payload: RecoveryPayload }>;
  /** The id of message number `after` (the client's count), for the next checkpoint. */
  afterId: string;
  /** Where the cluster's order stood when the session was taken: later messages come live. */
  position: string;
  gen: string;
}

/** A message delivered live while a resumption was on its way. */
interface Caught {
  id: string;
  payload: RecoveryPayload;
}

/** A session being taken over (see `RedisRecoveryStore.catching`). */
interface Catching {
  /** Where the session's messages from Redis ended; undefined until Redis answered. */
  from: string | undefined;
  /** Messages after `from` that arrived before the spark was live. */
  caught: Caught[];
  /** Whether the spark receives here. */
  live: boolean;
}

/**
 * One session in Redis. The payloads stay in this process too (a `MemoryRecoveryRecord`), so a
 * client that comes back to the same server resumes from memory; Redis holds what another server
 * needs: the session's start, its checkpoint (a message number and its id), the count of client
 * messages delivered, and the messages written to this spark alone.
 */
export class RedisRecoveryRecord implements RecoveryRecord {
  /** The id of each message from number `firstSeq` on, while not acknowledged. */
  private ids: string[] = [];
  private firstSeq = 1;
  /** Ids of every message so far: a message that did not go through Redis breaks the chain. */
  private chained = true;
  private attached = true;
  private dropped = false;
  private receivedCount = 0;
  private receivedFlushed = 0;
  private flushScheduled = false;
  /** Set once the session exists in Redis. */
  private gen: string | undefined;

  constructor(
    private readonly store: RedisRecoveryStore,
    readonly id: string,
    private readonly limits: RecoveryLimits,
    private readonly memory = new MemoryRecoveryRecord(limits),
  ) {}

  /** @internal Start the session in Redis from `start`, the last broadcast delivered before the spark's first message. */
  begin(start: string): void {
    this.gen = '1';
    this.ids = [];
    this.firstSeq = 1;
    this.track(this.store.host.createSession(this.id, this.gen, start, this.ttl()), 'create');
  }

  /** @internal Carry on a session taken over from another server. */
  adopt(resumed: Resumed, after: number): void {
    this.gen = resumed.gen;
    this.firstSeq = after;
    this.ids = [resumed.afterId, ...resumed.messages.map((m) => m.id)];
    this.receivedCount = this.receivedFlushed = resumed.received;
    for (const [i, message] of resumed.messages.entries()) this.memory.append(after + 1 + i, message.payload);
  }

  /** @internal The generation of the session this server holds ('' while it has none in Redis). */
  get generation(): string {
    return this.chained && this.gen !== undefined ? this.gen : '';
  }

  /** @internal The client messages delivered, for a write that carries it to Redis. */
  takeReceived(): string {
    if (this.receivedCount === this.receivedFlushed) return '';
    this.receivedFlushed = this.receivedCount;
    return String(this.receivedCount);
  }

  append(seq: number, payload: RecoveryPayload): void {
    this.memory.append(seq, payload);
    if (!this.chained || this.gen === undefined) return;
    const id = this.store.host.current;
    if (id === undefined) {
      this.unchain();
      return;
    }
    if (this.ids.length === 0) this.firstSeq = seq;
    this.ids.push(id);
    // Past maxMessages the memory has dropped the oldest too, and so may Redis: a client that far
    // behind is told so (overflow) either way.
    if (this.ids.length > this.limits.maxMessages + 1) {
      this.ids.shift();
      this.firstSeq++;
    }
  }

  ack(seq: number): void {
    this.memory.ack(seq);
    if (!this.chained || this.gen === undefined) return;
    const index = seq - this.firstSeq;
    if (index < 0 || index >= this.ids.length) return;
    const ckId = this.ids[index]!;
    // The acknowledged message's id stays: it is where a resumption starts counting.
    this.ids = this.ids.slice(index);
    this.firstSeq = seq;
    this.track(this.store.host.checkpoint(this.id, this.gen, seq, ckId), 'checkpoint');
  }

  received(count: number): void {
    this.receivedCount = count;
    if (this.flushScheduled || !this.chained || this.gen === undefined) return;
    // Once per turn of the event loop, unless a write to the client carried it first.
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  detach(): void {
    this.attached = false;
    this.flush(true);
  }

  attach(): void {
    this.attached = true;
    this.flush(true);
  }

  replay(after: number): RecoveryPayload[] | undefined {
    return this.memory.replay(after);
  }

  drop(): void {
    if (this.dropped) return;
    this.dropped = true;
    this.memory.drop();
    this.store.forget(this);
    if (this.gen !== undefined && this.chained) this.track(this.store.host.dropSession(this.id, this.gen), 'drop');
  }

  /** @internal Whether the session's lease is renewed with the server's heartbeat. */
  get live(): boolean {
    return this.attached && !this.dropped && this.chained && this.gen !== undefined;
  }

  /**
   * @internal A message reached the spark without going through Redis (Redis was unreachable):
   * another server could not rebuild the session, so it is deleted there. Resuming on this
   * server, from memory, still works.
   */
  unchain(): void {
    if (!this.chained) return;
    this.chained = false;
    if (this.gen !== undefined) this.track(this.store.host.dropSession(this.id, this.gen), 'drop');
  }

  private flush(always = false): void {
    if (!this.chained || this.gen === undefined || this.dropped) return;
    const received = this.takeReceived();
    if (!received && !always) return;
    this.track(this.store.host.updateSession(this.id, this.gen, this.ttl(), received ? ['received', received] : []), 'update');
  }

  private ttl(): number {
    return this.attached ? this.limits.window + this.store.host.lease : this.limits.window;
  }

  private track(write: Promise<unknown>, operation: string): void {
    write.catch((err: unknown) => this.store.host.failed(operation, err));
  }
}

/**
 * Connection-state recovery with Redis as the store, so a client recovers on any server of the
 * cluster. The `redisCluster()` plugin installs it on a server with `recovery` on; see the
 * package README and docs/recovery.md.
 */
export class RedisRecoveryStore implements RecoveryStore {
  /** The sessions this server holds, by spark id. */
  readonly records = new Map<string, RedisRecoveryRecord>();
  /**
   * Sessions taken over from Redis whose spark does not yet receive as the others here do, by
   * spark id. This server's subscription may run behind or ahead of the reply that took the
   * session (two connections): `from` is where the session's messages from Redis ended. Until the
   * subscription has delivered something later than `from`, broadcasts up to `from` are not the
   * spark's to receive again, and what comes later is kept until the spark is live.
   */
  private readonly catching = new Map<string, Catching>();

  /** @internal Created by the cluster plugin. */
  constructor(readonly host: RecoveryHost) {}

  create(id: string, limits: RecoveryLimits): RedisRecoveryRecord {
    const record = new RedisRecoveryRecord(this, id, limits);
    this.records.set(id, record);
    return record;
  }

  async resume(id: string, after: number, limits: RecoveryLimits): Promise<RecoveredSession | undefined> {
    const catching: Catching = { from: undefined, caught: [], live: false };
    this.catching.set(id, catching);
    let resumed: Resumed | undefined;
    try {
      resumed = await this.host.resumeSession(id, after, limits.window + this.host.lease);
    } finally {
      if (!resumed && this.catching.get(id) === catching) this.catching.delete(id);
    }
    if (!resumed) return undefined;
    catching.from = resumed.position;
    catching.caught = catching.caught.filter((message) => isAfter(message.id, resumed.position));
    const record = new RedisRecoveryRecord(this, id, limits);
    this.records.set(id, record);
    record.adopt(resumed, after);
    return {
      received: resumed.received,
      sent: resumed.sent,
      messages: resumed.messages.map((m) => m.payload),
      record,
    };
  }

  /** @internal Whether any session is being taken over here. */
  get catchingUp(): boolean {
    return this.catching.size > 0;
  }

  /**
   * @internal The subscription delivers a message with `id`: for a broadcast (`sparkId`
   * undefined), the ids of the sparks that must not get it (they had it from Redis); for a
   * message to one spark, whether that spark must not get it now. Keeps what the sparks that are
   * not live yet will need.
   */
  sift(sparkId: string | undefined, id: string, payload: RecoveryPayload | undefined): Set<string> | boolean {
    const skip = new Set<string>();
    for (const [spark, catching] of this.catching) {
      const later = catching.from === undefined || isAfter(id, catching.from);
      const mine = sparkId === undefined || sparkId === spark;
      if (mine && payload !== undefined) {
        if (!catching.live) {
          if (later) catching.caught.push({ id, payload });
          skip.add(spark);
        } else if (!later) skip.add(spark);
      }
      // Past `from`, everything up to it has arrived: the spark receives as the others do.
      if (catching.live && catching.from !== undefined && later) this.catching.delete(spark);
    }
    return sparkId === undefined ? skip : skip.has(sparkId);
  }

  /**
   * @internal A resumed spark went live on this server: give it, in order, what arrived after its
   * session was taken and before it could receive. `deliver` writes one message.
   */
  settle(spark: Spark, deliver: (id: string, payload: RecoveryPayload) => void): void {
    const catching = this.catching.get(spark.id);
    if (!catching) return;
    catching.live = true;
    const caught = catching.caught;
    catching.caught = [];
    for (const message of caught) deliver(message.id, message.payload);
    if (caught.length > 0) this.catching.delete(spark.id);
  }

  /** @internal A new session's spark went live: start its session in Redis. */
  begin(spark: Spark): void {
    const record = this.records.get(spark.id);
    if (!record || record.generation !== '') return;
    const position = this.host.position;
    if (position === undefined) record.unchain();
    else record.begin(position);
  }

  /** @internal A record was dropped. */
  forget(record: RedisRecoveryRecord): void {
    if (this.records.get(record.id) !== record) return;
    this.records.delete(record.id);
    this.catching.delete(record.id);
    this.host.released(record.id);
  }

  /** The (id, generation) pairs of the attached sessions, for the lease renewal. */
  live(): string[] {
    const pairs: string[] = [];
    for (const [id, record] of this.records) if (record.live) pairs.push(id, record.generation);
    return pairs;
  }
}

/** Whether stream id `a` comes after `b`. */
export function isAfter(a: string, b: string): boolean {
  const [ams, an] = a.split('-').map(Number) as [number, number];
  const [bms, bn] = b.split('-').map(Number) as [number, number];
  return ams > bms || (ams === bms && an > bn);
}
