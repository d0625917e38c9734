import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The soak's process scripts, shipped with this package. */
const soakDir = join(__dirname, '..', 'soak');

/** File descriptors a process needs besides one per connection (node, libuv, IPC, modules). */
const FD_HEADROOM = 1024;

/** Exit status of the launcher when the open-file limit cannot be raised enough. */
const NO_FILE_LIMIT = 97;

// Raises the open-file limit, then replaces itself with node. `ulimit -n` is per process and
// inherited, so the limit is raised here, for the soak's processes only, instead of asking whoever
// runs the test to raise it in their shell. The soft limit goes up to the hard limit when that is
// enough (the soak asserts descriptors per connection itself, so room to spare hides nothing);
// otherwise the hard limit is raised too, which only root (CAP_SYS_RESOURCE) may do.
const LAUNCHER = `
need=$1; shift
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge "$need" ]; then
  ulimit -Sn "$hard" 2>/dev/null || ulimit -Sn "$need"
else
  ulimit -n "$need" 2>/dev/null || {
    echo "soak: cannot raise the open-file limit to $need: the hard limit is $hard and this user may not raise it (run as root, raise it with 'ulimit -Hn $need' or limits.conf, or run a smaller soak)" >&2
    exit ${NO_FILE_LIMIT}
  }
fi
exec "$@"
`;

/** Memory figures a soak process reports (bytes). */
export interface Memory {
  heapUsed: number;
  /** The heap without compiled code: the objects a leak would consist of. */
  objects: number;
  /** Compiled code, which V8 grows and shrinks as it optimises. */
  code: number;
  rss: number;
  external: number;
  arrayBuffers: number;
}

/** The server's `snapshot` reply. */
export interface ServerSnapshot {
  mem: Memory;
  /** CPU and monotonic clock (ms) before and after the garbage collections of this snapshot. */
  cpuBeforeGc: NodeJS.CpuUsage;
  atBeforeGc: number;
  cpu: NodeJS.CpuUsage;
  at: number;
  /** `primus.connected` */
  connected: number;
  /** Entries of `primus.connections` */
  sparks: number;
  /** TCP connections the HTTP server holds (`server.getConnections()`) */
  sockets: number;
  /** Open file descriptors of the server process */
  fds: number;
  /** Sparks constructed and not yet freed by the garbage collector */
  sparksAlive: number;
  counters: { sparks: number; connections: number; disconnections: number; flatlines: number; skippedHeartbeats: number; errors: number };
  /** `process.getActiveResourcesInfo()` counted by kind (timers here are the referenced ones) */
  resources: Record<string, number>;
}

type Message = { type: string; id?: number; error?: string; [key: string]: any };

/**
 * One soak process (soak/server.mjs or soak/load.mjs), spawned with --expose-gc and a raised
 * open-file limit, spoken to over IPC. Every wait is bounded, and a crash or a `fatal` report
 * rejects every pending request with the process's own words.
 */
export class SoakProcess {
  private readonly proc: ChildProcess;
  private readonly pending = new Map<number, { resolve: (msg: Message) => void; reject: (err: Error) => void }>();
  private nextId = 1;
  private stderr = '';
  private failure: Error | null = null;
  private readonly exited: Promise<void>;
  /** The process's first message: `{ type: 'ready', pid, fileLimit, fds, port? }`. */
  readonly ready: Promise<Message>;

  private constructor(
    readonly label: string,
    script: string,
    params: Record<string, unknown>,
    fileLimit: number,
  ) {
    this.proc = spawn('bash', ['-c', LAUNCHER, 'soak', String(fileLimit), process.execPath, '--expose-gc', join(soakDir, script), JSON.stringify(params)], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', (chunk: string) => {
      // The tail is enough to explain a failure; a chatty process must not grow the test's memory.
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    let onReady: (msg: Message) => void;
    const readyMessage = new Promise<Message>((resolve) => (onReady = resolve));
    this.proc.on('message', (msg: Message) => {
      if (msg.type === 'ready') onReady(msg);
      else if (msg.type === 'fatal') this.fail(new Error(`${this.label}: ${msg.error}`));
      else if (msg.type === 'reply' && msg.id !== undefined) {
        this.pending.get(msg.id)?.resolve(msg);
        this.pending.delete(msg.id);
      }
    });
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        const why = code === NO_FILE_LIMIT ? 'could not raise its open-file limit' : `exited (${code ?? signal})`;
        this.fail(new Error(`${this.label} ${why}${this.stderr ? `:\n${this.stderr.trim()}` : ''}`));
        resolve();
      });
    });
    this.ready = Promise.race([readyMessage, this.exited.then(() => Promise.reject(this.failure))]);
    this.ready.catch(() => {});
  }

  /**
   * Start `script` from the soak directory with `params` (one JSON argument) and an open-file limit
   * of at least `sockets` plus headroom; resolves once it is ready.
   */
  static async start(script: 'server.mjs' | 'load.mjs', label: string, params: Record<string, unknown>, sockets: number): Promise<{ child: SoakProcess; ready: Message }> {
    const need = sockets + FD_HEADROOM;
    const child = new SoakProcess(label, script, params, need);
    const ready = await withTimeout(child.ready, 60_000, `${label} to start`);
    if (typeof ready.fileLimit === 'number' && ready.fileLimit < need) {
      await child.stop();
      throw new Error(`${label}: its open-file limit is ${ready.fileLimit}, the soak needs ${need}`);
    }
    return { child, ready };
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const waiter of this.pending.values()) waiter.reject(this.failure);
    this.pending.clear();
  }

  /** Send a command and wait for its reply (at most `timeoutMs`). */
  request<T = Message>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const reply = new Promise<Message>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.proc.send({ cmd, id, ...args });
    return withTimeout(reply, timeoutMs, `${this.label}'s reply to "${cmd}"`) as Promise<T>;
  }

  /** Ask the process to exit; kill it (by its own pid) if it has not within a few seconds. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    if (this.proc.connected) this.proc.send({ cmd: 'stop' });
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}

/** What a heap snapshot holds, by the kinds of node V8 reports (bytes, self sizes). */
export interface Census {
  /**
   * JavaScript's own data: objects, closures, arrays (their property and element stores included),
   * strings and numbers. Compiled code, its metadata and V8's internal bookkeeping ('code',
   * 'hidden', 'object shape') are left out: V8 grows and shrinks them as it optimises, by hundreds
   * of KB, with nothing retained. So are the memory blocks behind ArrayBuffers (`buffers`).
   */
  js: number;
  /**
   * The memory blocks behind ArrayBuffers, Buffers and typed arrays. They come in sizes set by
   * capacity rather than use (Node's 8 KB Buffer pool slabs, a transformer's buffer grown for its
   * busiest moment and kept), so they are counted apart from `js`: a leaked Buffer still shows
   * there, as the objects that hold it.
   */
  buffers: number;
  byType: Record<string, number>;
  /**
   * The JavaScript data by what it is: objects and closures by constructor or function name
   * (`object:Spark`, `closure:onclose`), everything else by type. What a failed leak check names.
   */
  byKind: Record<string, number>;
}

/** How a heap snapshot names the memory block behind an ArrayBuffer. */
const BUFFER_MEMORY = 'native:system / JSArrayBufferData';

/** Types whose node names are contents (a string's text, a number's value), not what made them. */
const NAMELESS = new Set(['string', 'concatenated string', 'sliced string', 'number', 'bigint', 'regexp', 'array']);

const NOT_JS = new Set(['code', 'hidden', 'object shape', 'synthetic']);

/** Sum a V8 heap snapshot (the .heapsnapshot JSON) by node type. */
export function census(file: string): Census {
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const { node_fields: fields, node_types: nodeTypes } = snapshot.snapshot.meta;
  const stride = fields.length;
  const typeAt = fields.indexOf('type');
  const sizeAt = fields.indexOf('self_size');
  const nameAt = fields.indexOf('name');
  const byType: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  let js = 0;
  let buffers = 0;
  const { nodes, strings } = snapshot;
  for (let i = 0; i < nodes.length; i += stride) {
    const type = nodeTypes[0][nodes[i + typeAt]!]!;
    const size = nodes[i + sizeAt]!;
    byType[type] = (byType[type] ?? 0) + size;
    if (NOT_JS.has(type)) continue;
    const kind = NAMELESS.has(type) ? type : `${type}:${strings[nodes[i + nameAt]!] ?? '?'}`;
    byKind[kind] = (byKind[kind] ?? 0) + size;
    if (kind === BUFFER_MEMORY) buffers += size;
    else js += size;
  }
  return { js, buffers, byType, byKind };
}

/**
 * What grew most between two censuses, largest first, as `kind +bytes` (for instance
 * `object:Spark +1280`): where to look when the JavaScript data ended above its baseline.
 */
export function grewMost(before: Census, after: Census, count = 8): string[] {
  const growth: [string, number][] = [];
  for (const kind of new Set([...Object.keys(before.byKind), ...Object.keys(after.byKind)])) {
    if (kind === BUFFER_MEMORY) continue;
    const grew = (after.byKind[kind] ?? 0) - (before.byKind[kind] ?? 0);
    if (grew > 0) growth.push([kind, grew]);
  }
  return growth
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([kind, grew]) => `${kind} +${grew}`);
}

/**
 * A snapshot after full GCs, with a census of the server's heap. The heap snapshot is deleted
 * afterwards unless `SOAK_HEAP_SNAPSHOTS` names a directory to keep it in (as `<label>.heapsnapshot`,
 * to open in Chrome's DevTools and compare).
 */
async function counted(server: SoakProcess, label: string): Promise<ServerSnapshot & { census: Census }> {
  const keep = process.env.SOAK_HEAP_SNAPSHOTS;
  if (keep) mkdirSync(keep, { recursive: true });
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'primus-soak-'));
  try {
    const file = join(dir, `${label.replace(/[^\w.-]+/g, '-')}.heapsnapshot`);
    const snap = await server.request<ServerSnapshot>('snapshot', { gc: true, heapSnapshot: file }, 120_000);
    return { ...snap, census: census(file) };
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

/** Poll the server until it holds no spark and no TCP connection, and return that snapshot. */
export async function untilIdle(server: SoakProcess, ms: number, what: string): Promise<ServerSnapshot> {
  const start = Date.now();
  for (;;) {
    const snap = await server.request<ServerSnapshot>('snapshot', { gc: false });
    if (snap.connected === 0 && snap.sparks === 0 && snap.sockets === 0) return snap;
    if (Date.now() - start > ms) {
      throw new Error(`${what}: after ${ms} ms the server still has ${snap.connected} connected sparks, ${snap.sparks} in primus.connections and ${snap.sockets} TCP connections`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** CPU time (ms) between two readings. */
export function cpuMs(from: NodeJS.CpuUsage, to: NodeJS.CpuUsage): number {
  return (to.user - from.user + to.system - from.system) / 1000;
}

/** What the hold scenario measured. */
export interface HoldResult {
  transformer: string;
  connections: number;
  holdMs: number;
  ping: number;
  pong: number;
  /** Wall time to open every connection, each proven with one echo (ms). */
  openMs: number;
  /** Pongs per client during the hold: the fewest any client got, and the most. */
  pongsMin: number;
  pongsMax: number;
  /** Clients that closed or reported an error during the hold, and server-side disconnections/flatlines before the release. */
  dropped: number;
  clientErrors: number;
  disconnections: number;
  flatlines: number;
  skippedHeartbeats: number;
  /** Server heap and RSS after GC: warmed up before connecting, at the start and at the end of the hold, after the release (bytes). */
  heapBefore: number;
  heapStart: number;
  heapEnd: number;
  heapAfter: number;
  rssBefore: number;
  rssEnd: number;
  /** Heap without the code space gained during the hold (bytes). */
  objectsGrowthDuringHold: number;
  /** Heap, and JavaScript data (see `Census`), kept after the release compared with before connecting (bytes). */
  heapGrowthAfterRelease: number;
  jsGrowthAfterRelease: number;
  /** What grew most in that JavaScript data (see `grewMost`). */
  jsGrewMostAfterRelease: string[];
  /** Memory behind ArrayBuffers (see `Census.buffers`) kept after the release (bytes). */
  buffersGrowthAfterRelease: number;
  /** (end of the hold − before connecting) / connections, bytes. */
  heapPerConnection: number;
  rssPerConnection: number;
  /** Server file descriptors per connection at the end of the hold. */
  fdsPerConnection: number;
  /** Server CPU during the hold, percent of one core. */
  serverCpuPercent: number;
  /** The client process's heap after GC per held client (bytes). */
  clientHeapPerConnection: number;
  /** Sparks still alive after the release and GC. */
  sparksAliveAfter: number;
}

/** Options of the hold scenario. */
export interface HoldOptions {
  transformer: string;
  connections: number;
  holdMs: number;
  ping: number;
  pong: number;
  concurrency: number;
  /** Connect/disconnect cycles before the baseline. */
  warmup: number;
}

/**
 * Open `connections` real clients against a server in its own process, hold them for `holdMs` with
 * their heartbeats running, and measure the server before, during and after.
 */
export async function hold(entry: string, o: HoldOptions): Promise<HoldResult> {
  const lifetimeMs = o.holdMs + 15 * 60_000;
  const { child: server, ready } = await SoakProcess.start('server.mjs', `${o.transformer} server`, { transformer: entry, lifetimeMs }, o.connections);
  let load: SoakProcess | undefined;
  try {
    load = (await SoakProcess.start('load.mjs', `${o.transformer} clients`, { transformer: entry, port: ready.port, ping: o.ping, pong: o.pong, lifetimeMs }, o.connections)).child;
    // Connect/disconnect cycles first, so that what exists once per process (compiled code, the
    // framework's caches and pools) is in the baseline rather than spread over the connections.
    await load.request('cycles', { count: o.warmup, concurrency: o.concurrency }, 10 * 60_000);
    await untilIdle(server, 60_000, 'after the warm-up');
    // Then a rehearsal at full size: every connection opened and released once. What a transformer
    // sizes to its busiest moment and keeps (a buffer of one loop iteration's events, grown for
    // the release's thousands of closes) is then in the baseline too, not counted as kept memory.
    await load.request('open', { count: o.connections, concurrency: o.concurrency }, 10 * 60_000);
    await load.request('release');
    await untilIdle(server, 60_000, 'after the rehearsal');
    const before = await counted(server, `${o.transformer}-hold-before`);
    const loadBefore = await load.request<{ mem: Memory }>('memory');
    const opened = await load.request<{ opened: number; wallMs: number }>('open', { count: o.connections, concurrency: o.concurrency }, 10 * 60_000);
    const start = await server.request<ServerSnapshot>('snapshot', { gc: true });
    const held = await load.request<{ pongs: { min: number; max: number }; dropped: number; errors: number; mem: Memory }>('hold', { ms: o.holdMs }, o.holdMs + 5 * 60_000);
    const end = await server.request<ServerSnapshot>('snapshot', { gc: true });
    await load.request('release');
    await untilIdle(server, 60_000, 'after releasing the held clients');
    const after = await counted(server, `${o.transformer}-hold-after`);
    return {
      transformer: o.transformer,
      connections: opened.opened,
      holdMs: o.holdMs,
      ping: o.ping,
      pong: o.pong,
      openMs: opened.wallMs,
      pongsMin: held.pongs.min,
      pongsMax: held.pongs.max,
      dropped: held.dropped,
      clientErrors: held.errors,
      disconnections: end.counters.disconnections - before.counters.disconnections,
      flatlines: end.counters.flatlines - before.counters.flatlines,
      skippedHeartbeats: end.counters.skippedHeartbeats - before.counters.skippedHeartbeats,
      heapBefore: before.mem.heapUsed,
      heapStart: start.mem.heapUsed,
      heapEnd: end.mem.heapUsed,
      heapAfter: after.mem.heapUsed,
      rssBefore: before.mem.rss,
      rssEnd: end.mem.rss,
      objectsGrowthDuringHold: end.mem.objects - start.mem.objects,
      heapGrowthAfterRelease: after.mem.heapUsed - before.mem.heapUsed,
      jsGrowthAfterRelease: after.census.js - before.census.js,
      jsGrewMostAfterRelease: grewMost(before.census, after.census),
      buffersGrowthAfterRelease: after.census.buffers - before.census.buffers,
      heapPerConnection: (end.mem.heapUsed - before.mem.heapUsed) / o.connections,
      rssPerConnection: (end.mem.rss - before.mem.rss) / o.connections,
      fdsPerConnection: (end.fds - before.fds) / o.connections,
      serverCpuPercent: (100 * cpuMs(start.cpu, end.cpuBeforeGc)) / (end.atBeforeGc - start.at),
      clientHeapPerConnection: (held.mem.heapUsed - loadBefore.mem.heapUsed) / o.connections,
      sparksAliveAfter: after.sparksAlive,
    };
  } finally {
    await load?.stop();
    await server.stop();
  }
}

/** What the cycles scenario measured. */
export interface CyclesResult {
  transformer: string;
  cycles: number;
  concurrency: number;
  warmup: number;
  wallMs: number;
  /** Server heap after GC once warmed up and idle, and after the cycles once idle again (bytes). */
  heapBaseline: number;
  heapAfter: number;
  heapGrowth: number;
  /** Growth of the JavaScript data in the heap (see `Census`), and of the code space (bytes). */
  jsGrowth: number;
  /** What grew most in that JavaScript data (see `grewMost`). */
  jsGrewMost: string[];
  /** Growth of the memory behind ArrayBuffers (see `Census.buffers`). */
  buffersGrowth: number;
  jsBaseline: number;
  codeGrowth: number;
  rssBaseline: number;
  rssAfter: number;
  /** Server state after the cycles, once idle. */
  connected: number;
  sockets: number;
  sparksAlive: number;
  fdsBaseline: number;
  fdsAfter: number;
  timersBaseline: number;
  timersAfter: number;
  /** Server counters over the whole run (warm-up included). */
  connections: number;
  disconnections: number;
  errors: number;
  /** Time from the last cycle to a server with no spark and no TCP connection (ms). */
  settleMs: number;
}

/** Options of the cycles scenario. */
export interface CyclesOptions {
  transformer: string;
  cycles: number;
  concurrency: number;
  warmup: number;
  /** How long the server may take to notice the last clients left (ms). */
  settleMs: number;
}

/**
 * Connect, echo once and disconnect `cycles` times (`concurrency` at a time) against a server in
 * its own process, after a warm-up that lets every lazily built cache exist before the baseline.
 */
export async function cycles(entry: string, o: CyclesOptions): Promise<CyclesResult> {
  const lifetimeMs = 30 * 60_000;
  // Each cycle's client may still hold its socket while the next opens; polling clients hold a few.
  const fds = o.concurrency * 8;
  const { child: server, ready } = await SoakProcess.start('server.mjs', `${o.transformer} server`, { transformer: entry, lifetimeMs }, fds);
  let load: SoakProcess | undefined;
  try {
    load = (await SoakProcess.start('load.mjs', `${o.transformer} clients`, { transformer: entry, port: ready.port, ping: 25_000, pong: 10_000, lifetimeMs }, fds)).child;
    await load.request('cycles', { count: o.warmup, concurrency: o.concurrency }, 10 * 60_000);
    await untilIdle(server, o.settleMs, 'after the warm-up');
    const baseline = await counted(server, `${o.transformer}-cycles-before`);
    const run = await load.request<{ wallMs: number }>('cycles', { count: o.cycles, concurrency: o.concurrency }, 60 * 60_000);
    const cyclesDone = Date.now();
    await untilIdle(server, o.settleMs, `after ${o.cycles} cycles`);
    const settleMs = Date.now() - cyclesDone;
    const after = await counted(server, `${o.transformer}-cycles-after`);
    return {
      transformer: o.transformer,
      cycles: o.cycles,
      concurrency: o.concurrency,
      warmup: o.warmup,
      wallMs: run.wallMs,
      heapBaseline: baseline.mem.heapUsed,
      heapAfter: after.mem.heapUsed,
      heapGrowth: after.mem.heapUsed - baseline.mem.heapUsed,
      jsGrowth: after.census.js - baseline.census.js,
      jsGrewMost: grewMost(baseline.census, after.census),
      buffersGrowth: after.census.buffers - baseline.census.buffers,
      jsBaseline: baseline.census.js,
      codeGrowth: after.mem.code - baseline.mem.code,
      rssBaseline: baseline.mem.rss,
      rssAfter: after.mem.rss,
      connected: after.connected,
      sockets: after.sockets,
      sparksAlive: after.sparksAlive,
      fdsBaseline: baseline.fds,
      fdsAfter: after.fds,
      timersBaseline: baseline.resources.Timeout ?? 0,
      timersAfter: after.resources.Timeout ?? 0,
      connections: after.counters.connections,
      disconnections: after.counters.disconnections,
      errors: after.counters.errors,
      settleMs,
    };
  } finally {
    await load?.stop();
    await server.stop();
  }
}
