import { EventEmitter } from 'node:events';
import { IncomingMessage } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { compactListeners, type RetainedRequest, type Spark } from '@primus/core';
import { nextSpark, once } from '@primus/transformer-test-suite';
import { cleanup, detached, flush, start, WebSocket } from './helpers';

// The per-connection memory savings (docs/performance.md) must not change what programs see.

afterEach(cleanup);

describe('heartbeats of many sparks share one timer per waiting time', () => {
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('expires each spark at its own deadline, whatever the others do', async () => {
    const primus = detached();
    const skipped: string[] = [];
    primus.on('heartbeat-skipped', (count: number, spark: Spark) => skipped.push(`${spark.id}:${count}@${Date.now() - start}`));
    const start = Date.now();
    const a = new primus.Spark({}, {}, 'ping=1000&pong=400', 'a');
    jest.advanceTimersByTime(100);
    const b = new primus.Spark({}, {}, 'ping=1000&pong=400', 'b');
    jest.advanceTimersByTime(100);
    const c = new primus.Spark({}, {}, 'ping=1000&pong=400', 'c');
    await flush();

    // a pings at 500: its deadline moves behind b's and c's.
    jest.advanceTimersByTime(300);
    a.incomingData(JSON.stringify('primus::ping::1'));
    // c ends at 600 and must not fire.
    jest.advanceTimersByTime(100);
    c.end();
    jest.advanceTimersByTime(1200);
    expect(skipped).toEqual(['b:1@1300', 'a:1@1700']);
    expect(c.timeout).toBeNull();
    expect(a.timeout).not.toBeNull();
  });

  it('keeps sparks with a different heartbeat on their own schedule', async () => {
    const primus = detached();
    const skipped: string[] = [];
    const start = Date.now();
    primus.on('heartbeat-skipped', (_count: number, spark: Spark) => skipped.push(`${spark.id}@${Date.now() - start}`));
    new primus.Spark({}, {}, 'ping=2000&pong=400', 'slow');
    new primus.Spark({}, {}, 'ping=1000&pong=400', 'fast');
    await flush();
    jest.advanceTimersByTime(2400);
    expect(skipped).toEqual(['fast@1200', 'fast@2400', 'slow@2200'].sort((x, y) => Number(x.split('@')[1]) - Number(y.split('@')[1])));
  });

  it('flatlines every silent spark of a list, and leaves no timer behind', async () => {
    const primus = detached();
    const flatlined: string[] = [];
    primus.on('flatline', (_count: number, spark: Spark) => flatlined.push(spark.id));
    for (const id of ['x', 'y', 'z']) new primus.Spark({}, {}, 'ping=1000&pong=400', id);
    await flush();
    jest.advanceTimersByTime(3 * 1200);
    expect(flatlined).toEqual(['x', 'y', 'z']);
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('compactListeners', () => {
  it('leaves an emitter working as before: on, once, off, emit, eventNames, removeAllListeners', () => {
    const emitter = new EventEmitter();
    compactListeners(emitter);
    const calls: string[] = [];
    const one = (x: string) => calls.push(`one ${x}`);
    emitter.on('data', one);
    emitter.on('data', (x: string) => calls.push(`two ${x}`));
    emitter.once('end', () => calls.push('end'));
    expect(emitter.eventNames()).toEqual(['data', 'end']);
    emitter.emit('data', 'a');
    emitter.emit('end');
    emitter.emit('end');
    emitter.off('data', one);
    emitter.emit('data', 'b');
    expect(calls).toEqual(['one a', 'two a', 'end', 'two b']);
    emitter.removeAllListeners();
    expect(emitter.emit('data', 'c')).toBe(false);
  });

  it('finds no listener for names that are Object.prototype members', () => {
    const emitter = new EventEmitter();
    compactListeners(emitter);
    expect(emitter.emit('toString')).toBe(false);
    expect(emitter.emit('__proto__')).toBe(false);
    expect(emitter.listenerCount('hasOwnProperty')).toBe(0);
  });

  it('does nothing to an emitter that already has listeners', () => {
    const emitter = new EventEmitter();
    const listener = () => undefined;
    emitter.on('data', listener);
    compactListeners(emitter);
    expect(emitter.listeners('data')).toEqual([listener]);
  });
});

describe('the keepRequest option', () => {
  it('keeps what programs read of spark.request for the life of the connection by default, middleware properties included', async () => {
    const server = await start();
    server.primus.before('session', (req: IncomingMessage & { session?: unknown; user?: () => string }, _res: unknown, next: () => void) => {
      req.session = { id: 7 };
      req.user = () => 'ann';
      next();
    });
    let during: unknown;
    server.primus.on('connection', (spark: Spark) => (during = spark.request));
    const client = new WebSocket(`${server.url.replace('http', 'ws')}/primus?room=a`, { headers: { 'x-forwarded-for': '203.0.113.9', 'x-two': ['a', 'b'] } });
    const spark = await nextSpark(server.primus);
    await once(client, 'open');
    await flush();
    // The connection listeners get Node's request itself.
    expect(during).toBeInstanceOf(IncomingMessage);
    const request = spark.request as RetainedRequest;
    expect(request).not.toBeInstanceOf(IncomingMessage);
    expect(request).toMatchObject({ method: 'GET', url: '/primus?room=a', originalUrl: '/primus?room=a', httpVersion: '1.1', httpVersionMajor: 1, httpVersionMinor: 1 });
    expect(request.headers).toBe(spark.headers);
    expect(request.headers.host).toBe(spark.headers.host);
    expect(request.rawHeaders).toEqual(expect.arrayContaining(['x-two', 'a, b', 'x-forwarded-for', '203.0.113.9']));
    expect(request.socket.remoteAddress).toBe('127.0.0.1');
    expect(request.connection).toBe(request.socket);
    expect(request.query.room).toBe('a');
    expect(request.uri).toEqual({ pathname: '/primus', search: '?room=a', query: request.query });
    expect(request.forwarded).toEqual(spark.address);
    expect(request.forwarded?.ip).toBe('203.0.113.9');
    expect(request.session).toEqual({ id: 7 });
    expect((request.user as () => string)()).toBe('ann');
    client.close();
  });

  it('keeps a query that middleware changed as it was', async () => {
    const server = await start();
    server.primus.before('tag', (req: IncomingMessage & { query?: Record<string, string | string[] | undefined> }, _res: unknown, next: () => void) => {
      req.query!.tagged = 'yes';
      next();
    });
    const client = new WebSocket(`${server.url.replace('http', 'ws')}/primus?room=d`);
    const spark = await nextSpark(server.primus);
    await once(client, 'open');
    await flush();
    const request = spark.request as RetainedRequest;
    expect(request).not.toBeInstanceOf(IncomingMessage);
    expect(request.query).toEqual({ room: 'd', tagged: 'yes' });
    expect(request.uri?.query).toBe(request.query);
    client.close();
  });

  it("with 'full', keeps Node's IncomingMessage itself", async () => {
    const server = await start({ keepRequest: 'full' });
    const client = new WebSocket(`${server.url.replace('http', 'ws')}/primus?room=c`);
    const spark = await nextSpark(server.primus);
    await once(client, 'open');
    await flush();
    expect(spark.request).toBeInstanceOf(IncomingMessage);
    expect((spark.request as unknown as { query: Record<string, string> }).query.room).toBe('c');
    client.close();
  });

  it('with false, hands the request to connection listeners and releases it after; address and headers stay', async () => {
    const server = await start({ keepRequest: false });
    let seen: unknown;
    server.primus.on('connection', (spark: Spark) => (seen = spark.request?.url));
    const client = new WebSocket(`${server.url.replace('http', 'ws')}/primus?room=b`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    const spark = await nextSpark(server.primus);
    await once(client, 'open');
    expect(seen).toBe('/primus?room=b');
    expect(spark.request).toBeUndefined();
    expect(spark.address.ip).toBe('203.0.113.9');
    expect(spark.headers['x-forwarded-for']).toBe('203.0.113.9');
    expect(spark.query.room).toBe('b');
    client.close();
  });

  it("rejects a value that is not a boolean or 'full', naming the option", () => {
    expect(() => detached({ keepRequest: 'no' as unknown as boolean })).toThrow(/keepRequest/);
  });
});

describe('parsed queries', () => {
  it('hold keys named like Object.prototype members as plain values and inherit nothing', async () => {
    const server = await start();
    const client = new WebSocket(`${server.url.replace('http', 'ws')}/primus?__proto__=x&constructor=y&toString=z&a=1&a=2`);
    const spark = await nextSpark(server.primus);
    await once(client, 'open');
    const query = (spark.request as unknown as { query: Record<string, unknown> }).query;
    expect({ ...query }).toEqual({ ['__proto__']: 'x', constructor: 'y', toString: 'z', a: ['1', '2'] });
    expect('hasOwnProperty' in query).toBe(false);
    expect(spark.query.constructor).toBe('y');
    client.close();
  });
});
