import { IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import type { Address } from './forwarded';

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
const OWN = new Set([
  ...Object.keys(new IncomingMessage(new Socket())),
  '_eventsCount',
  'res',
  'uri',
  'query',
  'originalUrl',
  'forwarded',
]);

/** The retained request's fields; the rest of its properties are getters on the prototype. */
class Retained {
  readonly [key: string]: unknown;
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly httpVersion: string;
  readonly headers: IncomingHttpHeaders;
  readonly socket: IncomingMessage['socket'];
  readonly query: Record<string, string | string[] | undefined>;
  readonly originalUrl: string | undefined;
  readonly forwarded: Address | undefined;
  /** @internal The pathname the middleware put in `uri`. */
  private readonly pathname: string | undefined;

  constructor(req: IncomingMessage & { uri?: { pathname: string }; query?: Record<string, string | string[] | undefined>; originalUrl?: string; forwarded?: Address }) {
    this.method = req.method;
    this.url = req.url;
    this.originalUrl = req.originalUrl ?? req.url;
    this.httpVersion = req.httpVersion;
    this.headers = req.headers;
    this.socket = req.socket;
    this.query = req.query ?? {};
    this.forwarded = req.forwarded;
    this.pathname = req.uri?.pathname;
    for (const key of Object.keys(req)) {
      if (!OWN.has(key)) (this as Record<string, unknown>)[key] = (req as unknown as Record<string, unknown>)[key];
    }
  }

  get httpVersionMajor(): number {
    return Number(this.httpVersion.split('.')[0]);
  }

  get httpVersionMinor(): number {
    return Number(this.httpVersion.split('.')[1]);
  }

  get rawHeaders(): string[] {
    const raw: string[] = [];
    for (const name of Object.keys(this.headers)) {
      const value = this.headers[name];
      if (Array.isArray(value)) for (const one of value) raw.push(name, one);
      else if (value !== undefined) raw.push(name, value);
    }
    return raw;
  }

  get connection(): IncomingMessage['socket'] {
    return this.socket;
  }

  get uri(): RetainedRequest['uri'] {
    const pathname = this.pathname;
    if (pathname === undefined) return undefined;
    const url = this.url ?? '';
    const hash = url.indexOf('#');
    const target = hash === -1 ? url : url.slice(0, hash);
    const q = target.indexOf('?');
    return { pathname, search: q === -1 ? '' : target.slice(q), query: this.query };
  }
}

/** The retained form of a request (see `RetainedRequest`). */
export function retainRequest(req: IncomingMessage): RetainedRequest {
  return new Retained(req) as unknown as RetainedRequest;
}
