import type { ServerResponse } from 'node:http';
import type { HttpAuthGuard as Guard, Middleware, MiddlewareResponse, PrimusRequest } from '@primus/core';
import type { Registry } from 'prom-client';

function reply(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.writableEnded) return;
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Cache-Control', 'no-store');
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.end(body);
}

/** The middleware that serves the text exposition at `path`, checked by `guard` when there is one. */
export function endpoint(registry: Registry, path: string, guard: Guard | undefined): Middleware {
  const layer = function (this: unknown, req: PrimusRequest, raw: MiddlewareResponse, next: (err?: null) => void): void {
    if (req.uri.pathname !== path) return next();
    const res = raw as ServerResponse;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return reply(res, 405, 'text/plain; charset=utf-8', 'Use GET\n', { Allow: 'GET, HEAD' });
    }
    const allowed = guard ? guard.check(req) : Promise.resolve(true);
    allowed
      .then(async (ok) => {
        if (!ok) {
          return reply(res, 401, 'text/plain; charset=utf-8', 'Authentication required\n', guard?.challenge ? { 'WWW-Authenticate': guard.challenge } : {});
        }
        const text = await registry.metrics();
        reply(res, 200, registry.contentType, req.method === 'HEAD' ? '' : text);
      })
      .catch((err: unknown) => reply(res, 500, 'text/plain; charset=utf-8', `Could not collect the metrics: ${(err as Error)?.message ?? err}\n`));
  } as Middleware;
  layer.upgrade = false;
  return layer;
}
