import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { parse as parseQuerystring } from 'node:querystring';
import type { Duplex } from 'node:stream';
import { parseDuration } from '@primus/protocol';
import { forwarded, type Address } from './forwarded';
import { PrimusError } from './errors';
import type { Primus } from './primus';

/** A request as middleware sees it: Primus adds the parsed URL, query and proxy-aware address. */
export interface PrimusRequest extends IncomingMessage {
  /** The parsed request URL. */
  uri: { pathname: string; search: string; query: Record<string, string | string[] | undefined> };
  /** The parsed query. */
  query: Record<string, string | string[] | undefined>;
  /** `req.url` as it arrived. */
  originalUrl: string;
  /** The client's address, after proxy headers (set by the `forwarded` layer). */
  forwarded?: Address;
}

/** The second argument of middleware: a response for HTTP requests, the raw socket for upgrades. */
export type MiddlewareResponse = ServerResponse | Duplex;

/** Synchronous middleware (two parameters): return true when it has answered the request. */
export type SyncMiddleware = (this: Primus, req: PrimusRequest, res: MiddlewareResponse) => unknown;
/** Asynchronous middleware (three parameters): call `next(err?)` to continue; don't call it when answered. */
export type AsyncMiddleware = (this: Primus, req: PrimusRequest, res: MiddlewareResponse, next: (err?: HttpError | null) => void) => void;
/** Middleware function; `http: false` or `upgrade: false` keeps it off that kind of request. */
export type Middleware = (SyncMiddleware | AsyncMiddleware) & { http?: boolean; upgrade?: boolean };
/** A factory (fewer than two parameters), called once with `this = primus` and the options. */
export type MiddlewareFactory = (this: Primus, options: Record<string, unknown>) => Middleware;

/** One entry of the middleware stack. */
export interface Layer {
  name: string;
  enabled: boolean;
  length: number;
  fn: Middleware;
}

/** An error passed to `next()` or to the authorization callback. */
export interface HttpError extends Error {
  /** The HTTP status of the response. @default 401 for authorization, 500 otherwise */
  statusCode?: number;
  /** Sent as `WWW-Authenticate` when the status is 401. */
  authenticate?: string;
}

/**
 * Constructor of parsed queries. Like `querystring.parse()`'s result its instances inherit nothing
 * (`?constructor=x` and `?__proto__=x` are plain keys), but V8 keeps objects made by a constructor
 * in fast mode, while a null-prototype object is a hash table of about 180 bytes even when empty;
 * the request holds its query for the life of the connection.
 */
const ParsedQuery = function ParsedQuery() {} as unknown as new () => Record<string, string | string[] | undefined>;
ParsedQuery.prototype = Object.create(null);

/** Queries with more keys than this stay hash tables, which is what V8 would turn them into anyway. */
const MAX_FAST_QUERY_KEYS = 32;

export function parseQuery(search: string): Record<string, string | string[] | undefined> {
  const parsed = parseQuerystring(search);
  const keys = Object.keys(parsed);
  if (keys.length > MAX_FAST_QUERY_KEYS) return parsed;
  const query = new ParsedQuery();
  for (const key of keys) query[key] = parsed[key];
  return query;
}

/** Add `uri`, `query` and `originalUrl` to a request under the pathname. */
export function prepareRequest(req: IncomingMessage, pathname: string): PrimusRequest {
  const request = req as PrimusRequest;
  const url = req.url ?? '/';
  // A fragment is no part of the query. Node accepts one in a request line, and every framework
  // drops it before reading the query: left in, the authorization hook would judge
  // `transport=websocket#` while engine.io acts on `transport=websocket`.
  const target = withoutFragment(url);
  const q = target.indexOf('?');
  const search = q === -1 ? '' : target.slice(q);
  const query = parseQuery(search.slice(1));
  request.uri = { pathname, search, query };
  request.query = query;
  request.originalUrl = url;
  return request;
}

function withoutFragment(url: string): string {
  const hash = url.indexOf('#');
  return hash === -1 ? url : url.slice(0, hash);
}

/**
 * The path part of a request URL (absolute-form URLs included, any fragment left out), with
 * backslashes read as slashes, as browsers, WHATWG URLs and the frameworks' `url.parse` read them:
 * middleware and the authorization hook judge the path the transformer will act on.
 */
export function requestPath(url: string | undefined): string {
  if (!url) return '/';
  let path = withoutFragment(url);
  if (!path.startsWith('/')) {
    const scheme = path.indexOf('://');
    if (scheme !== -1) {
      const slash = path.indexOf('/', scheme + 3);
      path = slash === -1 ? '/' : path.slice(slash);
    }
  }
  const q = path.indexOf('?');
  return (q === -1 ? path : path.slice(0, q)).replace(/\\/g, '/');
}

/** The path of a request: the core's parse, unless middleware has rewritten `req.url` since. */
function pathOf(req: PrimusRequest): string {
  return req.url === req.originalUrl && req.uri ? req.uri.pathname : requestPath(req.url);
}

function isResponse(res: MiddlewareResponse): res is ServerResponse {
  return typeof (res as ServerResponse).setHeader === 'function';
}

/**
 * Answer a failed request: JSON `{ "error": message }` with the error's status. On an upgrade the
 * response is written to the raw socket, which is then destroyed.
 */
export function respondError(req: IncomingMessage, res: MiddlewareResponse, err: HttpError, defaultStatus: number): void {
  const status = Number.isInteger(err.statusCode) && err.statusCode! >= 400 && err.statusCode! < 600 ? err.statusCode! : defaultStatus;
  const body = JSON.stringify({ error: err.message || String(err) });
  const authenticate = status === 401 && err.authenticate ? String(err.authenticate).replace(/[\r\n]/g, ' ') : undefined;
  if (isResponse(res)) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.statusCode = status;
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Content-Length', Buffer.byteLength(body));
    if (authenticate) res.setHeader('WWW-Authenticate', authenticate);
    res.end(body);
    return;
  }
  respondRaw(req, res, status, 'application/json', body, authenticate ? `WWW-Authenticate: ${authenticate}\r\n` : '');
}

/**
 * Refuse an upgrade: write a complete HTTP response to the raw socket (`extra` holds further header
 * lines, CRLF-terminated), then destroy it.
 */
function respondRaw(req: IncomingMessage, socket: Duplex, status: number, type: string, body: string, extra = ''): void {
  if (socket.writable) {
    let head = `HTTP/${req.httpVersion || '1.1'} ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n`;
    head += `Connection: close\r\nContent-Type: ${type}\r\n`;
    head += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
    socket.end(head + extra + '\r\n' + body);
  }
  socket.destroy();
}

/** Run the enabled layers for one request; `done` is called when every layer let it through. */
export function runLayers(primus: Primus, type: 'http' | 'upgrade', req: PrimusRequest, res: MiddlewareResponse, done: () => void): void {
  const layers = primus.layers;
  let index = 0;
  const fail = (err: HttpError): void => respondError(req, res, err, 500);
  const next = (err?: HttpError | null): void => {
    if (err) return fail(err);
    while (index < layers.length) {
      const layer = layers[index++]!;
      if (!layer.enabled || layer.fn[type] === false) continue;
      try {
        if (layer.length === 2) {
          if ((layer.fn as SyncMiddleware).call(primus, req, res)) return;
          continue;
        }
        let called = false;
        (layer.fn as AsyncMiddleware).call(primus, req, res, (e) => {
          if (called) return;
          called = true;
          next(e);
        });
      } catch (e) {
        primus.emit('log', 'error', e);
        fail(e instanceof Error ? e : new Error(String(e)));
      }
      return;
    }
    done();
  };
  next();
}

// ---- The built-in layers, in the order happn-primus installs them. ----

/** Sets `req.forwarded`, the client's address after proxies. */
export function forwardedLayer(this: Primus): Middleware {
  const primus = this;
  return function forwardedAddress(req: PrimusRequest, _res: MiddlewareResponse) {
    req.forwarded = forwarded(req.socket, req.headers, primus.trustProxy);
    return false;
  };
}

function toList(value: unknown): string {
  return Array.isArray(value) ? value.join(', ') : String(value ?? '');
}

/**
 * CORS, as happn-primus's access-control module answered it. When `origins` lists the allowed
 * origins, WebSocket upgrades from any other origin are refused too (403): browsers apply no CORS
 * to WebSockets, so without this check any page could open one with its visitor's cookies.
 */
export function corsLayer(this: Primus): Middleware {
  const options = this.options;
  const origins =
    options.origins === '*'
      ? '*'
      : toList(options.origins)
          .split(',')
          .map((o) => o.trim().toLowerCase())
          .filter(Boolean);
  const methods = toList(options.methods)
    .split(',')
    .map((m) => m.trim().toUpperCase())
    .filter(Boolean);
  const credentials = options.credentials;
  const maxAge = Math.round(parseDuration(options.maxAge) / (typeof options.maxAge === 'string' ? 1000 : 1));
  const allowHeaders = toList(options.headers);
  const exposed = toList(options.exposed);
  const methodList = methods.join(', ');

  /** Whether a request from `origin` may be answered; `origin.toLowerCase()` is passed as `lower`. */
  const allowedOrigin = (origin: string, lower: string): boolean =>
    !origin.includes('%') && (lower === 'null' || /^[a-z][a-z0-9+.-]*:\/\//.test(lower)) && (origins === '*' || origins.includes(lower));

  const cors = function cors(req: PrimusRequest, res: MiddlewareResponse, next: (err?: HttpError | null) => void): void {
    const origin = req.headers.origin;
    if (!origin) return next();
    const lower = origin.toLowerCase();
    if (!isResponse(res)) {
      // happn-primus never looked at upgrades; with the default `origins: '*'` neither does this.
      if (origins === '*' || allowedOrigin(origin, lower)) return next();
      respondRaw(req, res, 403, 'text/plain', `Invalid WebSocket origin: ${origin}`);
      return;
    }
    const requested = req.headers['access-control-request-method'];
    const method = String(requested || req.method || '').toUpperCase();
    if (!allowedOrigin(origin, lower) || !methods.includes(method)) {
      const body = `Invalid HTTP Access Control (CORS) request:\n  Origin: ${origin}\n  Method: ${method}`;
      res.statusCode = 403;
      res.setHeader('Content-Type', 'text/plain');
      res.setHeader('Content-Length', Buffer.byteLength(body));
      res.end(body);
      return;
    }
    if (origins !== '*' || credentials) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
    } else {
      res.setHeader('Access-Control-Allow-Origin', '*');
    }
    if (credentials) res.setHeader('Access-Control-Allow-Credentials', 'true');
    if (req.method === 'OPTIONS' && requested) {
      res.setHeader('Access-Control-Max-Age', String(maxAge));
      res.setHeader('Access-Control-Allow-Methods', methodList);
      const headers = allowHeaders || req.headers['access-control-request-headers'];
      if (headers) res.setHeader('Access-Control-Allow-Headers', String(headers));
      res.statusCode = 200;
      res.setHeader('Content-Length', '0');
      res.end();
      return;
    }
    if (exposed) res.setHeader('Access-Control-Expose-Headers', exposed);
    next();
  } as Middleware;
  return cors;
}

/** The methods `primus.js` and `spec` answer: they only serve a document. */
const READ_METHODS = 'GET, HEAD, OPTIONS';

/**
 * Serve a read-only document: 200 for GET and HEAD (without the body), 204 with `Allow` for an
 * OPTIONS that is no CORS preflight (the CORS layer answered those), 405 with `Allow` for any
 * other method, which could only be a mistake or a probe.
 */
function serveDocument(req: PrimusRequest, res: ServerResponse, type: string, body: () => string): void {
  const method = req.method;
  if (method !== 'GET' && method !== 'HEAD') {
    const allowed = method === 'OPTIONS';
    const text = allowed ? '' : 'Method Not Allowed';
    res.statusCode = allowed ? 204 : 405;
    res.setHeader('Allow', READ_METHODS);
    if (!allowed) {
      res.setHeader('Content-Type', 'text/plain');
      res.setHeader('Content-Length', Buffer.byteLength(text));
    }
    res.end(text || undefined);
    return;
  }
  const text = body();
  res.statusCode = 200;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(method === 'HEAD' ? undefined : text);
}

/** Serves the client library at `<pathname>/primus.js`. */
export function libraryLayer(this: Primus): Middleware {
  const primus = this;
  const path = primus.pathname + '/primus.js';
  const layer = function clientLibrary(req: PrimusRequest, res: MiddlewareResponse) {
    if (!isResponse(res) || pathOf(req) !== path) return false;
    serveDocument(req, res, 'text/javascript; charset=utf-8', () => primus.cachedLibrary());
    return true;
  } as Middleware;
  layer.upgrade = false;
  return layer;
}

/** Serves the server's spec at `<pathname>/spec`. */
export function specLayer(this: Primus): Middleware {
  const primus = this;
  const path = primus.pathname + '/spec';
  const layer = function spec(req: PrimusRequest, res: MiddlewareResponse) {
    if (!isResponse(res) || pathOf(req) !== path) return false;
    serveDocument(req, res, 'application/json', () => JSON.stringify(primus.spec));
    return true;
  } as Middleware;
  layer.upgrade = false;
  return layer;
}

/** Turns off old Internet Explorer's XSS filter, which broke polling transports. */
export function xssLayer(): Middleware {
  const layer = function xss(req: PrimusRequest, res: MiddlewareResponse) {
    const agent = String(req.headers['user-agent'] ?? '').toLowerCase();
    if (isResponse(res) && (agent.includes(';msie') || agent.includes('trident/'))) res.setHeader('X-XSS-Protection', '0');
    return false;
  } as Middleware;
  layer.upgrade = false;
  return layer;
}

/** Keeps proxies and browsers from caching real-time responses. */
export function noCacheLayer(): Middleware {
  const layer = function noCache(_req: PrimusRequest, res: MiddlewareResponse) {
    if (!isResponse(res)) return false;
    res.setHeader('Cache-Control', 'no-store, no-cache, must-revalidate, max-age=0');
    res.setHeader('Pragma', 'no-cache');
    return false;
  } as Middleware;
  layer.upgrade = false;
  return layer;
}

/** Runs the authorization hook for every request and upgrade under the pathname. */
export function authorizationLayer(this: Primus): Middleware {
  const primus = this;
  return function authorization(req: PrimusRequest, res: MiddlewareResponse, next: (err?: HttpError | null) => void) {
    const auth = primus.auth;
    if (!auth) return next();
    let settled = false;
    const done = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      if (!err) return next();
      const error = (err instanceof Error ? err : Object.assign(new Error(String((err as { message?: unknown })?.message ?? err)), err)) as HttpError;
      respondError(req, res, error, 401);
    };
    try {
      const result = auth.call(primus, req, done) as unknown;
      if (result && typeof (result as PromiseLike<unknown>).then === 'function') {
        (result as PromiseLike<unknown>).then(undefined, (e: unknown) => done(e ?? new Error('authorization rejected')));
      }
    } catch (e) {
      done(e);
    }
  } as Middleware;
}

/**
 * `primus.before()`: add middleware as a layer of the stack. Two parameters: synchronous. Three:
 * asynchronous. Fewer than two: a factory called now with `(options)`. A layer of the same name is
 * replaced in place; `level` inserts at that index.
 */
export function addMiddleware(
  primus: Primus,
  name: string | Middleware | MiddlewareFactory,
  fn?: Middleware | MiddlewareFactory | Record<string, unknown> | number,
  options?: Record<string, unknown> | number,
  level?: number,
): void {
  if (typeof name === 'function') {
    level = options as number | undefined;
    options = fn as Record<string, unknown> | number | undefined;
    fn = name;
    name = fn.name || `pid_${Date.now()}`;
  }
  if (typeof options === 'number') {
    level = options;
    options = undefined;
  }
  if (typeof fn !== 'function') throw new PrimusError('PRIMUS_ERR_MIDDLEWARE', 'Middleware should be a function that accepts at least 2 args');
  let middleware = fn as Middleware;
  if (middleware.length < 2) middleware = (fn as MiddlewareFactory).call(primus, (options as Record<string, unknown>) ?? {});
  if (typeof middleware !== 'function' || middleware.length < 2) {
    throw new PrimusError('PRIMUS_ERR_MIDDLEWARE', 'Middleware should be a function that accepts at least 2 args');
  }
  const layers = primus.layers;
  const layer: Layer = { length: middleware.length, enabled: true, name, fn: middleware };
  const index = primus.indexOfLayer(name);
  if (index !== -1) layers[index] = layer;
  else if (typeof level === 'number' && level >= 0 && level < layers.length) layers.splice(level, 0, layer);
  else layers.push(layer);
}
