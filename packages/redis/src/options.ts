import type { RedisOptions } from 'ioredis';
import { optionChecker, type OptionChecker } from '@primus/core';

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

/** The option checks of @primus/redis: a bad value throws a TypeError naming the option. */
export const check: OptionChecker = optionChecker('@primus/redis');

/** Check the options and apply the defaults; a bad value throws a TypeError naming the option. */
export function resolveOptions(input: RedisClusterOptions | undefined): ResolvedClusterOptions {
  const given = check.options(input);
  if (given.url !== undefined && !(typeof given.url === 'string' && /^rediss?:\/\//.test(given.url))) {
    check.fail('url', 'a redis:// or rediss:// URL', given.url);
  }
  const redis = given.redis ?? {};
  if (typeof redis !== 'object' || redis === null) check.fail('redis', 'an object of ioredis options', redis);
  const options: ResolvedClusterOptions = {
    url: given.url,
    redis,
    id: given.id === undefined ? undefined : check.string('id', given.id, { nonEmpty: true }),
    prefix: check.string('prefix', given.prefix, { nonEmpty: true, default: DEFAULTS.prefix }),
    ttl: check.integer('ttl', given.ttl, { min: 1, unit: 'ms', default: DEFAULTS.ttl }),
    heartbeat: check.integer('heartbeat', given.heartbeat, { min: 1, unit: 'ms', default: DEFAULTS.heartbeat }),
    timeout: check.integer('timeout', given.timeout, { min: 1, unit: 'ms', default: DEFAULTS.timeout }),
    endpoint: given.endpoint,
    recovery: check.boolean('recovery', given.recovery, { default: true }),
  };
  if (options.heartbeat >= options.ttl) {
    check.fail('heartbeat', `less than ttl (${options.ttl} ms), or entries expire between heartbeats`, options.heartbeat);
  }
  const endpoint = options.endpoint;
  if (endpoint !== undefined) {
    if (typeof endpoint !== 'object' || endpoint === null) check.fail('endpoint', 'an object { secret, path? }', endpoint);
    if (typeof endpoint.secret !== 'string' || endpoint.secret.length < 16) {
      check.fail('endpoint.secret', 'a string of at least 16 characters', typeof endpoint.secret === 'string' ? `${endpoint.secret.length} characters` : endpoint.secret);
    }
    if (endpoint.path !== undefined && (typeof endpoint.path !== 'string' || !endpoint.path.startsWith('/'))) {
      check.fail('endpoint.path', 'a path starting with "/"', endpoint.path);
    }
  }
  return options;
}
