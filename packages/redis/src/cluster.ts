import { randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import { invalidValue, MemoryRecoveryStore, type LogLevel, type Plugin, type RecoveryStore, type ResolvedRecovery, type Spark } from '@primus/core';
import { ClusterRecovery } from './cluster-recovery';
import { endpoint } from './endpoint';
import { pack, unpack, type Header, type Payload } from './envelope';
import { ClusterError } from './errors';
import { check, type ResolvedClusterOptions } from './options';
import { defineScripts, type ClusterCommands } from './scripts';

/** The Primus server a plugin is given. */
export type PrimusServer = Parameters<NonNullable<Plugin['server']>>[0];

/** How a `cluster.send()` ended: a spark took it, no live spark has that id, or it failed (it rejected). */
export type SendOutcome = 'delivered' | 'not-found' | 'failed';

/** Events of `primus.cluster`. */
export interface ClusterEvents {
  /** This server is registered and subscribed: cluster operations work. Fires again after every reconnection. */
  up: [];
  /** Redis was lost; local delivery goes on and the plugin reconnects on its own. */
  down: [err: Error | undefined];
  /** The cluster was shut down with its server. */
  close: [];
  /** A broadcast of this server (`primus.write()` or `broadcast()`) reached Redis. */
  published: [];
  /** A broadcast of another server arrived and went to this server's sparks. */
  received: [];
  /** A `send()` settled, after `ms` milliseconds (local sparks included). */
  send: [ms: number, outcome: SendOutcome];
}

interface Pending {
  resolve(ok: boolean): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

type Client = Redis & ClusterCommands;

/**
 * Put the Redis store in place of the in-memory one. A store of the application's own kind is
 * kept: it knows where its sessions should live (`redisCluster({ recovery: false })` is how to
 * keep them in memory).
 */
function useRecoveryStore(primus: PrimusServer, store: RecoveryStore): boolean {
  const recovery = primus.options.recovery;
  if (!recovery || recovery.store.constructor !== MemoryRecoveryStore) return false;
  (primus.options as { recovery: ResolvedRecovery }).recovery = Object.freeze({ ...recovery, store });
  return true;
}

/** Where Redis is, for error messages, without the password. */
function describe(url: string | undefined, redis: RedisOptions): string {
  if (!url) {
    if (redis.sentinels?.length) return `sentinel group "${redis.name ?? 'mymaster'}"`;
    return redis.path ?? `${redis.host ?? '127.0.0.1'}:${redis.port ?? 6379}`;
  }
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'redis';
  }
}

/** Sentinel's announcement of a new primary: `<name> <old-ip> <old-port> <new-ip> <new-port>`. */
const SWITCH_MASTER = '+switch-master';

/**
 * For how long after an announcement a connection that comes up on another primary is moved.
 * Sentinels tell each other of a new primary in hello messages every 2 s; past this, where the
 * sentinels send a connection is where it stays.
 */
const ANNOUNCED_MS = 5000;

/** The primary the sentinels announced last: where it is reached from here, and when. */
interface Announced {
  port: number;
  addresses: string[];
  at: number;
}

/** Where a primary that Sentinel announces is reached from here, through `natMap` as ioredis does. */
function natMapped(natMap: RedisOptions['natMap'], host: string, port: number): { host: string; port: number } {
  const key = `${host}:${port}`;
  return (typeof natMap === 'function' ? natMap(key) : natMap?.[key]) ?? { host, port };
}

/** An IPv4 address as a dual-stack socket may report it (`::ffff:10.0.0.1`), plain. */
const plain = (address: string | undefined): string | undefined => address?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');

/** Close a client for good without waiting for a server that may be gone. */
function shut(client: Redis, ms: number): Promise<void> {
  // disconnect() after the wait closes a connection whose server never answered QUIT; on an ended
  // connection it does nothing.
  const release = (): void => client.disconnect();
  if (client.status === 'end') {
    release();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      client.off('end', done);
      release();
      resolve();
    }
    client.once('end', done);
    if (client.status === 'ready') client.quit().catch(() => client.disconnect());
    else {
      client.disconnect();
      // Between reconnection attempts there is no socket, so no 'end' follows the disconnect.
      if (client.status === 'reconnecting') done();
    }
  });
}

/**
 * One server's membership of the cluster: `primus.cluster`. It keeps this server's sparks in the
 * Redis registry, relays broadcasts and sends between servers, and tells where sparks and servers
 * are (`send`, `sparks`, `servers`, `spark`).
 */
export class RedisCluster extends EventEmitter<ClusterEvents> {
  /** This server's id in the cluster. */
  readonly id: string;
  /** The options in use. */
  readonly options: Readonly<ResolvedClusterOptions>;

  private readonly primus: PrimusServer;
  private readonly pub: Client;
  private readonly sub: Redis;
  /** One connection to each sentinel, listening to its announcements of a new primary. */
  private readonly sentinels: Redis[];
  private readonly where: string;
  private readonly keys: { servers: string; sparks: string; sparkPrefix: string; broadcast: string; inbox: string; inboxPrefix: string };
  private readonly localWrite: (data: unknown) => boolean;
  private readonly timer: NodeJS.Timeout;
  private readonly pending = new Map<number, Pending>();
  /** Connection-state recovery through Redis, when the server has `recovery` on. */
  private readonly recovery: ClusterRecovery | undefined;
  private nextRequest = 1;
  /** The registry in Redis may differ from the local sparks: rewrite it at the next chance. */
  private dirty = true;
  private registered = false;
  private subscribed = false;
  private up = false;
  private closed = false;
  private warned = false;
  private lastError: Error | undefined;
  private announced: Announced | undefined;

  /** @internal Created by the plugin; use `primus.cluster`. */
  constructor(primus: PrimusServer, options: ResolvedClusterOptions) {
    super();
    // Checked before anything is started, so a bad path leaves nothing behind.
    let layer: ReturnType<typeof endpoint> | undefined;
    if (options.endpoint) {
      const path = options.endpoint.path ?? `${primus.pathname === '/' ? '' : primus.pathname}/cluster`;
      if (!path.startsWith(primus.pathname)) {
        check.fail('endpoint.path', `a path under the server's pathname "${primus.pathname}", which is all Primus answers`, path);
      }
      // The layer goes before the authorization layer: services authenticate with the shared
      // secret, not as clients.
      layer = endpoint(this, path, options.endpoint.secret, primus.options.maxLength);
    }
    this.primus = primus;
    this.options = options;
    this.id = options.id ?? randomUUID();
    this.where = describe(options.url, options.redis);
    const prefix = options.prefix;
    this.keys = {
      servers: `${prefix}:servers`,
      sparks: `${prefix}:sparks:${this.id}`,
      sparkPrefix: `${prefix}:sparks:`,
      broadcast: `${prefix}:broadcast`,
      inbox: `${prefix}:server:${this.id}`,
      inboxPrefix: `${prefix}:server:`,
    };

    const redisOptions: RedisOptions = {
      ...options.redis,
      // ioredis's failover detector closes a connection on every sentinel's announcement of a new
      // primary, and each sentinel announces it when it learns of it itself, the others after the
      // leader: a connection that had already moved to the new primary was closed again, and the
      // broadcasts meanwhile were lost a second time. watchSentinels() moves only the connections
      // that are not on the announced primary.
      failoverDetector: false,
      // Fail at once while Redis is away instead of queueing, which would keep callers waiting
      // for as long as the outage lasts.
      enableOfflineQueue: false,
      // A command in flight when the connection drops fails instead of being sent again after the
      // reconnection: a PUBLISH that Redis had already received would be delivered twice.
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      // Subscriptions and the registry are restored by the 'ready' handlers below.
      autoResubscribe: false,
      commandTimeout: options.timeout,
    };
    // ioredis lets the URL's parts win over the options, so the URL is left out when none was given.
    const connect = (name: string): Redis =>
      options.url ? new Redis(options.url, { ...redisOptions, connectionName: name }) : new Redis({ ...redisOptions, connectionName: name });
    this.pub = defineScripts(connect(`primus:${this.id}`));
    this.sub = connect(`primus:${this.id}:sub`);

    this.pub.on('ready', () => {
      if (!this.astray(this.pub)) void this.register();
    });
    this.sub.on('ready', () => {
      if (!this.astray(this.sub)) void this.subscribe();
    });
    this.pub.on('close', () => this.lost('registered'));
    this.sub.on('close', () => this.lost('subscribed'));
    // Without an error listener ioredis prints every failed reconnection attempt to the console.
    this.pub.on('error', (err: Error) => this.failed(err));
    this.sub.on('error', (err: Error) => this.failed(err));
    // ioredis gives a connection up for good ('end') when it is closed while it asks the sentinels
    // where the primary is, as follow() may do on an announcement. Only closing the cluster may
    // end such a connection, so start it again.
    if (redisOptions.sentinels?.length) for (const client of [this.pub, this.sub]) client.on('end', () => this.restart(client));
    this.sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => this.receive(message));
    this.sentinels = redisOptions.sentinels?.length ? this.watchSentinels(redisOptions) : [];

    this.timer = setInterval(() => void this.heartbeat(), options.heartbeat);
    this.timer.unref();

    const recovery = options.recovery ? primus.options.recovery : false;
    if (recovery) {
      const clusterRecovery = new ClusterRecovery(this.pub, primus, {
        id: this.id,
        prefix,
        broadcastChannel: this.keys.broadcast,
        inboxPrefix: this.keys.inboxPrefix,
        lease: options.ttl,
        window: recovery.window,
        maxMessages: recovery.maxMessages,
        up: () => this.up,
        published: () => void this.emit('published'),
        received: () => void this.emit('received'),
        warn: (operation, err) => this.warn(operation, err),
        log: (level, ...args) => this.log(level, ...args),
      });
      if (useRecoveryStore(primus, clusterRecovery.store)) this.recovery = clusterRecovery;
    }

    this.localWrite = primus.write.bind(primus);
    primus.write = (data: unknown): boolean => {
      const handled = this.recovery?.broadcast(data);
      if (handled !== undefined) return handled;
      const payload = this.fanOut(data);
      if (payload === undefined) return false;
      this.publish(this.keys.broadcast, pack({ t: 'b', f: this.id }, payload)).then(
        () => void this.emit('published'),
        (err: unknown) => this.warn('broadcast', err),
      );
      return true;
    };
    primus.on('connection', (spark: Spark) => this.added(spark));
    primus.on('disconnection', (spark: Spark) => this.removed(spark));
    primus.on('close', () => this.close());

    if (layer) primus.before('cluster', layer, primus.indexOfLayer('authorization'));
  }

  /** Whether this server is registered and subscribed, so cluster operations can work. */
  get available(): boolean {
    return this.up;
  }

  /** Resolve once this server is registered and subscribed; reject after `ms` or when it is closed. */
  ready(ms = this.options.timeout): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError('ready'));
    if (this.up) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        this.off('up', onUp);
        this.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onUp = (): void => finish();
      const onClose = (): void => finish(this.closedError('ready'));
      const timer = setTimeout(() => finish(this.unavailable('ready')), ms);
      this.on('up', onUp);
      this.on('close', onClose);
    });
  }

  /**
   * Broadcast to every spark on every server, like `primus.write()`, and resolve once Redis took
   * the message. Local sparks get it first, whatever happens; it rejects when the other servers
   * could not be reached.
   */
  async broadcast(data: unknown): Promise<void> {
    this.assertOpen('broadcast');
    if (this.recovery && !this.primus.transformers.outgoing.length) {
      this.assertReachable('broadcast');
      const published = this.recovery.publish(data);
      if (!published) throw this.encodeError('broadcast');
      await this.command('broadcast', published);
      return;
    }
    this.recovery?.unchain();
    const payload = this.fanOut(data);
    if (payload === undefined) throw this.encodeError('broadcast');
    this.assertReachable('broadcast');
    await this.command('broadcast', this.publish(this.keys.broadcast, pack({ t: 'b', f: this.id }, payload)));
    this.emit('published');
  }

  /**
   * Send to one spark, wherever it is connected. Resolves true when a live spark received it,
   * false when no server holds that spark. Rejects when Redis or the spark's server cannot answer
   * within `timeout`; a local spark is written to directly, even while Redis is away.
   */
  async send(sparkId: string, data: unknown): Promise<boolean> {
    this.assertOpen('send');
    if (typeof sparkId !== 'string') throw invalidValue("cluster.send()'s spark id", 'a string', sparkId, '@primus/redis');
    const started = performance.now();
    const local = this.primus.connections[sparkId];
    if (this.recovery && !local && this.up) {
      // A spark with a session in Redis takes the message wherever it is, or while its client is away.
      try {
        if (await this.command('send', this.recovery.send(sparkId, data))) {
          this.emit('send', performance.now() - started, 'delivered');
          return true;
        }
      } catch (err) {
        this.emit('send', performance.now() - started, 'failed');
        throw err;
      }
    }
    if (local) {
      const written = local.write(data);
      this.emit('send', performance.now() - started, 'delivered');
      return written;
    }
    try {
      const sent = await this.sendRemote(sparkId, data);
      this.emit('send', performance.now() - started, sent ? 'delivered' : 'not-found');
      return sent;
    } catch (err) {
      this.emit('send', performance.now() - started, 'failed');
      throw err;
    }
  }

  private async sendRemote(sparkId: string, data: unknown): Promise<boolean> {
    this.assertReachable('send');
    const deadline = Date.now() + this.options.timeout;
    const owner = await this.command('send', this.pub.primusLocate(this.keys.servers, this.keys.sparkPrefix, sparkId));
    if (!owner || owner === this.id) return false;
    const payload = this.primus.encodeBroadcast(data);
    if (payload === undefined) throw this.encodeError('send');
    const request = this.nextRequest++;
    const answer = this.expect(request, owner, deadline);
    try {
      const receivers = await this.command('send', this.publish(this.keys.inboxPrefix + owner, pack({ t: 's', f: this.id, r: request, s: sparkId }, payload)));
      // Nobody listens on the owner's channel: it died after its last heartbeat.
      if (receivers === 0) this.settle(request, false);
    } catch (err) {
      this.pending.get(request)?.reject(err as Error);
    }
    return answer;
  }

  /** The ids of every spark of every live server. */
  async sparks(): Promise<string[]> {
    this.assertOpen('sparks');
    this.assertReachable('sparks');
    return this.command('sparks', this.pub.primusSparks(this.keys.servers, this.keys.sparkPrefix));
  }

  /** The ids of the live servers, this one included once it has registered. */
  async servers(): Promise<string[]> {
    this.assertOpen('servers');
    this.assertReachable('servers');
    return this.command('servers', this.pub.primusServers(this.keys.servers));
  }

  /** The id of the server that holds this spark, or undefined when no live server does. */
  async spark(sparkId: string): Promise<string | undefined> {
    this.assertOpen('spark');
    if (this.primus.connections[sparkId]) return this.id;
    this.assertReachable('spark');
    const owner = await this.command('spark', this.pub.primusLocate(this.keys.servers, this.keys.sparkPrefix, sparkId));
    return owner ?? undefined;
  }

  /**
   * Leave the cluster: remove this server's registry at once, fail what is pending and close the
   * Redis connections. The server's `close` (from `primus.destroy()`) calls it.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.primus.write = this.localWrite;
    for (const request of [...this.pending.keys()]) this.pending.get(request)!.reject(this.closedError('send'));
    if (this.pub.status === 'ready') {
      try {
        await this.pub.multi().zrem(this.keys.servers, this.id).del(this.keys.sparks).exec();
      } catch (err) {
        // The lease runs out on its own within ttl.
        this.log(
          'warn',
          new ClusterError('PRIMUS_ERR_CLUSTER_UNAVAILABLE', `Could not remove this server from the registry at ${this.where}; it expires within ${this.options.ttl} ms`, {
            cause: err,
          }),
        );
      }
    }
    for (const sentinel of this.sentinels) sentinel.disconnect();
    await Promise.all([shut(this.pub, this.options.timeout), shut(this.sub, this.options.timeout)]);
    this.setUp(false);
    this.emit('close');
  }

  // ---- Broadcasts ----

  /** Deliver to the local sparks and return the payload for the other servers (undefined: nothing to send). */
  private fanOut(data: unknown): Payload | undefined {
    if (this.primus.transformers.outgoing.length) {
      // Outgoing message transformers run per spark, so the local write encodes per spark; the
      // other servers get the plain message and run their own transformers.
      this.localWrite(data);
      return this.primus.encodeBroadcast(data);
    }
    const payload = this.primus.encodeBroadcast(data);
    if (payload !== undefined) this.primus.writeEncoded(payload);
    return payload;
  }

  private publish(channel: string, message: string | Buffer): Promise<number> {
    return this.pub.publish(channel, message);
  }

  private receive(message: Buffer): void {
    if (this.recovery?.receive(message)) return;
    if (message[0] === 0x23) message = message.subarray(message.indexOf(0x0a) + 1);
    const envelope = unpack(message);
    if (!envelope) {
      this.log('debug', 'ignored a message on a cluster channel that is not from @primus/redis');
      return;
    }
    const { header, payload } = envelope;
    // Every server hears its own broadcasts; it delivered them locally already.
    if (header.f === this.id) return;
    if (header.t === 'b') this.deliverBroadcast(payload!);
    else if (header.t === 's') this.deliverSend(header, payload!);
    else if (header.t === 'd') this.primus.connections[header.s]?.sendEncoded(payload!);
    else if (header.t === 'a') this.settle(header.r, header.ok);
  }

  private deliverBroadcast(payload: Payload): void {
    if (!this.primus.transformers.outgoing.length) {
      this.primus.writeEncoded(payload);
    } else {
      const data = this.decode(payload);
      if (data === undefined) return;
      this.localWrite(data.value);
    }
    this.emit('received');
  }

  private deliverSend(header: Extract<Header, { t: 's' }>, payload: Payload): void {
    const spark = this.primus.connections[header.s];
    let ok = false;
    if (spark) {
      if (!this.primus.transformers.outgoing.length) ok = spark.sendEncoded(payload);
      else {
        const data = this.decode(payload);
        ok = data !== undefined && spark.write(data.value);
      }
    }
    this.publish(this.keys.inboxPrefix + header.f, pack({ t: 'a', f: this.id, r: header.r, ok })).catch((err: unknown) => this.warn('send', err));
  }

  private decode(payload: Payload): { value: unknown } | undefined {
    try {
      return { value: this.primus.decode(payload) };
    } catch (err) {
      this.log('error', new ClusterError('PRIMUS_ERR_CLUSTER_ENCODE', 'A message from another server could not be decoded: do all servers use the same parser?', { cause: err }));
      return undefined;
    }
  }

  // ---- Sends: request and answer over pub/sub ----

  private expect(request: number, owner: string, deadline: number): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.pending.delete(request);
          reject(
            new ClusterError(
              'PRIMUS_ERR_CLUSTER_TIMEOUT',
              `cluster.send(): server ${owner} did not answer within ${this.options.timeout} ms; the message may or may not have arrived`,
            ),
          );
        },
        Math.max(deadline - Date.now(), 0),
      );
      const done = (): void => {
        clearTimeout(timer);
        this.pending.delete(request);
      };
      this.pending.set(request, {
        resolve: (ok) => (done(), resolve(ok)),
        reject: (err) => (done(), reject(err)),
        timer,
      });
    });
  }

  private settle(request: number, ok: boolean): void {
    this.pending.get(request)?.resolve(ok);
  }

  // ---- The registry ----

  private added(spark: Spark): void {
    if (this.closed) return;
    this.recovery?.connected(spark, spark.write);
    if (!this.registered) {
      this.dirty = true;
      return;
    }
    this.pub
      .multi()
      .sadd(this.keys.sparks, spark.id)
      .pexpire(this.keys.sparks, this.options.ttl)
      .exec()
      .then((results) => {
        if (results?.some(([err]) => err)) this.dirty = true;
      })
      .catch(() => void (this.dirty = true));
  }

  private removed(spark: Spark): void {
    if (this.closed) return;
    if (!this.registered) {
      this.dirty = true;
      return;
    }
    this.pub.srem(this.keys.sparks, spark.id).catch(() => void (this.dirty = true));
  }

  /** Write this server's whole registry: on every (re)connection and whenever an update was lost. */
  private async register(): Promise<void> {
    if (this.closed || this.pub.status !== 'ready') return;
    this.dirty = false;
    try {
      await this.pub.primusRegister(this.keys.servers, this.keys.sparks, this.id, this.options.ttl, ...Object.keys(this.primus.connections));
      this.registered = true;
    } catch (err) {
      this.dirty = true;
      this.failed(err as Error);
    }
    this.update();
  }

  private async heartbeat(): Promise<void> {
    if (this.closed || this.pub.status !== 'ready') return;
    if (this.dirty || !this.registered) return this.register();
    try {
      const exists = await this.pub.primusHeartbeat(this.keys.servers, this.keys.sparks, this.id, this.options.ttl);
      await this.recovery?.renew();
      await this.recovery?.synchronise();
      // The registry vanished under us (a Redis restart we did not see, a flush, a lease that
      // ran out while this process was stalled): write it again.
      if (!exists && this.primus.connected > 0) await this.register();
    } catch (err) {
      this.failed(err as Error);
    }
  }

  private async subscribe(): Promise<void> {
    if (this.closed || this.sub.status !== 'ready') return;
    try {
      await this.sub.subscribe(this.keys.broadcast, this.keys.inbox);
      this.subscribed = true;
    } catch (err) {
      this.failed(err as Error);
    }
    this.update();
  }

  private lost(what: 'registered' | 'subscribed'): void {
    this[what] = false;
    if (what === 'subscribed') this.recovery?.lost();
    if (what === 'registered') this.dirty = true;
    // Answers to pending sends come through the subscription: without it they cannot arrive.
    else for (const request of [...this.pending.keys()]) this.pending.get(request)!.reject(this.unavailable('send'));
    this.update();
  }

  private update(): void {
    this.setUp(!this.closed && this.registered && this.subscribed && this.pub.status === 'ready' && this.sub.status === 'ready');
  }

  private setUp(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    // Learn where the cluster's order stands before sessions can start here.
    if (up) void this.recovery?.synchronise();
    if (up) {
      this.warned = false;
      this.lastError = undefined;
      this.log('info', `joined the cluster at ${this.where} as ${this.id}`);
      this.emit('up');
    } else if (!this.closed) {
      this.log(
        'warn',
        new ClusterError('PRIMUS_ERR_CLUSTER_UNAVAILABLE', `Lost Redis at ${this.where}: local sparks still work, cluster operations fail until it is back`, {
          cause: this.lastError,
        }),
      );
      this.emit('down', this.lastError);
    }
  }

  // ---- Sentinel ----

  /**
   * Listen to every sentinel's announcement of a new primary. Without it, when the old primary
   * survives (a planned failover, a healed partition), the connections stay on it until Sentinel
   * demotes it several seconds later, while servers that connect meanwhile reach the new one and
   * no longer hear the others' broadcasts.
   */
  private watchSentinels(redis: RedisOptions): Redis[] {
    return redis.sentinels!.map((address) => {
      const sentinel = new Redis({
        host: address.host ?? 'localhost',
        port: address.port ?? 26379,
        family: address.family ?? redis.family,
        username: redis.sentinelUsername,
        password: redis.sentinelPassword,
        tls: redis.sentinelTLS,
        connectTimeout: redis.connectTimeout,
        // The option ioredis gives its own failover detector's connections to the sentinels.
        retryStrategy: redis.sentinelReconnectStrategy,
        enableReadyCheck: false,
      });
      // Each failed attempt would otherwise be printed; a sentinel that is away only means one
      // announcer fewer, and the others announce too.
      sentinel.on('error', (err: Error) => this.log('debug', err));
      sentinel.on('message', (channel: string, message: string) => {
        if (channel === SWITCH_MASTER) void this.follow(message);
      });
      sentinel.subscribe(SWITCH_MASTER).catch((err: Error) => this.log('debug', err));
      return sentinel;
    });
  }

  /**
   * On a sentinel's announcement of a new primary, close the connections that are not on it: they
   * reconnect and ask the sentinels where the primary is. The other sentinels announce the same
   * primary as they learn of it, later than the first; a connection that already moved stays, or
   * the broadcasts of that moment would be lost a second time.
   */
  private async follow(message: string): Promise<void> {
    const [name, , , host, port] = message.split(' ');
    if (this.closed || name !== this.options.redis.name || !host || !port) return;
    const primary = natMapped(this.options.redis.natMap, host, Number(port));
    // An address that cannot be resolved matches no connection: they all move.
    const addresses = isIP(primary.host)
      ? [primary.host]
      : await lookup(primary.host, { all: true }).then(
          (found) => found.map((a) => a.address),
          () => [],
        );
    if (this.closed) return;
    this.announced = { port: primary.port, addresses, at: Date.now() };
    for (const client of [this.pub, this.sub]) {
      // A connection still connecting may have been sent to the old primary by a sentinel that
      // had not learned of the new one yet, so it starts over; one waiting to try again asks the
      // sentinels then.
      if (client.status === 'connecting' || ((client.status === 'connect' || client.status === 'ready') && !this.onAnnounced(client))) client.disconnect(true);
    }
  }

  /**
   * Move a connection that came up elsewhere than on the primary announced just before: a sentinel
   * that had not learned of it yet named the old one (ioredis asks the sentinels in turn), which
   * may still be alive. Used, it would make the cluster lose broadcasts twice, once now and once
   * when that sentinel announces the new primary in turn.
   */
  private astray(client: Redis): boolean {
    if (!this.announced || Date.now() - this.announced.at > ANNOUNCED_MS || this.onAnnounced(client)) return false;
    client.disconnect(true);
    return true;
  }

  /** Whether a connection is on the primary the sentinels announced last. */
  private onAnnounced(client: Redis): boolean {
    const announced = this.announced;
    const stream = client.stream as Redis['stream'] | undefined;
    return !!announced && stream?.remotePort === announced.port && announced.addresses.some((address) => plain(address) === plain(stream.remoteAddress));
  }

  // ---- Errors and logging ----

  private restart(client: Redis): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      if (!this.closed && client.status === 'end') client.connect().catch((err: Error) => this.failed(err));
    }, 100);
    timer.unref();
  }

  private failed(err: Error): void {
    this.lastError = err;
    this.log('debug', err);
  }

  /** A broadcast or an answer could not be published: say so once per outage, not per message. */
  private warn(operation: string, err: unknown): void {
    if (this.warned || this.closed) return;
    this.warned = true;
    this.log('warn', new ClusterError('PRIMUS_ERR_CLUSTER_UNAVAILABLE', `A ${operation} did not reach the other servers: Redis at ${this.where} is unreachable`, { cause: err }));
  }

  private log(level: LogLevel, ...args: unknown[]): void {
    this.primus.emit('log', level, ...args);
  }

  private async command<T>(operation: string, promise: Promise<T>): Promise<T> {
    try {
      return await promise;
    } catch (err) {
      if (err instanceof ClusterError) throw err;
      this.lastError = err as Error;
      throw new ClusterError('PRIMUS_ERR_CLUSTER_UNAVAILABLE', `cluster.${operation}() failed: Redis at ${this.where} did not answer (${(err as Error).message})`, { cause: err });
    }
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw this.closedError(operation);
  }

  private assertReachable(operation: string): void {
    if (!this.up) throw this.unavailable(operation);
  }

  private unavailable(operation: string): ClusterError {
    const reason = this.lastError ? ` (${this.lastError.message})` : '';
    return new ClusterError(
      'PRIMUS_ERR_CLUSTER_UNAVAILABLE',
      `cluster.${operation}() failed: Redis at ${this.where} is unreachable${reason}. Local sparks still work; the cluster reconnects on its own.`,
      { cause: this.lastError },
    );
  }

  private closedError(operation: string): ClusterError {
    return new ClusterError('PRIMUS_ERR_CLUSTER_CLOSED', `cluster.${operation}() was called after the server was destroyed`);
  }

  private encodeError(operation: string): ClusterError {
    return new ClusterError('PRIMUS_ERR_CLUSTER_ENCODE', `cluster.${operation}(): the parser could not encode the message (see the server's log event)`);
  }
}
