import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Primus, type Spark } from '@primus/core';
import { once, waitFor } from '@primus/transformer-test-suite';
import { register, Registry } from 'prom-client';
import binary from '@primus/parser-binary';
import { METRICS, metrics } from '../src/index';
import { cleanup, get, raw, scrape, start } from './helpers';

afterEach(cleanup);

const PATH = '/primus/metrics';
const ws = { transformer: 'websockets' };

/** A server with the plugin on a registry of its own, echoing every message. */
async function echoServer(options: Parameters<typeof metrics>[0] = {}) {
  const registry = new Registry();
  const server = await start({ plugin: { metrics: metrics({ registry, path: PATH, ...options }) } });
  server.primus.on('connection', (spark: Spark) => spark.on('data', (data: unknown) => spark.write(data)));
  return Object.assign(server, { registry, metricsUrl: server.url + PATH });
}

describe('@primus/metrics over a real websockets server', () => {
  it('counts connections, messages and bytes, leaving out the protocol’s own frames', async () => {
    const server = await echoServer();
    const client = await raw(server);
    const frames = [JSON.stringify('héllo € 😀'), JSON.stringify({ n: 1, list: [1, 2, 3] })];
    for (const frame of frames) client.ws.send(frame);
    await waitFor(() => client.received.length === 2, 5000, 'both echoes');
    const bytes = frames.reduce((sum, f) => sum + Buffer.byteLength(f), 0);

    let m = await scrape(server.metricsUrl);
    expect(m.value('primus_connections', ws)).toBe(1);
    expect(m.value('primus_connections_total', ws)).toBe(1);
    expect(m.value('primus_messages_received_total', ws)).toBe(2);
    expect(m.value('primus_messages_sent_total', ws)).toBe(2);
    expect(m.value('primus_received_bytes_total', ws)).toBe(bytes);
    expect(m.value('primus_sent_bytes_total', ws)).toBe(bytes);

    // A client with a fast heartbeat: its pings and the pongs are bytes, not messages.
    const pinging = server.client({ ping: 100 });
    await once(pinging, 'open');
    await once(pinging, 'incoming::pong');
    m = await scrape(server.metricsUrl);
    expect(m.value('primus_connections', ws)).toBe(2);
    expect(m.value('primus_messages_received_total', ws)).toBe(2);
    expect(m.value('primus_messages_sent_total', ws)).toBe(2);
    expect(m.value('primus_received_bytes_total', ws)).toBeGreaterThanOrEqual(bytes + '"primus::ping::1700000000000"'.length);
    expect(m.value('primus_sent_bytes_total', ws)).toBeGreaterThanOrEqual(bytes + '"primus::pong::1700000000000"'.length);
  });

  it('tells disconnections apart: client end, server end, heartbeat timeout, error', async () => {
    const server = await echoServer();
    server.primus.on('connection', (spark: Spark, next?: (err?: Error) => void) => next!(spark.query.refuse ? new Error('refused') : undefined));

    const leaving = server.client();
    await once(leaving, 'open');
    const gone = once(server.primus, 'disconnection');
    leaving.end();
    await gone;

    const ended = await raw(server);
    ended.spark.end();
    await ended.closed;

    // Asks for a 100 ms heartbeat and never pings.
    const silent = await raw(server, 'ping=100&pong=100');
    await once(silent.spark, 'end', 5000);

    const refused = once(server.primus, 'disconnection');
    const { WebSocket } = await import('ws');
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/primus?refuse=1`);
    socket.on('error', () => {});
    await refused;
    socket.terminate();

    const m = await scrape(server.metricsUrl);
    for (const reason of ['client', 'server', 'heartbeat', 'error']) {
      expect([reason, m.value('primus_disconnections_total', { transformer: 'websockets', reason })]).toEqual([reason, 1]);
    }
    expect(m.value('primus_connections', ws)).toBe(0);
    expect(m.value('primus_connections_total', ws)).toBe(4);
    expect(m.value('primus_heartbeat_timeouts_total', ws)).toBe(1);
    expect(m.value('primus_heartbeat_skips_total', ws)).toBe(2);
    // The close notice to the spark the server ended is no message.
    expect(m.value('primus_messages_sent_total', ws)).toBe(0);
  });

  it('counts back-pressure when write() turns false, and the drain that follows', async () => {
    const server = await echoServer();
    const client = await raw(server);
    const socket = (client.ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.pause();
    // Writes are corked for a tick, so a burst over the high-water mark reports false and drains as
    // soon as the tick's writes reach the kernel. Keep writing, a tick at a time, until the buffer
    // stays full because the client reads nothing: every false so far is one back-pressure and one drain.
    const chunk = 'x'.repeat(64 * 1024);
    let drains = 0;
    client.spark.on('drain', () => drains++);
    let falses = 0;
    let stalled = false;
    for (let i = 0; i < 4096 && !stalled; i++) {
      if (client.spark.write(chunk)) continue;
      falses++;
      const before = drains;
      await new Promise<void>((resolve) => setImmediate(resolve));
      stalled = drains === before;
    }
    expect(stalled).toBe(true);
    let m = await scrape(server.metricsUrl);
    expect(m.value('primus_backpressure_total', ws)).toBe(falses);
    expect(m.value('primus_drains_total', ws)).toBe(falses - 1);
    const drained = once(client.spark, 'drain');
    socket.resume();
    await drained;
    m = await scrape(server.metricsUrl);
    expect(m.value('primus_backpressure_total', ws)).toBe(falses);
    expect(m.value('primus_drains_total', ws)).toBe(falses);
  });

  it('registers every metric it documents, each with a transformer label, under Prometheus naming', async () => {
    const server = await echoServer();
    await raw(server);
    const m = await scrape(server.metricsUrl);
    for (const [name, spec] of Object.entries(METRICS)) {
      expect([name, m.types[name]]).toEqual([name, spec.type]);
      if (spec.type === 'counter') expect(name).toMatch(/^primus_[a-z_]+_total$/);
      else expect(name).not.toMatch(/_total$/);
      expect(name).toMatch(/^primus_[a-z_]+$/);
    }
    const ours = m.samples.filter((s) => s.name.startsWith('primus_'));
    expect(ours.length).toBeGreaterThan(10);
    for (const sample of ours) expect([sample.name, sample.labels.transformer]).toEqual([sample.name, 'websockets']);
  });

  it('adds up the servers that share a registry and keeps the counts of one that shut down', async () => {
    const registry = new Registry();
    const a = await start({ plugin: { metrics: metrics({ registry, path: PATH }) } });
    const b = await start({ plugin: { metrics: metrics({ registry }) } });
    await raw(a);
    await raw(b);
    await raw(b);
    let m = await scrape(a.url + PATH);
    expect(m.value('primus_connections', ws)).toBe(3);
    expect(m.value('primus_connections_total', ws)).toBe(3);
    await b.close();
    m = await scrape(a.url + PATH);
    expect(m.value('primus_connections', ws)).toBe(1);
    expect(m.value('primus_connections_total', ws)).toBe(3);
    expect(m.value('primus_disconnections_total', { transformer: 'websockets', reason: 'server' })).toBe(2);
  });

  it("uses prom-client's default registry unless given one, and is typed on the server", async () => {
    const server = await start({ plugin: { metrics: metrics() } });
    const typed: Registry | undefined = server.primus.metrics?.registry;
    expect(typed).toBe(register);
    expect(server.primus.metrics!.path).toBeUndefined();
    await raw(server);
    const text = await register.metrics();
    expect(text).toMatch(/^primus_connections\{transformer="websockets"\} 1$/m);
    // Not served unless asked.
    expect((await get(server.url + PATH)).status).not.toBe(200);
  });
});

describe('the endpoint', () => {
  it("is guarded by the server's authorization hook when it has no auth of its own", async () => {
    const registry = new Registry();
    const server = await start({
      authorization: (req, done) => done(req.headers['x-token'] === 'let-me-in' ? undefined : Object.assign(new Error('no'), { statusCode: 401 })),
      plugin: { metrics: metrics({ registry, path: PATH }) },
    });
    expect((await get(server.url + PATH)).status).toBe(401);
    const m = await scrape(server.url + PATH, { 'x-token': 'let-me-in' });
    expect(m.value('primus_connections', ws)).toBe(0);
  });

  it('is public on a server without an authorization hook', async () => {
    const server = await echoServer();
    expect((await scrape(server.metricsUrl)).value('primus_connections', ws)).toBe(0);
  });

  it('checks HTTP basic credentials itself with auth: { username, password }, instead of the hook', async () => {
    const registry = new Registry();
    const server = await start({
      authorization: (_req, done) => done(Object.assign(new Error('clients only'), { statusCode: 403 })),
      plugin: { metrics: metrics({ registry, path: PATH, auth: { username: 'prometheus', password: 's3cret' } }) },
    });
    const none = await get(server.url + PATH);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic realm="Primus metrics"/);
    expect(none.body).not.toContain('primus_');
    const basic = (user: string, pass: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });
    expect((await get(server.url + PATH, basic('prometheus', 'wrong'))).status).toBe(401);
    expect((await get(server.url + PATH, basic('someone', 's3cret'))).status).toBe(401);
    const m = await scrape(server.url + PATH, basic('prometheus', 's3cret'));
    expect(m.value('primus_connections', ws)).toBe(0);
    // The server's own hook still guards everything else.
    expect((await get(server.url + '/primus/spec')).status).toBe(200);
  });

  it('asks an auth function, sync or async, and refuses when it throws', async () => {
    const registry = new Registry();
    const server = await start({
      plugin: {
        metrics: metrics({
          registry,
          path: PATH,
          auth: async (req) => {
            if (req.headers['x-explode']) throw new Error('boom');
            return req.headers['x-scraper'] === 'yes';
          },
        }),
      },
    });
    expect((await get(server.url + PATH)).status).toBe(401);
    expect((await get(server.url + PATH, { 'x-scraper': 'yes', 'x-explode': '1' })).status).toBe(401);
    expect((await get(server.url + PATH, { 'x-scraper': 'yes' })).status).toBe(200);
  });

  it('answers only GET and HEAD', async () => {
    const server = await echoServer();
    const post = await get(server.metricsUrl, {}, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const head = await get(server.metricsUrl, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });
});

describe('options', () => {
  it('throw a TypeError naming the option', () => {
    expect(() => metrics({ registry: {} as Registry })).toThrow(/option "registry" must be a prom-client Registry/);
    expect(() => metrics({ path: 'metrics' })).toThrow(/option "path" must be a path starting with "\/"/);
    expect(() => metrics({ auth: { username: 'a', password: 'b' } })).toThrow(/option "auth" must be used together with "path"/);
    expect(() => metrics({ path: PATH, auth: { username: 'a:b', password: 'c' } })).toThrow(/option "auth.username"/);
    expect(() => metrics({ path: PATH, auth: { username: 'a', password: '' } })).toThrow(/option "auth.password"/);
    expect(() => metrics({ path: PATH, auth: 'secret' as never })).toThrow(/option "auth"/);
    expect(() => metrics({ sendBuckets: [1, 0.5] })).toThrow(/option "sendBuckets"/);
  });

  it.each([
    ['options that are not an object', 'metrics', /option "options" must be an object, got "metrics"/],
    ['a registry that is not one', { registry: { metrics: 1 } }, /option "registry" must be a prom-client Registry, got an object/],
    ['a path that is a number', { path: 8080 }, /option "path" must be a path starting with "\/", got 8080/],
    ['empty send buckets', { sendBuckets: [] }, /option "sendBuckets" must be increasing positive numbers of seconds, got an array/],
  ])('refuse %s at construction with PRIMUS_ERR_INVALID_OPTION', (_what, options, message) => {
    const make = (): unknown => metrics(options as never);
    expect(make).toThrow(TypeError);
    expect(make).toThrow(message);
    expect(make).toThrow(expect.objectContaining({ code: 'PRIMUS_ERR_INVALID_OPTION', message: expect.stringMatching(/^@primus\/metrics: option /) }));
  });

  it('refuse a path outside the pathname when the server is built, leaving the HTTP server as it was', async () => {
    const http = await import('node:http');
    const server = http.createServer();
    const before = server.listeners('request').length;
    expect(() => new Primus(server, { transformer: 'websockets', plugin: { metrics: metrics({ registry: new Registry(), path: '/metrics' }) } })).toThrow(
      /option "path" must be a path under the server's pathname "\/primus"/,
    );
    expect(server.listeners('request').length).toBe(before);
  });

  it('refuse a second metrics plugin on one server', () => {
    const registry = new Registry();
    const make = (): unknown => new Primus(new EventEmitter() as never, { transformer: 'websockets', plugin: { one: metrics({ registry }), two: metrics({ registry }) } });
    expect(make).toThrow(/already has the metrics plugin/);
    expect(make).toThrow(expect.objectContaining({ name: 'PrimusError', code: 'PRIMUS_ERR_PLUGIN' }));
  });
});

describe('frames the protocol sends itself', () => {
  it('are recognised in JSON text, and in binary frames by decoding the short ones that look like one', async () => {
    const { isControl, byteLength } = await import('../src/payload');
    const never = (): never => {
      throw new Error('decoded a frame that cannot be a control message');
    };
    expect(isControl('"primus::ping::1700000000000"', never)).toBe(true);
    expect(isControl('"primus::server::close"', never)).toBe(true);
    expect(isControl('{"text":"primus::ping::1"}', never)).toBe(false);
    expect(isControl('"hello"', never)).toBe(false);
    // BinaryPack: a string header of three bytes; an array holding the same string looks alike
    // for a while, and decoding tells them apart.
    const control = binary.encode('primus::server::close') as Uint8Array;
    const array = binary.encode(['primus::server::close']) as Uint8Array;
    expect(isControl(control, (frame) => binary.decode(frame as Uint8Array))).toBe(true);
    expect(isControl(array, (frame) => binary.decode(frame as Uint8Array))).toBe(false);
    expect(isControl(Buffer.concat([Buffer.alloc(100), Buffer.from('primus::')]), never)).toBe(false);
    expect(isControl(Buffer.from('primus::x'), never)).toBe(false);
    expect(isControl(Buffer.from([0xa3, 1, 2, 3]), never)).toBe(false);
    expect(
      isControl(Buffer.from([0xa9, ...Buffer.from('primus::x')]), () => {
        throw new Error('not this codec');
      }),
    ).toBe(false);
    expect(byteLength('€')).toBe(3);
    expect(byteLength(new Uint8Array(7))).toBe(7);
    expect(byteLength(new ArrayBuffer(5))).toBe(5);
    expect(byteLength([Buffer.alloc(2), Buffer.alloc(3)])).toBe(5);
  });

  it('are left out of the message counts with a binary parser over a real connection', async () => {
    const registry = new Registry();
    const server = await start({ parser: binary, pongSkipTime: 10, plugin: { metrics: metrics({ registry, path: PATH }) } });
    server.primus.on('connection', (spark: Spark) => spark.on('data', (data: unknown) => spark.write(data)));
    const client = server.client({ ping: 100 });
    const echoes: unknown[] = [];
    client.on('data', (data: unknown) => echoes.push(data));
    await once(client, 'open');
    client.write(['primus::not a control message when inside an array']);
    client.write({ n: 2 });
    await waitFor(() => echoes.length === 2, 5000, 'both echoes');
    await once(client, 'incoming::pong');
    await once(client, 'incoming::pong');
    const m = await scrape(server.url + PATH);
    expect(m.value('primus_messages_received_total', ws)).toBe(2);
    expect(m.value('primus_messages_sent_total', ws)).toBe(2);
  });
});
