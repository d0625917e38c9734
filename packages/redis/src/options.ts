import type { RedisOptions } from 'ioredis';
import { invalidOption } from './errors';

/** The HTTP endpoint that lets services in other languages broadcast and send. */
export interface EndpointOptions {
  /** Shared secret; requests must carry `Authorization: Bearer <secret>`. At least 16 characters. */
  secret: string;
  /** Path of the endpoint; it must lie under the server's `pathname`. @default '<pathname>/cluster' */
  path?: string;
}

/** Options of `redisCluster()`; every one is optional and documented with its default. */
export interface RedisClusterOptions {
  /** Redis to connect to (`redis://`, or `rediss://` for TLS). Without it, `redis` says where (ioredis defaults to 127.0.0.1:6379). @default undefined */
  url?: string;
  /** ioredis options (host, port, password, tls, sentinels, db, retryStrategy, ...); what `url` sets takes precedence. @default {} */
  redis?: RedisOptions;
  /** This server's id in the cluster; it must be unique among the servers. @default a random UUID */
  id?: string;
  /** Prefix of every Redis key and channel: servers with the same prefix form one cluster. @default 'primus' */
  prefix?: string;
  /** ms a server's registry entries outlive its last heartbeat, so a crashed server vanishes. @default 10000 */
  ttl?: number;
  /** ms between heartbeats; must be less than `ttl`. @default 3000 */
  heartbeat?: number;
  /** ms a cluster operation may take (each Redis command, and the owner's reply to `send`). @default 3000 */
  timeout?: number;
  /** Serve the HTTP endpoint for non-Node services; off unless set. @default undefined */
  endpoint?: EndpointOptions;
  /**
   * With the server's `recovery` option on, keep the sessions in Redis so a client recovers on any
   * server of the cluster (docs/recovery.md); false keeps each server's sessions in its own memory.
   * Ignored when the server's `recovery` is off. @default true
   */
  recovery?: boolean;
}

/** The options after defaults are applied. */
export interface ResolvedClusterOptions {
  url: string | undefined;
  redis: RedisOptions;
  id: string | undefined;
  prefix: string;
  ttl: number;
  heartbeat: number;
  timeout: number;
  endpoint: EndpointOptions | undefined;
  recovery: boolean;
}

const DEFAULTS = { prefix: 'primus', ttl: 10_000, heartbeat: 3000, timeout: 3000 } as const;

/** Check the options and apply the defaults; a bad value throws a TypeError naming the option. */
export function resolveOptions(input: RedisClusterOptions | undefined): ResolvedClusterOptions {
  if (input === undefined) input = {};
  if (typeof input !== 'object' || input === null) throw invalidOption('options', 'an object', input);
  const options: ResolvedClusterOptions = {
    url: input.url,
    redis: input.redis ?? {},
    id: input.id,
    prefix: input.prefix ?? DEFAULTS.prefix,
    ttl: input.ttl ?? DEFAULTS.ttl,
    heartbeat: input.heartbeat ?? DEFAULTS.heartbeat,
    timeout: input.timeout ?? DEFAULTS.timeout,
    endpoint: input.endpoint,
    recovery: input.recovery ?? true,
  };
  if (options.url !== undefined && (typeof options.url !== 'string' || !/^rediss?:\/\//.test(options.url))) {
    throw invalidOption('url', 'a redis:// or rediss:// URL', options.url);
  }
  if (typeof options.redis !== 'object' || options.redis === null) throw invalidOption('redis', 'an object of ioredis options', options.redis);
  if (options.id !== undefined && (typeof options.id !== 'string' || options.id === '')) {
    throw invalidOption('id', 'a non-empty string', options.id);
  }
  if (typeof options.prefix !== 'string' || options.prefix === '') throw invalidOption('prefix', 'a non-empty string', options.prefix);
  for (const key of ['ttl', 'heartbeat', 'timeout'] as const) {
    if (!Number.isInteger(options[key]) || options[key] <= 0) throw invalidOption(key, 'a positive integer number of ms', options[key]);
  }
  if (options.heartbeat >= options.ttl) {
    throw invalidOption('heartbeat', `less than ttl (${options.ttl} ms), or entries expire between heartbeats`, options.heartbeat);
  }
  if (typeof options.recovery !== 'boolean') throw invalidOption('recovery', 'true or false', options.recovery);
  const endpoint = options.endpoint;
  if (endpoint !== undefined) {
    if (typeof endpoint !== 'object' || endpoint === null) throw invalidOption('endpoint', 'an object { secret, path? }', endpoint);
    if (typeof endpoint.secret !== 'string' || endpoint.secret.length < 16) {
      throw invalidOption('endpoint.secret', 'a string of at least 16 characters', typeof endpoint.secret === 'string' ? `${endpoint.secret.length} characters` : endpoint.secret);
    }
    if (endpoint.path !== undefined && (typeof endpoint.path !== 'string' || !endpoint.path.startsWith('/'))) {
      throw invalidOption('endpoint.path', 'a path starting with "/"', endpoint.path);
    }
  }
  return options;
}
