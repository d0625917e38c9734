import { createHash, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Middleware, MiddlewareResponse, PrimusRequest } from '@primus/core';
import { type ClusterError } from './errors';

/** What the endpoint needs from the cluster. */
export interface EndpointTarget {
  broadcast(data: unknown): Promise<void>;
  send(sparkId: string, data: unknown): Promise<boolean>;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function reply(res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.writableEnded) return;
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.end(JSON.stringify(body));
}

/**
 * The HTTP endpoint: `POST <path>` with `Authorization: Bearer <secret>` and a JSON body
 * `{ "data": ... }` broadcasts; `{ "data": ..., "spark": "<id>" }` sends to one spark.
 */
export function endpoint(target: EndpointTarget, path: string, secret: string, maxLength: number): Middleware {
  // Comparing digests keeps the comparison constant-time whatever the length of the guess.
  const expected = digest(secret);
  const layer = function (this: unknown, req: PrimusRequest, raw: MiddlewareResponse, next: (err?: null) => void): void {
    if (req.uri.pathname !== path) return next();
    const res = raw as ServerResponse;
    if (req.method !== 'POST') return reply(res, 405, { ok: false, error: 'Use POST' }, { Allow: 'POST' });
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (!timingSafeEqual(digest(token), expected)) {
      return reply(res, 401, { ok: false, error: 'Missing or wrong secret: send "Authorization: Bearer <secret>"' }, { 'WWW-Authenticate': 'Bearer' });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > maxLength) {
        refused = true;
        reply(res, 413, { ok: false, error: `The body is larger than ${maxLength} bytes` }, { Connection: 'close' });
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => void (refused = true));
    req.on('end', () => {
      if (refused) return;
      let body: { data?: unknown; spark?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return reply(res, 400, { ok: false, error: 'The body must be JSON: { "data": ..., "spark"?: "<id>" }' });
      }
      if (!body || typeof body !== 'object' || Array.isArray(body) || !('data' in body)) {
        return reply(res, 400, { ok: false, error: 'The body must be a JSON object with a "data" field' });
      }
      if (body.spark !== undefined && (typeof body.spark !== 'string' || body.spark === '')) {
        return reply(res, 400, { ok: false, error: '"spark" must be a spark id (a non-empty string)' });
      }
      const done =
        typeof body.spark === 'string'
          ? target.send(body.spark, body.data).then((sent) => reply(res, 200, { ok: true, sent }))
          : target.broadcast(body.data).then(() => reply(res, 200, { ok: true }));
      done.catch((err: unknown) => {
        const error = err as ClusterError;
        const status = error.code === 'PRIMUS_ERR_CLUSTER_ENCODE' ? 400 : error.code === 'PRIMUS_ERR_CLUSTER_TIMEOUT' ? 504 : 503;
        reply(res, status, { ok: false, error: error.message, code: error.code });
      });
    });
  } as Middleware;
  layer.upgrade = false;
  return layer;
}
