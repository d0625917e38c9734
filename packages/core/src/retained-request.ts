import { IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import type { Address } from './forwarded';
import { parseQuery } from './middleware';

/**
 * What `spark.request` is once a spark's `connection` listeners have run (the default
 * `keepRequest: true`): the parts of the HTTP request that opened the connection that programs
 * read after the handshake, without Node's `IncomingMessage` (its stream state, `rawHeaders` and
 * parser leftovers), which costs about 0.8 KB per idle connection. Middleware's own properties
 * (a session, a user) are kept as they were set. `keepRequest: 'full'` keeps the
 * `IncomingMessage` itself.
 */
export interface RetainedRequest {
  /** The request method (`GET` for every WebSocket upgrade). */
  readonly method: string | undefined;
  /** The request URL, as the transformer saw it. */
  readonly url: string | undefined;
  /** `url` as it arrived, before any middleware rewrote it. */
  readonly originalUrl: string | undefined;
  readonly httpVersion: string;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  /** The request headers (the same object as `spark.headers`). */
  readonly headers: IncomingHttpHeaders;
  /** The headers as name/value pairs, built from `headers` when read (names lower-cased). */
  readonly rawHeaders: string[];
  /** The connection's socket (the direct peer: `remoteAddress`, `remotePort`). */
  readonly socket: IncomingMessage['socket'];
  /** Alias of `socket`, as on `IncomingMessage`. */
  readonly connection: IncomingMessage['socket'];
  /** The parsed query of the request URL (what the middleware saw as `req.query`). */
  readonly query: Record<string, string | string[] | undefined>;
  /** The parsed request URL, as the middleware saw it as `req.uri`. */
  readonly uri: { pathname: string; search: string; query: Record<string, string | string[] | undefined> } | undefined;
  /** The client's address after proxies (`spark.address`). */
  readonly forwarded: Address | undefined;
  /** Properties added by middleware. */
  readonly [key: string]: unknown;
}

/** Own properties that every `IncomingMessage` has, and those the core adds: not copied as middleware's. */
const OWN = new Set([...Object.keys(new IncomingMessage(new Socket())), '_eventsCount', 'res', 'uri', 'query', 'originalUrl', 'forwarded']);

type Query = Record<string, string | string[] | undefined>;
type CoreRequest = IncomingMessage & { uri?: { pathname: string }; query?: Query; originalUrl?: string; forwarded?: Address };

/** What the retained request reads from its spark instead of keeping a copy. */
interface SparkView {
  readonly headers: IncomingHttpHeaders;
  readonly address: Address;
  readonly primus: { readonly options: { readonly pathname?: string } };
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Whether `query` holds exactly what parsing `url` again gives (no middleware changed it). */
function isParsedFrom(query: Query, url: string): boolean {
  const again = queryOf(url);
  const keys = Object.keys(query);
  if (keys.length !== Object.keys(again).length) return false;
  return keys.every((key) => sameValue(query[key], again[key]));
}

function searchOf(url: string): string {
  const hash = url.indexOf('#');
  const target = hash === -1 ? url : url.slice(0, hash);
  const q = target.indexOf('?');
  return q === -1 ? '' : target.slice(q);
}

function queryOf(url: string): Query {
  return parseQuery(searchOf(url).slice(1));
}

const SPARK = Symbol('spark');

/**
 * The retained request: two fields (its spark and the URL). Whatever the spark already knows
 * (headers, socket, address, pathname) is read from it, the query is parsed again when first read,
 * and anything that differs from what those give (a query or URL middleware changed, another
 * method, another socket) is kept as an own property that shadows the getter.
 */
class Retained {
  readonly [key: string]: unknown;
  /** @internal */
  readonly [SPARK]: SparkView;
  readonly url: string | undefined;

  constructor(req: CoreRequest, spark: SparkView, socket: unknown) {
    this[SPARK] = spark;
    this.url = req.url;
    if (req.method !== 'GET') shadow(this, 'method', req.method);
    if (req.httpVersion !== '1.1') shadow(this, 'httpVersion', req.httpVersion);
    if (req.originalUrl !== undefined && req.originalUrl !== req.url) shadow(this, 'originalUrl', req.originalUrl);
    if (req.socket !== socket) shadow(this, 'socket', req.socket);
    if (req.headers !== spark.headers) shadow(this, 'headers', req.headers);
    if (req.query && !(req.url !== undefined && isParsedFrom(req.query, req.url))) shadow(this, 'query', req.query);
    if (req.uri && req.uri.pathname !== spark.primus.options.pathname) shadow(this, 'pathname', req.uri.pathname);
    if (req.forwarded !== undefined && req.forwarded !== spark.address) shadow(this, 'forwarded', req.forwarded);
    for (const key of Object.keys(req)) {
      if (!OWN.has(key)) shadow(this, key, (req as unknown as Record<string, unknown>)[key]);
    }
  }
}

/** An own, writable property, over the prototype's getter of that name if there is one. */
function shadow(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Read-only accessors on the prototype, each shadowed by an own property where the request differed. */
const accessors: Record<string, (this: Retained) => unknown> = {
  method: () => 'GET',
  httpVersion: () => '1.1',
  httpVersionMajor() {
    return Number(String(this.httpVersion).split('.')[0]);
  },
  httpVersionMinor() {
    return Number(String(this.httpVersion).split('.')[1]);
  },
  originalUrl() {
    return this.url;
  },
  headers() {
    return this[SPARK].headers;
  },
  rawHeaders() {
    const headers = this.headers as IncomingHttpHeaders;
    const raw: string[] = [];
    for (const name of Object.keys(headers)) {
      const value = headers[name];
      if (Array.isArray(value)) for (const one of value) raw.push(name, one);
      else if (value !== undefined) raw.push(name, value);
    }
    return raw;
  },
  socket() {
    return (this[SPARK] as unknown as { remote: unknown }).remote;
  },
  connection() {
    return this.socket;
  },
  query() {
    // Parsed once, then kept.
    const query = queryOf(this.url ?? '');
    Object.defineProperty(this, 'query', { value: query, enumerable: true });
    return query;
  },
  uri() {
    const pathname = (this.pathname as string | undefined) ?? this[SPARK].primus.options.pathname;
    if (pathname === undefined) return undefined;
    return { pathname, search: searchOf(this.url ?? ''), query: this.query };
  },
  forwarded() {
    return this[SPARK].address;
  },
};
for (const [name, get] of Object.entries(accessors)) {
  Object.defineProperty(Retained.prototype, name, { get, configurable: true, enumerable: false });
}

/** The retained form of a request (see `RetainedRequest`); `socket` is the spark's direct peer. */
export function retainRequest(req: IncomingMessage, spark: SparkView, socket: unknown): RetainedRequest {
  return new Retained(req as CoreRequest, spark, socket) as unknown as RetainedRequest;
}
