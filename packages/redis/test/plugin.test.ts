// The plugin in one process: several Primus servers in the test process share a real
// redis-server. Options, encoding, transformers, the HTTP endpoint and failure handling.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Primus, type Parser, type PrimusOptions } from '@primus/core';
import websockets from '@primus/transformer-ws';
import { nextSpark, request, startServer, waitFor, type TestServer } from '@primus/transformer-test-suite';
import { ClusterError, redisCluster, type RedisCluster, type RedisClusterOptions } from '../src/index';
import { cleanup, connect, freePort, onCleanup, startRedis, type RedisProcess } from './helpers/processes';

jest.setTimeout(30_000);
afterEach(cleanup);

const SECRET = 'a-shared-secret-of-some-length';

/** A Primus server with the cluster plugin, closed at cleanup. */
async function node(settings: RedisClusterOptions, options: PrimusOptions = {}): Promise<TestServer & { cluster: RedisCluster }> {
  const server = await startServer({ transformer: websockets, ...options, plugin: { cluster: redisCluster(settings) } });
  onCleanup(() => server.close());
  return Object.assign(server, { cluster: server.primus.cluster! });
}

/** Two servers of one cluster (a fresh prefix per test) on one Redis, both registered. */
async function pair(
  redis: RedisProcess,
  extra: RedisClusterOptions = {},
  options: [PrimusOptions?, PrimusOptions?] = [],
): Promise<[TestServer & { cluster: RedisCluster }, TestServer & { cluster: RedisCluster }]> {
  const settings = { url: redis.url, prefix: `test-${randomUUID()}`, ttl: 2000, heartbeat: 300, timeout: 1000, ...extra };
  const a = await node(settings, options[0]);
  const b = await node(settings, options[1]);
  await Promise.all([a.cluster.ready(5000), b.cluster.ready(5000)]);
  return [a, b];
}

/** A JSON parser that counts what the server encodes and decodes. */
function countingParser(binary = false): Parser & { count: { encoded: number; decoded: number } } {
  const count = { encoded: 0, decoded: 0 };
  return {
    name: 'counting',
    count,
    encode(data: unknown) {
      count.encoded++;
      const text = JSON.stringify(data);
      return binary ? Buffer.from(text) : text;
    },
    decode(raw: string | Uint8Array) {
      count.decoded++;
      return JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8'));
    },
  };
}

function post(
  url: string,
  body: string,
  headers: Record<string, string> = { authorization: `Bearer ${SECRET}` },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('options', () => {
  it.each<[string, RedisClusterOptions, RegExp]>([
    ['a url that is not redis://', { url: 'http://localhost' }, /option "url" must be a redis:\/\/ or rediss:\/\/ URL/],
    ['an empty id', { id: '' }, /option "id" must be a non-empty string/],
    ['an empty prefix', { prefix: '' }, /option "prefix" must be a non-empty string/],
    ['a negative ttl', { ttl: -1 }, /option "ttl" must be a positive integer number of ms, got -1/],
    ['a fractional timeout', { timeout: 1.5 }, /option "timeout" must be a positive integer/],
    ['a heartbeat no shorter than the ttl', { ttl: 1000, heartbeat: 1000 }, /option "heartbeat" must be less than ttl \(1000 ms\)/],
    ['a short endpoint secret', { endpoint: { secret: 'short' } }, /option "endpoint.secret" must be a string of at least 16 characters, got "5 characters"/],
    ['an endpoint path without a slash', { endpoint: { secret: SECRET, path: 'cluster' } }, /option "endpoint.path" must be a path starting with "\/"/],
    ['options that are a url string', 'redis://localhost' as never, /option "options" must be an object, got "redis:\/\/localhost"/],
    ['a ttl in a string', { ttl: '10s' as never }, /option "ttl" must be a positive integer number of ms, got "10s"/],
    ['a prefix that is a number', { prefix: 7 as never }, /option "prefix" must be a non-empty string, got 7/],
    ['redis options that are a string', { redis: 'localhost' as never }, /option "redis" must be an object of ioredis options, got "localhost"/],
  ])('refuses %s with a TypeError that names the option', (_what, options, message) => {
    const make = (): unknown => redisCluster(options);
    expect(make).toThrow(TypeError);
    expect(make).toThrow(message);
    expect(make).toThrow(expect.objectContaining({ code: 'PRIMUS_ERR_INVALID_OPTION', message: expect.stringMatching(/^@primus\/redis: option /) }));
  });

  it('refuses an endpoint path outside the pathname, leaving the HTTP server as it was and Redis untouched', async () => {
    const redis = await startRedis();
    const server = http.createServer();
    const plugin = redisCluster({ url: redis.url, endpoint: { secret: SECRET, path: '/elsewhere' } });
    expect(() => new Primus(server, { transformer: websockets, plugin: { cluster: plugin } })).toThrow(
      /option "endpoint.path" must be a path under the server's pathname "\/primus"/,
    );
    expect(server.listenerCount('request')).toBe(0);
    const clients = (await redis.client().client('LIST')) as string;
    expect(clients).not.toContain('name=primus:');
  });

  it('refuses a second cluster plugin on the same server', async () => {
    const redis = await startRedis();
    const a = await node({ url: redis.url });
    expect(() => a.primus.use('again', redisCluster({ url: redis.url }))).toThrow(/already has a cluster plugin/);
    expect(() => a.primus.use('again', redisCluster({ url: redis.url }))).toThrow(expect.objectContaining({ name: 'PrimusError', code: 'PRIMUS_ERR_PLUGIN' }));
  });
});

describe('broadcasts', () => {
  it('encode once on the sending server and are not encoded again by the others', async () => {
    const redis = await startRedis();
    const parsers = [countingParser(), countingParser()];
    const [a, b] = await pair(redis, {}, [{ parser: parsers[0] }, { parser: parsers[1] }]);
    const clients = await Promise.all([connect(a.url), connect(a.url), connect(a.url), connect(b.url), connect(b.url), connect(b.url)]);
    const before = parsers.map((p) => ({ ...p.count }));
    expect(a.primus.write({ hello: 'everyone' })).toBe(true);
    await waitFor(() => clients.every((c) => c.received.length === 1), 5000, 'the broadcast at every client');
    expect(clients.map((c) => c.received[0])).toEqual(Array(6).fill({ hello: 'everyone' }));
    expect(parsers[0]!.count.encoded - before[0]!.encoded).toBe(1);
    expect(parsers[1]!.count.encoded - before[1]!.encoded).toBe(0);
    expect(parsers[1]!.count.decoded - before[1]!.decoded).toBe(0);
  });

  it('carry binary payloads as binary, byte for byte', async () => {
    const redis = await startRedis();
    const [a, b] = await pair(redis, {}, [{ parser: countingParser(true) }, { parser: countingParser(true) }]);
    const arriving = nextSpark(b.primus);
    const client = await connect(b.url);
    const spark = await arriving;
    const frames: unknown[] = [];
    spark.on('outgoing::data', (payload) => frames.push(payload));
    await waitFor(async () => (await a.cluster.spark(client.sparkId)) === b.cluster.id, 5000, 'the spark in the registry');

    a.primus.write({ text: 'ÅÉÎ € \u2028' });
    await expect(a.cluster.send(client.sparkId, { to: 'one' })).resolves.toBe(true);
    await waitFor(() => client.received.length === 2, 5000, 'both messages');
    expect(client.received).toEqual([{ text: 'ÅÉÎ € \u2028' }, { to: 'one' }]);
    const binary = frames.filter((f) => typeof f !== 'string');
    expect(binary.map((f) => Buffer.from(f as Uint8Array).toString('utf8'))).toEqual([JSON.stringify({ text: 'ÅÉÎ € \u2028' }), JSON.stringify({ to: 'one' })]);
  });

  it('go through the outgoing message transformers of the receiving server', async () => {
    const redis = await startRedis();
    const [a, b] = await pair(redis);
    b.primus.transform('outgoing', (packet) => {
      packet.data = { via: 'b', data: packet.data };
    });
    const onA = await connect(a.url);
    const onB = await connect(b.url);
    await waitFor(async () => (await a.cluster.spark(onB.sparkId)) === b.cluster.id, 5000, 'the spark in the registry');

    a.primus.write('all');
    await expect(a.cluster.send(onB.sparkId, 'one')).resolves.toBe(true);
    await waitFor(() => onB.received.length === 2 && onA.received.length === 1, 5000, 'the messages');
    expect(onA.received).toEqual(['all']);
    expect(onB.received).toEqual([
      { via: 'b', data: 'all' },
      { via: 'b', data: 'one' },
    ]);
  });

  it('resolve cluster.broadcast() once Redis took them', async () => {
    const redis = await startRedis();
    const [a, b] = await pair(redis);
    const client = await connect(b.url);
    await expect(a.cluster.broadcast({ n: 1 })).resolves.toBeUndefined();
    await waitFor(() => client.received.length === 1, 5000, 'the broadcast');
    expect(client.received).toEqual([{ n: 1 }]);
  });
});

describe('events for monitoring', () => {
  it('tell about broadcasts published and received, and each send with its duration and outcome', async () => {
    const redis = await startRedis();
    const [a, b] = await pair(redis);
    const seen: string[] = [];
    a.cluster.on('published', () => seen.push('a published'));
    b.cluster.on('received', () => seen.push('b received'));
    a.cluster.on('received', () => seen.push('a received'));
    const sends: Array<[number, string]> = [];
    a.cluster.on('send', (ms, outcome) => sends.push([ms, outcome]));
    const onA = await connect(a.url);
    const onB = await connect(b.url);
    await waitFor(async () => (await a.cluster.spark(onB.sparkId)) === b.cluster.id, 5000, 'the spark in the registry');

    a.primus.write('one');
    await a.cluster.broadcast('two');
    await waitFor(() => seen.filter((e) => e === 'b received').length === 2 && seen.filter((e) => e === 'a published').length === 2, 5000, 'both broadcasts');
    expect(seen.filter((e) => e === 'a received')).toEqual([]);

    await expect(a.cluster.send(onB.sparkId, 'remote')).resolves.toBe(true);
    await expect(a.cluster.send(onA.sparkId, 'local')).resolves.toBe(true);
    await expect(a.cluster.send('no-such-spark', 'nobody')).resolves.toBe(false);
    expect(sends.map(([, outcome]) => outcome)).toEqual(['delivered', 'delivered', 'not-found']);
    for (const [ms] of sends) expect(ms).toBeGreaterThanOrEqual(0);
  });

  it("report a send that rejects as 'failed'", async () => {
    const lonely = await node({ url: `redis://127.0.0.1:${await freePort()}`, timeout: 500 });
    const sends: string[] = [];
    lonely.cluster.on('send', (_ms, outcome) => sends.push(outcome));
    await expect(lonely.cluster.send('somewhere', 'lost')).rejects.toThrow(ClusterError);
    expect(sends).toEqual(['failed']);
  });
});

describe('the registry', () => {
  it('is written again at the next heartbeat when it vanishes from a Redis that stayed up', async () => {
    const redis = await startRedis();
    const [a, b] = await pair(redis);
    const clients = await Promise.all([connect(a.url), connect(b.url)]);
    const ids = clients.map((c) => c.sparkId).sort();
    await waitFor(async () => (await a.cluster.sparks()).length === 2, 5000, 'both sparks');
    await redis.client().flushall();
    expect(await a.cluster.sparks()).toEqual([]);
    await waitFor(async () => (await a.cluster.sparks()).sort().join() === ids.join(), 2000, 'the registry to be rewritten');
    expect((await b.cluster.servers()).sort()).toEqual([a.cluster.id, b.cluster.id].sort());
  });

  it('uses the id it is given and lists itself among the servers', async () => {
    const redis = await startRedis();
    const a = await node({ url: redis.url, id: 'web-1', prefix: `test-${randomUUID()}` });
    await a.cluster.ready(5000);
    expect(a.cluster.id).toBe('web-1');
    expect(await a.cluster.servers()).toEqual(['web-1']);
  });
});

describe('without Redis', () => {
  it('works locally, fails cluster operations at once, logs one warning, and joins when Redis comes', async () => {
    const redis = await startRedis();
    const [a] = await pair(redis);
    const logs: unknown[][] = [];
    a.primus.on('log', (...args: unknown[]) => logs.push(args));
    const client = await connect(a.url);
    await redis.kill();
    await waitFor(() => !a.cluster.available, 5000, 'the cluster to notice');

    expect(a.primus.write('one')).toBe(true);
    expect(a.primus.write('two')).toBe(true);
    await waitFor(() => client.received.length === 2, 5000, 'local delivery');
    await expect(a.cluster.send(client.sparkId, 'local')).resolves.toBe(true);

    for (const operation of [() => a.cluster.sparks(), () => a.cluster.servers(), () => a.cluster.spark('x'), () => a.cluster.send('x', 1), () => a.cluster.broadcast(1)]) {
      const started = Date.now();
      const err = (await operation().catch((e: unknown) => e)) as ClusterError;
      expect(Date.now() - started).toBeLessThan(200);
      expect(err).toBeInstanceOf(ClusterError);
      expect(err.code).toBe('PRIMUS_ERR_CLUSTER_UNAVAILABLE');
      expect(err.message).toContain(`Redis at ${redis.url} is unreachable`);
    }
    const warnings = logs.filter(([level, err]) => level === 'warn' && (err as ClusterError).message.includes('did not reach the other servers'));
    expect(warnings).toHaveLength(1);

    await redis.start();
    await a.cluster.ready(5000);
    expect(await a.cluster.sparks()).toEqual([client.sparkId]);
  });

  it('starts, serves local sparks and shuts down cleanly when Redis never answers', async () => {
    const port = await freePort();
    const a = await node({ url: `redis://127.0.0.1:${port}`, timeout: 200 });
    const client = await connect(a.url);
    a.primus.write('local only');
    await waitFor(() => client.received.length === 1, 5000, 'local delivery');
    await expect(a.cluster.ready(200)).rejects.toMatchObject({ code: 'PRIMUS_ERR_CLUSTER_UNAVAILABLE' });
    await expect(a.cluster.sparks()).rejects.toMatchObject({ code: 'PRIMUS_ERR_CLUSTER_UNAVAILABLE', message: expect.stringContaining('ECONNREFUSED') });
  });

  it('answers nothing once its server is destroyed', async () => {
    const redis = await startRedis();
    const [a, b] = await pair(redis);
    await a.close();
    await expect(a.cluster.sparks()).rejects.toMatchObject({ code: 'PRIMUS_ERR_CLUSTER_CLOSED' });
    await expect(a.cluster.ready()).rejects.toMatchObject({ code: 'PRIMUS_ERR_CLUSTER_CLOSED' });
    expect(await b.cluster.servers()).toEqual([b.cluster.id]);
  });
});

describe('the HTTP endpoint', () => {
  async function withEndpoint(): Promise<{ redis: RedisProcess; a: TestServer & { cluster: RedisCluster }; b: TestServer & { cluster: RedisCluster }; url: string }> {
    const redis = await startRedis();
    // The application refuses every client: the endpoint answers to its secret, not to that hook.
    const refuse = (_req: unknown, done: (err: Error) => void): void => done(Object.assign(new Error('no clients'), { statusCode: 403 }));
    const [a, b] = await pair(redis, { endpoint: { secret: SECRET } }, [{ authorization: refuse }]);
    return { redis, a, b, url: `${a.url}/primus/cluster` };
  }

  it('broadcasts to every server and sends to one spark, authenticated by the shared secret', async () => {
    const { a, b, url } = await withEndpoint();
    const client = await connect(b.url);
    await waitFor(async () => (await a.cluster.spark(client.sparkId)) === b.cluster.id, 5000, 'the spark in the registry');

    const broadcast = await post(url, JSON.stringify({ data: { from: 'php' } }));
    expect([broadcast.status, JSON.parse(broadcast.body)]).toEqual([200, { ok: true }]);
    const sent = await post(url, JSON.stringify({ data: 'just you', spark: client.sparkId }));
    expect([sent.status, JSON.parse(sent.body)]).toEqual([200, { ok: true, sent: true }]);
    const missing = await post(url, JSON.stringify({ data: 'nobody', spark: 'no-such-spark' }));
    expect([missing.status, JSON.parse(missing.body)]).toEqual([200, { ok: true, sent: false }]);
    await waitFor(() => client.received.length === 2, 5000, 'both messages');
    expect(client.received).toEqual([{ from: 'php' }, 'just you']);
  });

  it.each<[string, () => [string, Record<string, string>?], number, RegExp]>([
    ['no secret', () => ['{"data":1}', {}], 401, /Missing or wrong secret/],
    ['a wrong secret', () => ['{"data":1}', { authorization: `Bearer ${SECRET}x` }], 401, /Missing or wrong secret/],
    ['a body that is not JSON', () => ['{"data":'], 400, /The body must be JSON/],
    ['a body without data', () => ['{"spark":"x"}'], 400, /"data" field/],
    ['a spark id that is not a string', () => ['{"data":1,"spark":5}'], 400, /"spark" must be a spark id/],
    ['a body over maxLength', () => [JSON.stringify({ data: 'x'.repeat(2048) })], 413, /larger than 1024 bytes/],
  ])('refuses %s', async (_what, make, status, message) => {
    const redis = await startRedis();
    const a = await node({ url: redis.url, endpoint: { secret: SECRET } }, { maxLength: 1024 });
    const [body, headers] = make();
    const res = await post(`${a.url}/primus/cluster`, body, headers);
    expect(res.status).toBe(status);
    expect(JSON.parse(res.body)).toEqual({ ok: false, error: expect.stringMatching(message) });
    if (status === 401) expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('answers only POST, at the configured path', async () => {
    const redis = await startRedis();
    const a = await node({ url: redis.url, endpoint: { secret: SECRET, path: '/primus/omega' } });
    await a.cluster.ready(5000);
    const get = await request(`${a.url}/primus/omega`);
    expect([get.status, get.headers.allow]).toEqual([405, 'POST']);
    expect((await post(`${a.url}/primus/omega`, '{"data":1}')).status).toBe(200);
    expect((await post(`${a.url}/primus/cluster`, '{"data":1}')).status).not.toBe(200);
  });

  it('is not there unless it is configured', async () => {
    const redis = await startRedis();
    const a = await node({ url: redis.url });
    const res = await post(`${a.url}/primus/cluster`, '{"data":1}');
    expect(res.status).toBe(426);
  });

  it('answers 503 with the reason while Redis is away', async () => {
    const { redis, b } = await withEndpoint();
    const client = await connect(b.url);
    await redis.kill();
    await waitFor(() => !b.cluster.available, 5000, 'the cluster to notice');
    const res = await post(`${b.url}/primus/cluster`, JSON.stringify({ data: 'partial' }));
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toEqual({ ok: false, code: 'PRIMUS_ERR_CLUSTER_UNAVAILABLE', error: expect.stringContaining(redis.url) });
    // The local sparks got it all the same.
    await waitFor(() => client.received.length === 1, 5000, 'local delivery');
  });
});
