import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import {
  Primus,
  PrimusError,
  httpAuthGuard,
  optionChecker,
  type HttpAuth,
  type HttpAuthGuard as Guard,
  type HttpError,
  type Middleware,
  type OptionChecker,
  type MiddlewareResponse,
  type Plugin,
  type PrimusRequest,
  type Spark,
  type Transformer,
} from '@primus/core';
import { renderPage } from './page';
import { Tokens } from './token';
import { Tracker } from './tracker';

/** Who may open the admin page: HTTP basic credentials, or a function that decides per request. */
export type AdminAuth = HttpAuth;
export type { Changes, DisconnectionRow, Sample, SparkRow } from './tracker';

/** Options of `admin()`. `auth` is required: the page is never public. */
export interface AdminOptions {
  /** Who may open the page: `{ username, password }` (HTTP basic) or `(req) => boolean | Promise<boolean>`. */
  auth: AdminAuth;
  /** Where the page is served; it must lie under the server's `pathname`. The live feed is `<path>/feed`. @default '<pathname>/admin' */
  path?: string;
  /** The feed's transformer (a name or an object). @default the server's own transformer */
  transformer?: string | Transformer;
  /** ms between two points of the rate charts. @default 1000 */
  interval?: number;
  /** Sparks listed on the page (the first ones to connect); the count covers all of them. @default 500 */
  maxSparks?: number;
  /** Recent disconnections kept. @default 50 */
  history?: number;
  /** ms a page's feed token stays valid (a page left open longer must be reloaded). @default 43200000 (12 h) */
  tokenTtl?: number;
}

/** `primus.admin`: where the page is, and the Primus server that carries its live feed. */
export interface PrimusAdmin {
  /** The page's path. */
  readonly path: string;
  /** The separate Primus server of the feed, at `<path>/feed`: only admin pages connect to it. */
  readonly feed: Primus;
}

declare module '@primus/core' {
  interface Primus {
    /**
     * The admin page of this server, set by the `admin()` plugin. Optional in the type because a
     * server without the plugin has none.
     */
    admin?: PrimusAdmin;
  }
}

type PluginServer = Parameters<NonNullable<Plugin['server']>>[0];

/** What the page needs of `primus.cluster` (from @primus/redis), without depending on it. */
interface ClusterLike {
  readonly id: string;
  readonly available: boolean;
  servers(): Promise<string[]>;
}

interface ClusterView {
  servers: Array<{ id: string; self: boolean }>;
  note: string;
}

const FEED_GLOBAL = 'PrimusAdmin';
const FLUSH_MS = 250;
const CLUSTER_MS = 2000;
const SAMPLES = 120;

const check: OptionChecker = optionChecker('@primus/admin');

function refuse(message: string, status = 401, authenticate?: string): HttpError {
  return Object.assign(new Error(message), { statusCode: status, authenticate });
}

/**
 * A live admin page for a Primus server: its sparks (address, transformer, connected since, last
 * heartbeat, latency), message and connection rates, recent disconnections with their reason and
 * the servers of its `@primus/redis` cluster. An operator can end a spark from the page. The page
 * updates live over a Primus server of its own, which only authenticated pages can connect to.
 *
 * ```ts
 * const primus = new Primus(server, { plugin: { admin: admin({ auth: { username: 'ops', password: process.env.ADMIN_PASSWORD! } }) } });
 * ```
 */
export function admin(options: AdminOptions): Plugin {
  if (typeof options !== 'object' || options === null) check.fail('options', 'an object with at least { auth }', options);
  const guard = httpAuthGuard(options.auth, 'Primus admin', check.fail);
  if (options.path !== undefined && (typeof options.path !== 'string' || !/^\/[^?#\s]*$/.test(options.path) || options.path.endsWith('/'))) {
    check.fail('path', 'a path starting with "/", without a trailing "/"', options.path);
  }
  if (options.transformer !== undefined && typeof options.transformer !== 'string' && (typeof options.transformer !== 'object' || options.transformer === null)) {
    check.fail('transformer', 'a transformer name or object', options.transformer);
  }
  const interval = check.integer('interval', options.interval, { min: 1, unit: 'ms', default: 1000 });
  const maxSparks = check.integer('maxSparks', options.maxSparks, { min: 1, default: 500 });
  const history = check.integer('history', options.history, { min: 1, default: 50 });
  const tokenTtl = check.integer('tokenTtl', options.tokenTtl, { min: 1, unit: 'ms', default: 12 * 60 * 60 * 1000 });

  return {
    server(primus: PluginServer) {
      const target = primus as PluginServer & { admin?: PrimusAdmin; cluster?: ClusterLike };
      if (target.admin) throw new PrimusError('PRIMUS_ERR_PLUGIN', '@primus/admin: this server already has the admin plugin; add admin() once per server');
      const base = primus.pathname === '/' ? '' : primus.pathname;
      const path = options.path ?? `${base}/admin`;
      if (!path.startsWith(`${base}/`)) {
        check.fail('path', `a path under the server's pathname "${primus.pathname}", which is all Primus answers`, path);
      }
      const feedPath = `${path}/feed`;
      const tokens = new Tokens(tokenTtl);
      const transformer = primus.spec.transformer;
      const tracker = new Tracker((frame) => primus.decode(frame), transformer, maxSparks, history, SAMPLES);
      const self = { id: `${hostname()} (pid ${process.pid})`, transformer, pathname: primus.pathname, pid: process.pid, node: process.versions.node };
      let cluster: ClusterView | undefined;

      // The feed is a Primus server of its own on the same HTTP server: it answers only under
      // `<path>/feed`, and its sparks are neither the application's sparks nor in its broadcasts.
      const feed = new Primus(primus.server!, {
        transformer: options.transformer ?? primus.transformer,
        pathname: feedPath,
        global: FEED_GLOBAL,
        trustedProxies: primus.options.trustedProxies,
        keepRequest: false,
        iknowclusterwillbreakconnections: true,
      });
      // First of the feed's layers: nothing of the feed (its library, its spec, a connection)
      // without the token of a page that was served to an authenticated request.
      const tokenLayer = function (req: PrimusRequest, _res: MiddlewareResponse, next: (err?: HttpError | null) => void): void {
        if (tokens.verify(req.query.token)) next();
        else next(refuse('The admin feed needs the token of an authenticated admin page: reload the page'));
      } as Middleware;
      feed.before('admin-token', tokenLayer, 0);

      const serverView = (): typeof self => {
        const id = target.cluster?.id;
        return id ? { ...self, id } : self;
      };
      const snapshot = (): Record<string, unknown> => ({ type: 'snapshot', now: Date.now(), server: serverView(), cluster, ...tracker.snapshot() });

      feed.on('connection', (spark: Spark) => {
        spark.write(snapshot());
        spark.on('data', (message: unknown) => {
          const command = message as { type?: unknown; id?: unknown } | null;
          if (!command || typeof command !== 'object' || command.type !== 'end' || typeof command.id !== 'string') {
            feed.emit('log', 'debug', '@primus/admin: ignored a message from an admin page that is not a command', message);
            return;
          }
          const victim = primus.spark(command.id);
          if (victim) {
            primus.emit('log', 'info', `@primus/admin: spark ${command.id} ended from the admin page`);
            victim.end();
          }
          spark.write({ type: 'ended', id: command.id, ok: !!victim });
        });
      });

      primus.on('connection', (spark: Spark) => tracker.add(spark));
      primus.on('disconnection', (spark: Spark) => tracker.remove(spark));

      const flushTimer = setInterval(() => {
        const changes = tracker.flush();
        if (changes && feed.connected) feed.write({ type: 'changes', ...changes });
      }, FLUSH_MS);
      const sampleTimer = setInterval(() => {
        const sample = tracker.sample();
        if (feed.connected) feed.write({ type: 'sample', now: Date.now(), sample });
      }, interval);
      const refreshCluster = async (): Promise<void> => {
        const current = target.cluster;
        if (!current || typeof current.servers !== 'function') return;
        let view: ClusterView;
        try {
          const ids = (await current.servers()).sort();
          if (!ids.includes(current.id)) ids.unshift(current.id);
          view = {
            servers: ids.map((id) => ({ id, self: id === current.id })),
            note: `${ids.length} server${ids.length === 1 ? '' : 's'} in the cluster. Each server's page lists the sparks connected to it.`,
          };
        } catch (err) {
          view = { servers: [{ id: current.id, self: true }], note: `Redis is unreachable (${(err as Error).message}); the other servers cannot be listed.` };
        }
        cluster = view;
        if (feed.connected) feed.write({ type: 'cluster', ...view });
      };
      const clusterTimer = setInterval(() => void refreshCluster(), CLUSTER_MS);
      for (const timer of [flushTimer, sampleTimer, clusterTimer]) timer.unref();
      primus.on('initialised', () => void refreshCluster());

      primus.before('admin', pageLayer(path, guard, tokens, feedPath), primus.indexOfLayer('authorization'));
      primus.on('close', (_options: unknown, next?: (err?: Error) => void) => {
        clearInterval(flushTimer);
        clearInterval(sampleTimer);
        clearInterval(clusterTimer);
        feed.destroy({ close: false }, () => next?.());
      });
      target.admin = { path, feed };
    },
  };
}

/**
 * The page, on the application's server before its authorization hook: everything under `path`
 * asks for the admin credentials, and only `path` itself answers with the page.
 */
function pageLayer(path: string, check: Guard, tokens: Tokens, feedPath: string): Middleware {
  const layer = function (req: PrimusRequest, raw: MiddlewareResponse, next: (err?: HttpError | null) => void): void {
    const at = req.uri.pathname;
    if (at !== path && at !== `${path}/` && !at.startsWith(`${path}/`)) return next();
    check.check(req).then(
      (ok) => {
        if (!ok) return next(refuse('The admin page needs credentials', 401, check.challenge));
        const res = raw as ServerResponse;
        if (typeof res.setHeader !== 'function' || (at !== path && at !== `${path}/`)) return next(refuse('Not found', 404));
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          res.setHeader('Allow', 'GET, HEAD');
          return next(refuse('Use GET', 405));
        }
        const nonce = randomBytes(16).toString('base64');
        const token = tokens.issue();
        const body = renderPage({ library: `${feedPath}/primus.js?token=${encodeURIComponent(token)}`, token, global: FEED_GLOBAL }, nonce);
        res.statusCode = 200;
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        res.setHeader('Cache-Control', 'no-store');
        res.setHeader('X-Content-Type-Options', 'nosniff');
        res.setHeader('X-Frame-Options', 'DENY');
        res.setHeader('Referrer-Policy', 'no-referrer');
        res.setHeader(
          'Content-Security-Policy',
          `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
        );
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => next(refuse('The admin page needs credentials', 401, check.challenge)),
    );
  } as Middleware;
  return layer;
}

export default admin;
