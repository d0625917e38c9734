import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { HttpError, Middleware, MiddlewareResponse, Primus, PrimusRequest } from '@primus/core';
import { nextSpark, once, request } from '@primus/transformer-test-suite';
import { cleanup, connectRaw, detached, rawExchange, start, upgradeRequest } from './helpers';

afterEach(cleanup);

const DEFAULT_LAYERS = 7;

function httpError(message: string, fields: Partial<HttpError> = {}): HttpError {
  return Object.assign(new Error(message), fields);
}

describe('before() and the layer stack', () => {
  it('appends a layer named after the function, with its arity', () => {
    const primus = detached();
    function sync(_req: PrimusRequest, _res: MiddlewareResponse) {}
    function async(_req: PrimusRequest, _res: MiddlewareResponse, next: () => void) {
      next();
    }
    expect(primus.before(sync).before(async)).toBe(primus);
    expect(primus.layers.slice(DEFAULT_LAYERS)).toEqual([
      { name: 'sync', enabled: true, length: 2, fn: sync },
      { name: 'async', enabled: true, length: 3, fn: async },
    ]);
  });

  it('calls a function with fewer than two parameters as a factory, with this === primus and the options', () => {
    const primus = detached();
    const calls: unknown[][] = [];
    const layer = (_req: PrimusRequest, _res: MiddlewareResponse) => false;
    primus.before(
      'made',
      function factory(this: Primus, options: Record<string, unknown>) {
        calls.push([this, options]);
        return layer;
      },
      { foo: 'bar' },
    );
    primus.before('defaults', function (this: Primus, options: Record<string, unknown>) {
      calls.push([this, options]);
      return layer;
    });
    expect(calls).toEqual([
      [primus, { foo: 'bar' }],
      [primus, {}],
    ]);
    expect(primus.layers.slice(DEFAULT_LAYERS).map((l) => [l.name, l.fn])).toEqual([
      ['made', layer],
      ['defaults', layer],
    ]);
  });

  it('refuses anything that does not end up as a function of two or more parameters', () => {
    const primus = detached();
    const message = 'Middleware should be a function that accepts at least 2 args';
    expect(() => primus.before('nope', 'string' as unknown as Middleware)).toThrow(message);
    expect(() => primus.before('short', () => (_req: unknown) => {})).toThrow(message);
    expect(() => primus.before('nothing', () => undefined as unknown as Middleware)).toThrow(expect.objectContaining({ code: 'PRIMUS_ERR_MIDDLEWARE' }));
  });

  it('replaces a layer of the same name in place', () => {
    const primus = detached();
    const first = (_req: PrimusRequest, _res: MiddlewareResponse) => false;
    const second = (_req: PrimusRequest, _res: MiddlewareResponse, next: () => void) => next();
    primus.before('mine', first).before('after', first).before('mine', second);
    expect(primus.indexOfLayer('mine')).toBe(DEFAULT_LAYERS);
    expect(primus.layers[DEFAULT_LAYERS]).toEqual({ name: 'mine', enabled: true, length: 3, fn: second });
    expect(primus.layers).toHaveLength(DEFAULT_LAYERS + 2);
  });

  it('inserts at a given level, and appends when the level is out of range', () => {
    const primus = detached();
    const fn = (_req: PrimusRequest, _res: MiddlewareResponse) => false;
    function atFour(_req: PrimusRequest, _res: MiddlewareResponse) {
      return false;
    }
    primus.before('at-three', fn, 3);
    primus.before(atFour, 4);
    primus.before('factory', () => fn);
    primus.before('far', fn, 99);
    expect(primus.indexOfLayer('at-three')).toBe(3);
    expect(primus.indexOfLayer('atFour')).toBe(4);
    expect(primus.layers.map((l) => l.name).slice(-2)).toEqual(['factory', 'far']);
    expect(primus.indexOfLayer('forwarded')).toBe(0);
  });

  it('finds, disables, enables and removes layers by name', () => {
    const primus = detached();
    expect(primus.indexOfLayer('cors')).toBe(1);
    expect(primus.indexOfLayer('missing')).toBe(-1);
    expect(primus.disable('cors')).toBe(primus);
    expect(primus.layers[1]!.enabled).toBe(false);
    expect(primus.enable('cors')).toBe(primus);
    expect(primus.layers[1]!.enabled).toBe(true);
    expect(primus.remove('cors')).toBe(primus);
    expect(primus.indexOfLayer('cors')).toBe(-1);
    expect(primus.layers).toHaveLength(DEFAULT_LAYERS - 1);
  });
});

describe('running middleware', () => {
  it('stops at a synchronous layer that returns true: it answered the request', async () => {
    const server = await start();
    let later = 0;
    server.primus.before('answer', (req: PrimusRequest, res: MiddlewareResponse) => {
      if (req.uri.pathname !== '/primus/custom') return false;
      (res as import('node:http').ServerResponse).end('answered by middleware');
      return true;
    });
    server.primus.before('later', (_req: PrimusRequest, _res: MiddlewareResponse) => void later++);
    expect((await request(`${server.url}/primus/custom`)).body).toBe('answered by middleware');
    expect(later).toBe(0);
    expect((await request(`${server.url}/primus/other`)).status).toBe(426);
    expect(later).toBe(1);
  });

  it('gives each request its parsed query and original URL', async () => {
    const server = await start();
    const seen: unknown[] = [];
    server.primus.before('look', (req: PrimusRequest, _res: MiddlewareResponse) => void seen.push([req.uri.pathname, req.query, req.originalUrl]));
    await request(`${server.url}/primus/x?a=1&b=2`);
    expect(seen).toEqual([['/primus/x', { a: '1', b: '2' }, '/primus/x?a=1&b=2']]);
  });

  it.each([
    [undefined, 500],
    [418, 418],
    [404, 404],
  ])('answers next(err) carrying statusCode %p with a JSON %p', async (statusCode, status) => {
    const server = await start();
    server.primus.before('boom', (_req: PrimusRequest, _res: MiddlewareResponse, next: (err?: HttpError) => void) => {
      next(httpError('boom', { statusCode, authenticate: 'Basic' }));
    });
    const res = await request(`${server.url}/primus`);
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(JSON.parse(res.body)).toEqual({ error: 'boom' });
  });

  it('answers next(err) on an upgrade with a raw HTTP response and closes the socket', async () => {
    const server = await start();
    server.primus.before('boom', (_req: PrimusRequest, _res: MiddlewareResponse, next: (err?: HttpError) => void) => next(httpError('gone', { statusCode: 404 })));
    const answer = await rawExchange(server.port, upgradeRequest('/primus'));
    expect(answer).toBe('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{"error":"gone"}');
  });

  it('defaults to 500 on an upgrade too, and the client never gets a spark', async () => {
    const server = await start();
    let connections = 0;
    server.primus.on('connection', () => connections++);
    server.primus.before('boom', (_req: PrimusRequest, _res: MiddlewareResponse, next: (err?: HttpError) => void) => next(new Error('nope')));
    const answer = await rawExchange(server.port, upgradeRequest('/primus'));
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 500 Internal Server Error');
    expect(answer).toContain('\r\nConnection: close\r\n');
    expect(connections).toBe(0);
  });

  it('turns a throwing layer into a 500 and a log entry, and keeps serving', async () => {
    const server = await start();
    const logged: unknown[] = [];
    server.primus.on('log', (level: string, err: unknown) => level === 'error' && logged.push(err));
    server.primus.before('throws', (req: PrimusRequest, _res: MiddlewareResponse) => {
      if (req.uri.pathname === '/primus/throw') throw new Error('layer bug');
      return false;
    });
    const res = await request(`${server.url}/primus/throw`);
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ error: 'layer bug' });
    expect(logged.map((err) => (err as Error).message)).toEqual(['layer bug']);
    expect((await request(`${server.url}/primus`)).status).toBe(426);
  });

  it('skips disabled layers and runs them again once enabled', async () => {
    const server = await start();
    server.primus.before('deny', (_req: PrimusRequest, _res: MiddlewareResponse, next: (err?: HttpError) => void) => next(httpError('denied', { statusCode: 403 })));
    expect((await request(`${server.url}/primus`)).status).toBe(403);
    server.primus.disable('deny');
    expect((await request(`${server.url}/primus`)).status).toBe(426);
    server.primus.enable('deny');
    expect((await request(`${server.url}/primus`)).status).toBe(403);
  });

  it('keeps a layer flagged http: false off plain requests, and one flagged upgrade: false off upgrades', async () => {
    const server = await start();
    const ran: string[] = [];
    const upgradesOnly = ((req: IncomingMessage, _res: MiddlewareResponse) => void ran.push(`upgrades-only ${req.headers.upgrade ?? 'http'}`)) as Middleware;
    upgradesOnly.http = false;
    const httpOnly = ((req: IncomingMessage, _res: MiddlewareResponse) => void ran.push(`http-only ${req.headers.upgrade ?? 'http'}`)) as Middleware;
    httpOnly.upgrade = false;
    server.primus.before('upgrades-only', upgradesOnly).before('http-only', httpOnly);
    await request(`${server.url}/primus`);
    await connectRaw(server);
    expect(ran).toEqual(['http-only http', 'upgrades-only websocket']);
  });
});

describe('authorization', () => {
  it('needs a function of at least two parameters', () => {
    const primus = detached();
    expect(() => primus.authorize(((_req: unknown) => {}) as never)).toThrow('Authorize function requires more arguments');
    expect(() => primus.authorize('yes' as never)).toThrow(TypeError);
    const fn = (_req: PrimusRequest, done: () => void) => done();
    expect(primus.authorize(fn)).toBe(primus);
    expect(primus.auth).toBe(fn);
  });

  it('refuses with 401 and the error message by default', async () => {
    const server = await start({ authorization: (_req, done) => done(new Error('I failed')) });
    const res = await request(`${server.url}/primus`);
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.headers['cache-control']).toBe('no-store, no-cache, must-revalidate, max-age=0');
    expect(JSON.parse(res.body)).toEqual({ error: 'I failed' });
  });

  it('sends WWW-Authenticate with a 401 only', async () => {
    const server = await start();
    let status: number | undefined;
    server.primus.authorize((_req, done) => done(httpError('I failed', { statusCode: status, authenticate: 'Basic realm="primus"' })));
    const unauthorised = await request(`${server.url}/primus`);
    expect(unauthorised.status).toBe(401);
    expect(unauthorised.headers['www-authenticate']).toBe('Basic realm="primus"');
    status = 404;
    const notFound = await request(`${server.url}/primus`);
    expect(notFound.status).toBe(404);
    expect(notFound.headers['www-authenticate']).toBeUndefined();
  });

  it('refuses an upgrade with a raw 401 response', async () => {
    const server = await start({ authorization: (_req, done) => done(httpError('I failed', { authenticate: 'Basic realm="primus"' })) });
    const answer = await rawExchange(server.port, upgradeRequest('/primus'));
    expect(answer).toBe(
      'HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 20\r\n' +
        'WWW-Authenticate: Basic realm="primus"\r\n\r\n{"error":"I failed"}',
    );
  });

  it('accepts a string or a plain object as the refusal', async () => {
    const server = await start();
    let refusal: unknown = 'nope';
    server.primus.authorize((_req, done) => done(refusal as Error));
    expect(JSON.parse((await request(`${server.url}/primus`)).body)).toEqual({ error: 'nope' });
    refusal = { message: 'plain', statusCode: 403 };
    const res = await request(`${server.url}/primus`);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toEqual({ error: 'plain' });
  });

  it('refuses when an async hook rejects', async () => {
    const server = await start();
    server.primus.authorize(async (_req, _done) => {
      throw httpError('rejected', { statusCode: 403 });
    });
    const res = await request(`${server.url}/primus`);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toEqual({ error: 'rejected' });
  });

  it('runs for every HTTP request and every upgrade, with this === primus and the forwarded address', async () => {
    const server = await start();
    const calls: Array<{ self: unknown; upgrade: boolean; ip: unknown; port: unknown }> = [];
    server.primus.authorize(function (this: Primus, req, done) {
      calls.push({ self: this, upgrade: req.headers.upgrade === 'websocket', ip: req.forwarded?.ip, port: req.forwarded?.port });
      done();
    });
    await request(`${server.url}/primus`);
    await request(`${server.url}/primus/x`);
    await connectRaw(server);
    expect(calls).toHaveLength(3);
    expect(calls.map((call) => call.upgrade)).toEqual([false, false, true]);
    for (const call of calls) {
      expect(call.self).toBe(server.primus);
      expect(call.ip).toBe('127.0.0.1');
      expect(typeof call.port).toBe('number');
      expect(call.port).toBeGreaterThan(0);
    }
  });

  it('lets an accepted client through, even when the decision is asynchronous', async () => {
    const server = await start({ authorization: (_req, done) => void setTimeout(done, 20) });
    const client = await connectRaw(server);
    const data = once(client.spark, 'data');
    client.send('through');
    expect((await data)[0]).toBe('through');
  });

  it('runs before user middleware', async () => {
    const server = await start({ authorization: (_req, done) => done(new Error('no')) });
    let userLayer = 0;
    server.primus.before('user', (_req: PrimusRequest, _res: MiddlewareResponse) => void userLayer++);
    expect((await request(`${server.url}/primus`)).status).toBe(401);
    expect(userLayer).toBe(0);
  });

  it('makes a refused client end for good instead of reconnecting', async () => {
    const server = await start({ authorization: (_req, done) => done(new Error('go away')) });
    let connections = 0;
    server.primus.on('connection', () => connections++);
    const client = server.client({}, { errors: 'expected' });
    expect(client.authorization).toBe(true);
    let reconnects = 0;
    client.on('reconnect scheduled', () => reconnects++);
    await once(client, 'end');
    expect(reconnects).toBe(0);
    expect(connections).toBe(0);
  });

  it('lets an authorised client connect once the hook accepts', async () => {
    let allow = false;
    const server = await start({ authorization: (_req, done) => done(allow ? undefined : new Error('not yet')) });
    expect((await rawExchange(server.port, upgradeRequest('/primus'))).split('\r\n')[0]).toBe('HTTP/1.1 401 Unauthorized');
    allow = true;
    const spark = nextSpark(server.primus);
    server.client();
    await spark;
  });
});
