import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { Counts, REASONS, RECOVERY_OUTCOMES, type SendOutcome, type Source } from './source';

/** Every metric this package registers: name, type and labels (the README lists them too). */
export const METRICS = {
  primus_connections: { type: 'gauge', help: 'Sparks connected now.', labels: ['transformer'] },
  primus_connections_total: { type: 'counter', help: 'Sparks that connected.', labels: ['transformer'] },
  primus_disconnections_total: {
    type: 'counter',
    help: 'Sparks that ended, by reason: client (the client or its transport closed), server (ended by the server), heartbeat (missed heartbeats), error.',
    labels: ['transformer', 'reason'],
  },
  primus_messages_received_total: { type: 'counter', help: "Messages received from clients (not counting the protocol's pings).", labels: ['transformer'] },
  primus_messages_sent_total: { type: 'counter', help: "Messages sent to clients (not counting the protocol's pongs, close notices and ids).", labels: ['transformer'] },
  primus_received_bytes_total: { type: 'counter', help: 'Bytes of every frame received from clients, as decoded by the transformer.', labels: ['transformer'] },
  primus_sent_bytes_total: { type: 'counter', help: 'Bytes of every frame sent to clients, as encoded for the transformer.', labels: ['transformer'] },
  primus_heartbeat_skips_total: { type: 'counter', help: 'Heartbeats a client missed (an unsolicited pong went out).', labels: ['transformer'] },
  primus_heartbeat_timeouts_total: { type: 'counter', help: 'Sparks ended for missing too many heartbeats.', labels: ['transformer'] },
  primus_backpressure_total: {
    type: 'counter',
    help: 'Times a spark.write() started returning false (the connection held more than highWaterMark bytes).',
    labels: ['transformer'],
  },
  primus_drains_total: { type: 'counter', help: 'Times a spark emitted drain after back-pressure.', labels: ['transformer'] },
  primus_recoveries_total: {
    type: 'counter',
    help: 'Connection-state recovery outcomes: recovered, unknown (no such session), overflow (messages the client missed were dropped), expired (a window passed).',
    labels: ['transformer', 'outcome'],
  },
  primus_cluster_up: { type: 'gauge', help: '1 when this server is registered and subscribed in the @primus/redis cluster, else 0.', labels: ['transformer'] },
  primus_cluster_broadcasts_published_total: { type: 'counter', help: 'Broadcasts of this server that reached Redis.', labels: ['transformer'] },
  primus_cluster_broadcasts_received_total: { type: 'counter', help: 'Broadcasts of other servers delivered to this server.', labels: ['transformer'] },
  primus_cluster_send_duration_seconds: { type: 'histogram', help: 'Duration of cluster.send(), by outcome: delivered, not-found, failed.', labels: ['transformer', 'outcome'] },
} as const;

/** The buckets of `primus_cluster_send_duration_seconds`, in seconds. */
export const DEFAULT_SEND_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

type CountKey = Exclude<keyof Counts, 'disconnections' | 'recoveries' | 'add'>;

const COUNTERS: Array<[name: keyof typeof METRICS, key: CountKey]> = [
  ['primus_connections_total', 'connections'],
  ['primus_messages_received_total', 'messagesReceived'],
  ['primus_messages_sent_total', 'messagesSent'],
  ['primus_received_bytes_total', 'bytesReceived'],
  ['primus_sent_bytes_total', 'bytesSent'],
  ['primus_heartbeat_skips_total', 'heartbeatSkips'],
  ['primus_heartbeat_timeouts_total', 'heartbeatTimeouts'],
  ['primus_backpressure_total', 'backpressure'],
  ['primus_drains_total', 'drains'],
  ['primus_cluster_broadcasts_published_total', 'published'],
  ['primus_cluster_broadcasts_received_total', 'received'],
];

/** Marks a registry's collector, shared by every copy of this package (ESM and CommonJS) in a process. */
const KEY = Symbol.for('@primus/metrics/collector');

/**
 * The metrics of one registry, shared by every server that reports to it. Servers of the same
 * transformer add up under one `transformer` label; a server that shuts down leaves its counts
 * behind, so counters never go back.
 */
export class Collector {
  private readonly sources = new Set<Source>();
  /** Counts of servers that shut down, by transformer. */
  private readonly retired = new Map<string, Counts>();
  private readonly sendDuration: Histogram<'transformer' | 'outcome'>;

  /** The registry's collector, made on first use. */
  static for(registry: Registry, sendBuckets: number[]): Collector {
    const holder = registry as unknown as Record<symbol, Collector | undefined>;
    return (holder[KEY] ??= new Collector(registry, sendBuckets));
  }

  private constructor(registry: Registry, sendBuckets: number[]) {
    const registers = [registry];
    const collector = this;
    new Gauge({
      name: 'primus_connections',
      help: METRICS.primus_connections.help,
      labelNames: ['transformer'],
      registers,
      collect() {
        this.reset();
        for (const transformer of collector.transformers()) this.set({ transformer }, 0);
        for (const source of collector.sources) this.inc({ transformer: source.transformer }, source.connected());
      },
    });
    new Gauge({
      name: 'primus_cluster_up',
      help: METRICS.primus_cluster_up.help,
      labelNames: ['transformer'],
      registers,
      collect() {
        this.reset();
        const up = new Map<string, number>();
        for (const source of collector.sources) {
          if (!source.cluster) continue;
          // Several servers of one transformer in one process: up only when every one of them is.
          up.set(source.transformer, Math.min(up.get(source.transformer) ?? 1, source.cluster.available ? 1 : 0));
        }
        for (const [transformer, value] of up) this.set({ transformer }, value);
      },
    });
    for (const [name, key] of COUNTERS) {
      const cluster = name.startsWith('primus_cluster_');
      new Counter({
        name,
        help: METRICS[name].help,
        labelNames: ['transformer'],
        registers,
        collect() {
          this.reset();
          for (const [transformer, counts] of collector.totals(cluster)) this.inc({ transformer }, counts[key]);
        },
      });
    }
    new Counter({
      name: 'primus_disconnections_total',
      help: METRICS.primus_disconnections_total.help,
      labelNames: ['transformer', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const [transformer, counts] of collector.totals(false)) {
          for (const reason of REASONS) this.inc({ transformer, reason }, counts.disconnections[reason]);
        }
      },
    });
    new Counter({
      name: 'primus_recoveries_total',
      help: METRICS.primus_recoveries_total.help,
      labelNames: ['transformer', 'outcome'],
      registers,
      collect() {
        this.reset();
        for (const [transformer, counts] of collector.totals(false)) {
          for (const outcome of RECOVERY_OUTCOMES) this.inc({ transformer, outcome }, counts.recoveries[outcome]);
        }
      },
    });
    this.sendDuration = new Histogram({
      name: 'primus_cluster_send_duration_seconds',
      help: METRICS.primus_cluster_send_duration_seconds.help,
      labelNames: ['transformer', 'outcome'],
      buckets: sendBuckets,
      registers,
    });
  }

  /** Start reporting a server's counts. */
  add(source: Source): void {
    this.sources.add(source);
  }

  /** A server shut down: keep its counts under its transformer. */
  retire(source: Source): void {
    if (!this.sources.delete(source)) return;
    source.release();
    const counts = this.retired.get(source.transformer) ?? new Counts();
    counts.add(source.counts);
    this.retired.set(source.transformer, counts);
  }

  /** Record one `cluster.send()`. */
  observeSend(transformer: string, seconds: number, outcome: SendOutcome): void {
    this.sendDuration.observe({ transformer, outcome }, seconds);
  }

  private transformers(): Set<string> {
    const names = new Set(this.retired.keys());
    for (const source of this.sources) names.add(source.transformer);
    return names;
  }

  /** Counts by transformer, live and retired servers together; `cluster` keeps servers that had one. */
  private totals(cluster: boolean): Map<string, Counts> {
    const totals = new Map<string, Counts>();
    const add = (transformer: string, counts: Counts): void => {
      let total = totals.get(transformer);
      if (!total) totals.set(transformer, (total = new Counts()));
      total.add(counts);
    };
    for (const [transformer, counts] of this.retired) {
      if (!cluster || counts.published || counts.received) add(transformer, counts);
    }
    for (const source of this.sources) if (!cluster || source.cluster) add(source.transformer, source.counts);
    return totals;
  }
}
