import http from 'node:http';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Spark } from '@primus/core';
import { request, waitFor } from '@primus/transformer-test-suite';
import { attach, cleanup, connectRaw, detached, flush, start } from './helpers';

afterEach(cleanup);

// `connection` and `close` listeners may be asynchronous, so Primus runs them itself instead of
// through `emit`. These tests check that it keeps what `on(event, fn, context)` and `once()`
// promise, as eventemitter3's `emit` (and happn-primus 6.0.1) do.

describe('connection listeners', () => {
  it('calls a once listener for the first connection only', async () => {
    const server = await start();
    const seen: Spark[] = [];
    server.primus.once('connection', (spark: Spark) => seen.push(spark));
    const a = await connectRaw(server);
    const b = await connectRaw(server);
    expect(seen).toEqual([a.spark]);
    expect(server.primus.connected).toBe(2);
  });

  it('calls an asynchronous once listener for the first connection only, and waits for it', async () => {
    const server = await start();
    const seen: Spark[] = [];
    server.primus.once('connection', (spark: Spark, next?: () => void) => {
      seen.push(spark);
      setImmediate(next!);
    });
    const a = await connectRaw(server);
    const b = await connectRaw(server);
    expect(seen).toEqual([a.spark]);
    b.send('after');
    expect(await new Promise((resolve) => b.spark.once('data', resolve))).toBe('after');
  });

  it('calls each listener with the context it was added with, the server when none', async () => {
    const server = await start();
    const ctx = { name: 'ctx' };
    const onceCtx = { name: 'once' };
    const asyncCtx = { name: 'async' };
    const contexts: Array<[string, unknown]> = [];
    server.primus.on('connection', function (this: unknown) {
      contexts.push(['plain', this]);
    });
    server.primus.on(
      'connection',
      function (this: unknown) {
        contexts.push(['with context', this]);
      },
      ctx,
    );
    server.primus.once(
      'connection',
      function (this: unknown) {
        contexts.push(['once with context', this]);
      },
      onceCtx,
    );
    server.primus.on(
      'connection',
      function (this: unknown, _spark: Spark, next?: () => void) {
        contexts.push(['async with context', this]);
        next!();
      },
      asyncCtx,
    );
    await connectRaw(server);
    expect(contexts).toEqual([
      ['plain', server.primus],
      ['with context', ctx],
      ['once with context', onceCtx],
      ['async with context', asyncCtx],
    ]);
  });

  it('calls a once listener once when a second connection arrives while an earlier listener is pending', async () => {
    const primus = detached();
    const calls: Spark[] = [];
    const pending: Array<() => void> = [];
    primus.on('connection', (_spark: Spark, next?: () => void) => {
      pending.push(next!);
    });
    primus.once('connection', (spark: Spark) => calls.push(spark));
    const a = new primus.Spark();
    const b = new primus.Spark();
    await flush();
    expect(pending).toHaveLength(2);
    for (const next of pending) next();
    expect(calls).toEqual([a]);
    expect(calls).not.toContain(b);
    expect(primus.listenerCount('connection')).toBe(1);
  });

  it('removes a once listener so removeListener and listenerCount agree with what runs', async () => {
    const server = await start();
    const fn = (): void => {};
    server.primus.once('connection', fn);
    expect(server.primus.listeners('connection')).toContain(fn);
    await connectRaw(server);
    expect(server.primus.listeners('connection')).not.toContain(fn);
  });
});

describe('close listeners', () => {
  it('calls a once close listener once, with its context', async () => {
    const primus = detached();
    const ctx = { name: 'ctx' };
    const contexts: unknown[] = [];
    primus.once(
      'close',
      function (this: unknown) {
        contexts.push(this);
      },
      ctx,
    );
    primus.on('close', function (this: unknown, _options: unknown, next?: () => void) {
      contexts.push(this);
      next!();
    });
    await new Promise<void>((resolve) => primus.destroy({ close: false }, () => resolve()));
    expect(contexts).toEqual([ctx, primus]);
  });
});

/** Close an HTTP server Primus let go of (`destroy({ close: false })`). */
function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe("the HTTP server's own listeners", () => {
  it('calls a request listener added with once() for one request only, and does not give it back', async () => {
    const server = http.createServer();
    const onceCalls: string[] = [];
    server.once('request', (req: http.IncomingMessage) => onceCalls.push(req.url!));
    server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => res.end('app'));
    const { primus, url } = await attach(server);
    expect((await request(`${url}/first`)).body).toBe('app');
    expect((await request(`${url}/second`)).body).toBe('app');
    expect(onceCalls).toEqual(['/first']);
    await new Promise<void>((resolve) => primus.destroy({ close: false }, () => resolve()));
    expect(server.listenerCount('request')).toBe(1);
    expect((await request(`${url}/third`)).body).toBe('app');
    expect(onceCalls).toEqual(['/first']);
    await closeServer(server);
  });

  it('gives back a once listener that was not used, still as once', async () => {
    const server = http.createServer();
    const onceCalls: string[] = [];
    server.once('request', (req: http.IncomingMessage) => onceCalls.push(req.url!));
    server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => res.end('app'));
    const { primus, url } = await attach(server);
    expect((await request(`${url}/primus/spec`)).status).toBe(200);
    await new Promise<void>((resolve) => primus.destroy({ close: false }, () => resolve()));
    expect((await request(`${url}/a`)).body).toBe('app');
    expect((await request(`${url}/b`)).body).toBe('app');
    await waitFor(() => onceCalls.length > 0);
    expect(onceCalls).toEqual(['/a']);
    await closeServer(server);
  });
});
