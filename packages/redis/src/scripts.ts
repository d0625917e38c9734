import type { Redis } from 'ioredis';

// Every expiry is computed from Redis's own clock (TIME), so servers whose clocks disagree still
// agree on which of them are alive. The scripts build the per-server key names themselves, which
// is why a single Redis (or a Sentinel-managed primary) is supported and Redis Cluster is not.

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

// Renew this server's lease: the servers sorted set holds each server with its expiry as score.
// Expired servers are dropped on the way, and the set itself expires once every server is gone.
const LEASE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
`;

/** KEYS: servers, own sparks. ARGV: id, ttl. Returns 1 when the sparks set still exists. */
const heartbeat = `${NOW}${LEASE}
return redis.call('PEXPIRE', KEYS[2], ARGV[2])
`;

/** KEYS: servers, own sparks. ARGV: id, ttl, spark ids... Rewrites the registry of this server. */
const register = `${NOW}
redis.call('DEL', KEYS[2])
-- unpack() is bounded by Lua's C stack, so large registries go in slices.
for i = 3, #ARGV, 4000 do
  redis.call('SADD', KEYS[2], unpack(ARGV, i, math.min(i + 3999, #ARGV)))
end
if #ARGV > 2 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
${LEASE}
return 1
`;

const LIVE = `${NOW}
local servers = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. string.format('%d', now), '+inf')
`;

/** KEYS: servers. Returns the ids of the live servers. */
const servers = `${LIVE}
return servers
`;

/** KEYS: servers. ARGV: sparks key prefix, spark id. Returns the id of the server holding it, or nil. */
const locate = `${LIVE}
for _, server in ipairs(servers) do
  if redis.call('SISMEMBER', ARGV[1] .. server, ARGV[2]) == 1 then return server end
end
return false
`;

/** KEYS: servers. ARGV: sparks key prefix. Returns every spark id of every live server. */
const sparks = `${LIVE}
local all = {}
for _, server in ipairs(servers) do
  for _, id in ipairs(redis.call('SMEMBERS', ARGV[1] .. server)) do all[#all + 1] = id end
end
return all
`;

/** The scripts as commands on an ioredis client (EVALSHA, falling back to EVAL after a Redis restart). */
export interface ClusterCommands {
  primusHeartbeat(servers: string, own: string, id: string, ttl: number): Promise<number>;
  primusRegister(servers: string, own: string, id: string, ttl: number, ...sparks: string[]): Promise<number>;
  primusServers(servers: string): Promise<string[]>;
  primusLocate(servers: string, sparkPrefix: string, sparkId: string): Promise<string | null>;
  primusSparks(servers: string, sparkPrefix: string): Promise<string[]>;
}

/** Define the scripts on a client and return it typed with them. */
export function defineScripts(redis: Redis): Redis & ClusterCommands {
  redis.defineCommand('primusHeartbeat', { numberOfKeys: 2, lua: heartbeat });
  redis.defineCommand('primusRegister', { numberOfKeys: 2, lua: register });
  redis.defineCommand('primusServers', { numberOfKeys: 1, lua: servers });
  redis.defineCommand('primusLocate', { numberOfKeys: 1, lua: locate });
  redis.defineCommand('primusSparks', { numberOfKeys: 1, lua: sparks });
  return redis as Redis & ClusterCommands;
}
