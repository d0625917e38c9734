import { PrimusError, type Plugin } from '@primus/core';
import { RedisCluster, type PrimusServer } from './cluster';
import { resolveOptions, type RedisClusterOptions } from './options';

export { RedisCluster, type ClusterEvents, type SendOutcome } from './cluster';
export { ClusterError, type ClusterErrorCode } from './errors';
export { RedisRecoveryStore, RedisRecoveryRecord } from './recovery';
export type { EndpointOptions, RedisClusterOptions, ResolvedClusterOptions } from './options';

declare module '@primus/core' {
  interface Primus {
    /**
     * This server's membership of the cluster, set by the `redisCluster()` plugin. Optional in the
     * type because a server without the plugin has none: write `primus.cluster!` where the plugin
     * is known to be there.
     */
    cluster?: RedisCluster;
  }
}

/**
 * The cluster plugin: Primus servers that share a Redis become one system. `primus.write()`
 * reaches every spark on every server, and `primus.cluster` sends to a spark anywhere and tells
 * which sparks and servers are alive.
 *
 * ```ts
 * const primus = new Primus(server, { plugin: { cluster: redisCluster({ url: 'redis://127.0.0.1:6379' }) } });
 * await primus.cluster.send(sparkId, { hello: 'from another server' });
 * ```
 */
export function redisCluster(options?: RedisClusterOptions): Plugin {
  const resolved = resolveOptions(options);
  return {
    server(primus) {
      const target = primus as PrimusServer & { cluster?: RedisCluster };
      if (target.cluster instanceof RedisCluster) {
        throw new PrimusError('PRIMUS_ERR_PLUGIN', '@primus/redis: this server already has a cluster plugin; add redisCluster() once per server');
      }
      target.cluster = new RedisCluster(primus, resolved);
    },
  };
}

export default redisCluster;
