import type { Plugin, Spark } from '@primus/core';
import { register as defaultRegistry, Registry } from 'prom-client';
import { httpAuthGuard, optionChecker, PrimusError, type HttpAuth, type OptionChecker } from '@primus/core';
import { Collector, DEFAULT_SEND_BUCKETS } from './collector';
import { endpoint } from './endpoint';
import { Source, type ClusterLike, type RecoveryOutcome } from './source';

export { METRICS, DEFAULT_SEND_BUCKETS } from './collector';
/** Who may read the metrics: HTTP basic credentials, or a function that decides per request. */
export type MetricsAuth = HttpAuth;
export type { SendOutcome } from './source';

/** Options of `metrics()`; every one is optional. */
export interface MetricsOptions {
  /** The prom-client registry to register the metrics in. @default prom-client's default registry (`register`) */
  registry?: Registry;
  /** Serve the text exposition at this path, which must lie under the server's `pathname`. Off unless set. @default undefined */
  path?: string;
  /**
   * Who may read `path`: `{ username, password }` (HTTP basic) or `(req) => boolean | Promise<boolean>`.
   * Unset, the server's `authorization` hook guards `path` like every other request (and with no
   * hook it is public). @default undefined
   */
  auth?: MetricsAuth;
  /** Buckets of `primus_cluster_send_duration_seconds`, in seconds. @default DEFAULT_SEND_BUCKETS */
  sendBuckets?: number[];
}

/** `primus.metrics`: what the plugin registered and where it serves it. */
export interface PrimusMetrics {
  /** The prom-client registry the metrics live in. */
  readonly registry: Registry;
  /** Where the text exposition is served, or undefined when it is not. */
  readonly path: string | undefined;
}

declare module '@primus/core' {
  interface Primus {
    /**
     * The metrics of this server, set by the `metrics()` plugin. Optional in the type because a
     * server without the plugin has none: write `primus.metrics!` where the plugin is known to be there.
     */
    metrics?: PrimusMetrics;
  }
}

type PluginServer = Parameters<NonNullable<Plugin['server']>>[0];

function isRegistry(value: unknown): value is Registry {
  return (
    value instanceof Registry ||
    (typeof value === 'object' && value !== null && typeof (value as Registry).registerMetric === 'function' && typeof (value as Registry).metrics === 'function')
  );
}

const check: OptionChecker = optionChecker('@primus/metrics');

/**
 * Prometheus metrics for a Primus server: connections, disconnections by reason, messages and
 * bytes each way, heartbeats, back-pressure and, with `@primus/redis`, the cluster. Every metric
 * carries a `transformer` label.
 *
 * ```ts
 * const primus = new Primus(server, { plugin: { metrics: metrics({ path: '/primus/metrics' }) } });
 * ```
 */
export function metrics(options: MetricsOptions = {}): Plugin {
  if (typeof options !== 'object' || options === null) check.fail('options', 'an object', options);
  const registry = options.registry ?? defaultRegistry;
  if (!isRegistry(registry)) check.fail('registry', 'a prom-client Registry', registry);
  const path = options.path;
  if (path !== undefined && (typeof path !== 'string' || !path.startsWith('/'))) check.fail('path', 'a path starting with "/"', path);
  if (options.auth !== undefined && path === undefined) check.fail('auth', 'used together with "path" (it guards the path)', 'auth without path');
  const guard = options.auth === undefined ? undefined : httpAuthGuard(options.auth, 'Primus metrics', check.fail);
  const buckets = options.sendBuckets ?? DEFAULT_SEND_BUCKETS;
  if (!Array.isArray(buckets) || buckets.length === 0 || !buckets.every((b, i) => typeof b === 'number' && b > 0 && Number.isFinite(b) && (i === 0 || b > buckets[i - 1]!))) {
    check.fail('sendBuckets', 'increasing positive numbers of seconds', buckets);
  }

  return {
    server(primus: PluginServer) {
      const target = primus as PluginServer & { metrics?: PrimusMetrics; cluster?: unknown };
      if (target.metrics) throw new PrimusError('PRIMUS_ERR_PLUGIN', '@primus/metrics: this server already has the metrics plugin; add metrics() once per server');
      if (path !== undefined && !path.startsWith(primus.pathname)) {
        check.fail('path', `a path under the server's pathname "${primus.pathname}", which is all Primus answers`, path);
      }
      const collector = Collector.for(registry, buckets);
      const transformer = primus.spec.transformer;
      const source = new Source(
        transformer,
        () => primus.connected,
        (frame) => primus.decode(frame),
      );
      collector.add(source);

      primus.Spark.prototype.initialise = function (this: Spark) {
        source.watch(this);
      };
      primus.on('connection', () => void source.counts.connections++);
      primus.on('disconnection', (spark: Spark) => {
        const reason = spark.endReason ?? 'server';
        source.counts.disconnections[reason]++;
      });
      primus.on('heartbeat-skipped', () => void source.counts.heartbeatSkips++);
      primus.on('flatline', () => void source.counts.heartbeatTimeouts++);
      primus.on('recovery', (outcome: RecoveryOutcome) => {
        if (outcome in source.counts.recoveries) source.counts.recoveries[outcome]++;
      });
      primus.on('close', () => collector.retire(source));

      // @primus/redis may be added before or after this plugin; its cluster appears on the server
      // once its own server half has run.
      const findCluster = (): void => {
        const cluster = target.cluster as ClusterLike | undefined;
        if (source.cluster || !cluster || typeof cluster.on !== 'function') return;
        source.watchCluster(cluster, (seconds, outcome) => collector.observeSend(transformer, seconds, outcome));
      };
      findCluster();
      primus.on('plugin', () => queueMicrotask(findCluster));
      primus.on('initialised', findCluster);

      if (path !== undefined) {
        const layer = endpoint(registry, path, guard);
        // With its own check the endpoint answers before the server's authorization hook; without
        // one it comes after it, so the hook guards it like every other request.
        if (guard) primus.before('metrics', layer, primus.indexOfLayer('authorization'));
        else primus.before('metrics', layer);
      }
      target.metrics = { registry, path };
    },
  };
}

export default metrics;
