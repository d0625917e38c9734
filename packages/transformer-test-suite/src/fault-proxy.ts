import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** `up` is client → server, `down` is server → client. */
export type Direction = 'up' | 'down';

/**
 * `pass` forwards; `cut` destroys every connection (and every new one); `blackhole` forwards
 * nothing in either direction but closes nothing, like a partitioned network: bytes wait (as TCP
 * would keep retransmitting them) and flow again once the mode goes back to `pass`.
 */
export type Mode = 'pass' | 'cut' | 'blackhole';

/** A TCP proxy between clients and one server that can be told to misbehave. */
export interface FaultProxy {
  /** The port the proxy listens on (127.0.0.1). */
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Connections currently open through the proxy. */
  readonly connections: number;
  setMode(mode: Mode): void;
  /** One-way latency added to every chunk in `direction`, in ms (0 = none). */
  delay(direction: Direction, ms: number): void;
  /** Limit `direction` to this many bytes per second (0 = unlimited). */
  throttle(direction: Direction, bytesPerSecond: number): void;
  /** Hold every byte in `direction` (existing and new connections) until `uncork`. */
  cork(direction: Direction): void;
  uncork(direction: Direction): void;
  /** Destroy every connection and stop listening. */
  close(): Promise<void>;
}

interface Settings {
  mode: Mode;
  delay: Record<Direction, number>;
  rate: Record<Direction, number>;
  corked: Record<Direction, boolean>;
}

/** The proxy stops reading a source once this much is queued, so a held lane is back-pressure, not memory. */
const QUEUE_LIMIT = 64 * 1024;

/** One direction of one connection: an ordered queue of chunks with their release times. */
class Lane {
  private queue: { chunk: Buffer; due: number }[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Throttle: the earliest time the next byte may leave. */
  private nextFree = 0;
  private waitingForDrain = false;
  private ended = false;

  constructor(
    private readonly direction: Direction,
    private readonly source: net.Socket,
    private readonly dest: net.Socket,
    private readonly settings: Settings,
  ) {
    source.on('data', (chunk: Buffer) => {
      this.queue.push({ chunk, due: Date.now() + settings.delay[direction] });
      this.queued += chunk.length;
      if (this.queued >= QUEUE_LIMIT) source.pause();
      this.pump();
    });
    source.on('end', () => {
      this.ended = true;
      this.pump();
    });
    dest.on('drain', () => {
      this.waitingForDrain = false;
      this.pump();
    });
  }

  private held(): boolean {
    return this.settings.mode !== 'pass' || this.settings.corked[this.direction];
  }

  /** Send what is due, in order; re-arm a timer for what is not yet. */
  pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.dest.destroyed) return;
    if (this.held()) {
      this.source.pause();
      return;
    }
    const rate = this.settings.rate[this.direction];
    while (this.queue.length > 0 && !this.waitingForDrain) {
      const head = this.queue[0]!;
      const now = Date.now();
      const wait = Math.max(head.due - now, rate > 0 ? this.nextFree - now : 0);
      if (wait > 0) {
        this.timer = setTimeout(() => this.pump(), wait);
        return;
      }
      let chunk = head.chunk;
      if (rate > 0) {
        // At most a tenth of a second's worth at once, so a throttled lane trickles rather than bursts.
        const slice = Math.max(1, Math.floor(rate / 10));
        if (chunk.length > slice) {
          head.chunk = chunk.subarray(slice);
          chunk = chunk.subarray(0, slice);
        } else this.queue.shift();
        this.nextFree = Math.max(now, this.nextFree) + (chunk.length * 1000) / rate;
      } else this.queue.shift();
      this.queued -= chunk.length;
      if (!this.dest.write(chunk)) this.waitingForDrain = true;
    }
    if (this.queue.length === 0 && this.ended) {
      this.dest.end();
      return;
    }
    if (this.queued < QUEUE_LIMIT && !this.ended) this.source.resume();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** Start a fault proxy on a random port in front of `target` (a port of 127.0.0.1). */
export async function startFaultProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<FaultProxy> {
  const settings: Settings = {
    mode: 'pass',
    delay: { up: 0, down: 0 },
    rate: { up: 0, down: 0 },
    corked: { up: false, down: false },
  };
  const pairs = new Set<{ client: net.Socket; server: net.Socket; lanes: Lane[] }>();

  const destroyPair = (pair: { client: net.Socket; server: net.Socket; lanes: Lane[] }): void => {
    for (const lane of pair.lanes) lane.stop();
    pair.client.destroy();
    pair.server.destroy();
    pairs.delete(pair);
  };

  const proxy = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    if (settings.mode === 'cut') {
      client.destroy();
      return;
    }
    const server = net.connect({ port: targetPort, host: targetHost, allowHalfOpen: true });
    const pair = { client, server, lanes: [] as Lane[] };
    pair.lanes.push(new Lane('up', client, server, settings), new Lane('down', server, client, settings));
    pairs.add(pair);
    for (const socket of [client, server]) {
      socket.on('error', () => destroyPair(pair));
      // A side that is gone entirely (not just half-closed) takes the other with it.
      socket.on('close', () => destroyPair(pair));
    }
    client.resume();
    for (const lane of pair.lanes) lane.pump();
  });

  await new Promise<void>((resolve, reject) => {
    proxy.once('error', reject);
    proxy.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (proxy.address() as AddressInfo).port;
  const pumpAll = (): void => {
    for (const pair of pairs) for (const lane of pair.lanes) lane.pump();
  };

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return pairs.size;
    },
    setMode(mode) {
      settings.mode = mode;
      if (mode === 'cut') for (const pair of [...pairs]) destroyPair(pair);
      else pumpAll();
    },
    delay(direction, ms) {
      settings.delay[direction] = ms;
    },
    throttle(direction, bytesPerSecond) {
      settings.rate[direction] = bytesPerSecond;
      pumpAll();
    },
    cork(direction) {
      settings.corked[direction] = true;
    },
    uncork(direction) {
      settings.corked[direction] = false;
      pumpAll();
    },
    close() {
      for (const pair of [...pairs]) destroyPair(pair);
      return new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
