import type { Spark, SparkEndReason } from '@primus/core';
import { byteLength, isControl, type Decode, type Frame } from './payload';

/** The reasons a spark ends, as the `reason` label says them. */
export const REASONS: readonly SparkEndReason[] = ['client', 'server', 'heartbeat', 'error'];

/** How a recovery can end, as the `outcome` label says them (the server's `recovery` event). */
export const RECOVERY_OUTCOMES = ['recovered', 'unknown', 'overflow', 'expired'] as const;

/** One of `RECOVERY_OUTCOMES`. */
export type RecoveryOutcome = (typeof RECOVERY_OUTCOMES)[number];

/** How `cluster.send()` can end, as the `outcome` label says them. */
export type SendOutcome = 'delivered' | 'not-found' | 'failed';

/** What the plugin needs of `primus.cluster` (from @primus/redis), without depending on it. */
export interface ClusterLike {
  readonly available: boolean;
  on(event: 'published' | 'received', listener: () => void): unknown;
  on(event: 'send', listener: (ms: number, outcome: SendOutcome) => void): unknown;
}

/** The counters of one server, or of the servers of one transformer that have shut down. */
export class Counts {
  connections = 0;
  disconnections: Record<SparkEndReason, number> = { client: 0, server: 0, heartbeat: 0, error: 0 };
  messagesReceived = 0;
  messagesSent = 0;
  bytesReceived = 0;
  bytesSent = 0;
  heartbeatSkips = 0;
  heartbeatTimeouts = 0;
  backpressure = 0;
  drains = 0;
  published = 0;
  received = 0;
  recoveries: Record<RecoveryOutcome, number> = { recovered: 0, unknown: 0, overflow: 0, expired: 0 };

  /** Add another set of counts to this one. */
  add(other: Counts): void {
    this.connections += other.connections;
    for (const reason of REASONS) this.disconnections[reason] += other.disconnections[reason];
    this.messagesReceived += other.messagesReceived;
    this.messagesSent += other.messagesSent;
    this.bytesReceived += other.bytesReceived;
    this.bytesSent += other.bytesSent;
    this.heartbeatSkips += other.heartbeatSkips;
    this.heartbeatTimeouts += other.heartbeatTimeouts;
    this.backpressure += other.backpressure;
    this.drains += other.drains;
    this.published += other.published;
    this.received += other.received;
    for (const outcome of RECOVERY_OUTCOMES) this.recoveries[outcome] += other.recoveries[outcome];
  }
}

/**
 * One server's counters. The hot paths (a frame in, a frame out) add to plain numbers; the
 * Prometheus metrics read them when scraped. The listeners are made once per server and shared
 * by its sparks.
 */
export class Source {
  readonly counts = new Counts();
  cluster: ClusterLike | undefined;

  /** The last outgoing frame and what it was: a broadcast hands every spark the same payload. */
  private lastFrame: Frame = undefined;
  private lastBytes = 0;
  private lastControl = false;

  constructor(
    /** The `transformer` label. */
    readonly transformer: string,
    /** Open sparks right now. */
    readonly connected: () => number,
    /** The server's decoder, for telling short binary control frames from messages. */
    private readonly decode: Decode,
  ) {}

  readonly onIncoming = (frame: Frame): void => {
    const counts = this.counts;
    counts.bytesReceived += byteLength(frame);
    if (!isControl(frame, this.decode)) counts.messagesReceived++;
  };

  readonly onOutgoing = (frame: Frame): void => {
    if (frame !== this.lastFrame) {
      this.lastFrame = frame;
      this.lastBytes = byteLength(frame);
      this.lastControl = isControl(frame, this.decode);
    }
    const counts = this.counts;
    counts.bytesSent += this.lastBytes;
    if (!this.lastControl) counts.messagesSent++;
  };

  readonly onBackpressure = (): void => void this.counts.backpressure++;
  readonly onDrain = (): void => void this.counts.drains++;

  /** Start counting a spark's frames; runs as the sparks' construction hook. */
  watch(spark: Spark): void {
    spark.on('incoming::data', this.onIncoming);
    spark.on('outgoing::data', this.onOutgoing);
    spark.on('backpressure', this.onBackpressure);
    spark.on('drain', this.onDrain);
  }

  /** Count `primus.cluster`'s broadcasts; `observeSend` records each send's duration. */
  watchCluster(cluster: ClusterLike, observeSend: (seconds: number, outcome: SendOutcome) => void): void {
    this.cluster = cluster;
    cluster.on('published', () => void this.counts.published++);
    cluster.on('received', () => void this.counts.received++);
    cluster.on('send', (ms, outcome) => observeSend(ms / 1000, outcome));
  }

  /** Forget the last frame, so a large payload is not kept alive by the counter. */
  release(): void {
    this.lastFrame = undefined;
  }
}
