import type { Spark, SparkEndReason } from '@primus/core';

/** One connected spark as the page lists it. Times are ms since the epoch (the server's clock). */
export interface SparkRow {
  id: string;
  address: string;
  transformer: string;
  connectedAt: number;
  /** When the last heartbeat (a ping) arrived, or null before the first. */
  lastHeartbeat: number | null;
  /** The round trip the client saw on its last heartbeat, in ms, or null until two pings arrived. */
  latency: number | null;
}

/** A spark that ended, for the list of recent disconnections. */
export interface DisconnectionRow {
  id: string;
  address: string;
  reason: SparkEndReason;
  connectedAt: number;
  at: number;
}

/** Rates over one sampling interval, per second, and the sparks connected at its end. */
export interface Sample {
  t: number;
  received: number;
  sent: number;
  connections: number;
  disconnections: number;
  sparks: number;
}

/** The changes since the last flush, sent to the page a few times a second. */
export interface Changes {
  connected: SparkRow[];
  disconnected: DisconnectionRow[];
  updated: Array<Pick<SparkRow, 'id' | 'lastHeartbeat' | 'latency'>>;
  sparkCount: number;
}

interface Tracked extends SparkRow {
  /** The client's clock at its previous ping, for the latency. */
  lastPing: number | null;
  /** The interval the client pings at, from its connect query (ms), or 0. */
  ping: number;
}

const CONTROL = 'primus::';
const CONTROL_BYTES = Buffer.from(CONTROL);

/**
 * Whether a frame is one of the protocol's own (a ping, a pong): JSON text `"primus::...`, or a
 * short binary frame with `primus::` behind a codec's few header bytes that decodes to such a string.
 */
function isControl(frame: unknown, decode: (frame: unknown) => unknown): boolean {
  if (typeof frame === 'string') return frame.charCodeAt(0) === 34 && frame.startsWith(CONTROL, 1);
  if (!(frame instanceof Uint8Array) || frame.byteLength > 96) return false;
  const at = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).indexOf(CONTROL_BYTES);
  if (at < 1 || at > 5) return false;
  try {
    const value = decode(frame);
    return typeof value === 'string' && value.startsWith(CONTROL);
  } catch {
    return false;
  }
}

function formatAddress(spark: Spark): string {
  const { ip, port } = spark.address ?? {};
  if (!ip) return 'unknown';
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return port ? `${host}:${port}` : host;
}

/**
 * What the admin page shows of one server: its sparks, the recent disconnections and the rates,
 * kept from the moment the plugin is added so a page opened later has a history to show.
 */
export class Tracker {
  private readonly rows = new Map<string, Tracked>();
  /** The ids the page lists: the first `maxSparks` that connected. */
  private readonly listed = new Set<string>();
  private readonly recent: DisconnectionRow[] = [];
  private readonly series: Sample[] = [];
  private counts = { received: 0, sent: 0, connections: 0, disconnections: 0 };
  private lastSample = Date.now();
  private pending: { connected: SparkRow[]; disconnected: DisconnectionRow[]; updated: Set<string> } = { connected: [], disconnected: [], updated: new Set() };

  constructor(
    /** The server's decoder, for telling short binary control frames from messages. */
    private readonly decode: (frame: unknown) => unknown,
    private readonly transformer: string,
    private readonly maxSparks: number,
    private readonly history: number,
    private readonly samples: number,
  ) {}

  // Shared by every spark.
  private readonly onIncoming = (frame: unknown): void => {
    if (!isControl(frame, this.decode)) this.counts.received++;
  };

  private readonly onOutgoing = (frame: unknown): void => {
    if (!isControl(frame, this.decode)) this.counts.sent++;
  };

  /** One listener for every spark's pings; Node calls it with `this` = the spark. */
  private readonly pingListener = ((tracker: Tracker) =>
    function (this: Spark, time?: number): void {
      tracker.onPing(this, time);
    })(this);

  private onPing(spark: Spark, time?: number): void {
    const row = this.rows.get(spark.id);
    if (!row) return;
    row.lastHeartbeat = Date.now();
    if (typeof time === 'number' && Number.isFinite(time)) {
      // The client pings `ping` ms after it got the previous pong, stamping each ping with its own
      // clock: the gap between two stamps, less the interval, is the round trip it waited for that
      // pong (plus its timer's delay). Both stamps come from one clock, so no clock skew enters.
      if (row.lastPing !== null && row.ping > 0) row.latency = Math.max(0, time - row.lastPing - row.ping);
      row.lastPing = time;
    }
    if (this.listed.has(spark.id)) this.pending.updated.add(spark.id);
  }

  /** Start tracking a spark that connected. */
  add(spark: Spark): void {
    const ping = typeof spark.query.ping === 'number' ? spark.query.ping : 0;
    const row: Tracked = {
      id: spark.id,
      address: formatAddress(spark),
      transformer: this.transformer,
      connectedAt: Date.now(),
      lastHeartbeat: null,
      latency: null,
      lastPing: null,
      ping,
    };
    this.rows.set(spark.id, row);
    this.counts.connections++;
    spark.on('incoming::data', this.onIncoming);
    spark.on('outgoing::data', this.onOutgoing);
    spark.on('incoming::ping', this.pingListener);
    if (this.listed.size < this.maxSparks) {
      this.listed.add(spark.id);
      this.pending.connected.push(this.public(row));
    }
  }

  /** A spark ended. */
  remove(spark: Spark): void {
    const row = this.rows.get(spark.id);
    if (!row) return;
    this.rows.delete(spark.id);
    this.counts.disconnections++;
    const gone: DisconnectionRow = { id: row.id, address: row.address, reason: spark.endReason ?? 'server', connectedAt: row.connectedAt, at: Date.now() };
    this.recent.unshift(gone);
    if (this.recent.length > this.history) this.recent.length = this.history;
    this.pending.disconnected.push(gone);
    if (this.listed.delete(spark.id)) {
      this.pending.updated.delete(spark.id);
      this.pending.connected = this.pending.connected.filter((r) => r.id !== spark.id);
    }
  }

  /** Close the current interval: its rates, appended to the series. */
  sample(now = Date.now()): Sample {
    const seconds = Math.max((now - this.lastSample) / 1000, 0.001);
    const c = this.counts;
    const sample: Sample = {
      t: now,
      received: c.received / seconds,
      sent: c.sent / seconds,
      connections: c.connections / seconds,
      disconnections: c.disconnections / seconds,
      sparks: this.rows.size,
    };
    this.counts = { received: 0, sent: 0, connections: 0, disconnections: 0 };
    this.lastSample = now;
    this.series.push(sample);
    if (this.series.length > this.samples) this.series.shift();
    return sample;
  }

  /** The changes since the last call, or undefined when nothing changed. */
  flush(): Changes | undefined {
    const { connected, disconnected, updated } = this.pending;
    if (!connected.length && !disconnected.length && !updated.size) return undefined;
    this.pending = { connected: [], disconnected: [], updated: new Set() };
    const rows: Changes['updated'] = [];
    for (const id of updated) {
      const row = this.rows.get(id);
      if (row) rows.push({ id, lastHeartbeat: row.lastHeartbeat, latency: row.latency });
    }
    return { connected, disconnected, updated: rows, sparkCount: this.rows.size };
  }

  /** Everything the page needs when it (re)connects. */
  snapshot(): { sparks: SparkRow[]; sparkCount: number; disconnections: DisconnectionRow[]; series: Sample[] } {
    const sparks: SparkRow[] = [];
    for (const id of this.listed) {
      const row = this.rows.get(id);
      if (row) sparks.push(this.public(row));
    }
    return { sparks, sparkCount: this.rows.size, disconnections: [...this.recent], series: [...this.series] };
  }

  private public(row: Tracked): SparkRow {
    return { id: row.id, address: row.address, transformer: row.transformer, connectedAt: row.connectedAt, lastHeartbeat: row.lastHeartbeat, latency: row.latency };
  }
}
