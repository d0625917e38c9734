import http from 'node:http';
import type { Socket } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import type { Spark } from '@primus/core';
import { collect, nextSpark, once, request, upgrade, waitFor, useServers } from '@primus/transformer-test-suite';
import sockjs from '../src';

/** Try a WebSocket upgrade by hand and report what the server answered; the socket is closed. */
const upgradeAndClose = (url: string) => upgrade(url).then((res) => (res.socket?.destroy(), res));

// What the SockJS transformer does beyond the conformance suite: the headers, query, address and
// request that sockjs hides, its polling transports, authorization on every request, and the
// HTTP answers that belong to sockjs.

const TIMEOUT = 20000;
const start = useServers(sockjs);

/** Client options that pin sockjs-client to one transport, with optional extra options for it. */
function only(transport: string, transportOptions?: Record<string, unknown>): { transport: Record<string, unknown> } {
  return { transport: { transports: [transport], ...(transportOptions ? { transportOptions: { [transport]: transportOptions } } : {}) } };
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The client-side port of the connection the request used. */
  localPort: number;
}

/** A raw HTTP request, speaking sockjs's polling protocol by hand. */
function raw(url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let localPort = 0;
    const req = http.request(url, { method: init.method ?? 'POST', headers: init.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, localPort }));
    });
    req.on('socket', (socket: Socket) => socket.once('connect', () => (localPort = socket.localPort ?? 0)));
    req.on('error', reject);
    req.end(init.body);
  });
}

const pathOf = (url: string | undefined): string => (url ?? '').split('?')[0]!;

describe('sockjs: what sockjs hides', () => {
  it(
    'recovers the full headers over WebSocket, keeping the real via header',
    async () => {
      const server = await start();
      const sparkP = nextSpark(server.primus);
      server.client(only('websocket', { headers: { 'x-custom': 'over websocket', via: '1.1 edge-proxy' } }));
      const spark = await sparkP;
      // sockjs itself would expose neither x-custom nor the via header's own value.
      expect(spark.headers['x-custom']).toBe('over websocket');
      expect(spark.headers.via).toBe('1.1 edge-proxy');
      expect(spark.headers.upgrade).toMatch(/websocket/i);
      expect(spark.headers).not.toHaveProperty('_via');
      expect(spark.request?.headers.via).toBe('1.1 edge-proxy');
      expect(pathOf(spark.request?.url)).toMatch(/^\/primus\/[^/]+\/[^/]+\/websocket$/);
    },
    TIMEOUT,
  );

  it(
    'recovers headers, query, id, address and request of an xhr-polling session, spoken by hand',
    async () => {
      const server = await start();
      server.primus.on('connection', (spark: Spark) => spark.on('data', (data: unknown) => spark.write({ echo: data })));
      const sparkP = nextSpark(server.primus);
      const base = `${server.url}/primus/123/session1`;
      const query = '?foo=bar&ping=60000&pong=5000';
      const opened = await raw(`${base}/xhr${query}`, { headers: { 'x-custom': 'over polling' } });
      expect(opened).toMatchObject({ status: 200, body: 'o\n' });

      const spark = await sparkP;
      expect(spark.headers['x-custom']).toBe('over polling');
      expect(spark.headers).not.toHaveProperty('via');
      expect(spark.query).toMatchObject({ foo: 'bar', ping: 60000, pong: 5000 });
      // The session's id is sockjs's own connection id, not the session segment of the URL.
      expect(spark.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(spark.address).toEqual({ ip: '127.0.0.1', port: opened.localPort, secure: false });
      expect(spark.request?.url).toBe(`/primus/123/session1/xhr${query}`);

      const data = once(spark, 'data');
      const sent = await raw(`${base}/xhr_send${query}`, { body: JSON.stringify([JSON.stringify('hello')]) });
      expect(sent.status).toBe(204);
      expect((await data)[0]).toBe('hello');
      const polled = await raw(`${base}/xhr${query}`);
      expect(polled.body).toBe(`a${JSON.stringify([JSON.stringify({ echo: 'hello' })])}\n`);
    },
    TIMEOUT,
  );

  it(
    'takes the address from x-forwarded-for when a proxy sets it, and from the peer otherwise',
    async () => {
      const server = await start();
      const direct = nextSpark(server.primus);
      server.client(only('websocket'));
      const { address } = await direct;
      expect(address.ip).toBe('127.0.0.1');
      expect(address.port).toBeGreaterThan(0);
      expect(address.port).not.toBe(server.port);

      const proxied = nextSpark(server.primus);
      server.client(only('websocket', { headers: { 'x-forwarded-for': '203.0.113.9, 10.0.0.1', 'x-forwarded-port': '4567' } }));
      expect((await proxied).address).toEqual({ ip: '203.0.113.9', port: 4567, secure: false });
    },
    TIMEOUT,
  );
});

describe('sockjs: polling and streaming transports', () => {
  it(
    'passes the query, ping and pong, and keeps the heartbeat going over xhr-polling',
    async () => {
      const server = await start({ pongSkipTime: 10 });
      const sparkP = nextSpark(server.primus);
      const client = server.client({ query: 'foo=bar', ping: 150, pong: 2000, ...only('xhr-polling') });
      const spark = await sparkP;
      expect(spark.query).toMatchObject({ foo: 'bar', ping: 150, pong: 2000 });
      expect(pathOf(spark.request?.url)).toMatch(/\/xhr$/);
      await once(client, 'open');
      const heartbeats = collect(spark, 'heartbeat', 3);
      const [pongs, pings] = await Promise.all([collect<number>(client, 'incoming::pong', 3), collect<number>(client, 'outgoing::ping', 3)]);
      expect(pongs).toEqual(pings);
      await heartbeats;
      expect(client.readyState).toBe(3);
    },
    TIMEOUT,
  );

  it(
    'avoids WebSockets when the client is created with websockets: false',
    async () => {
      const server = await start();
      server.primus.on('connection', (spark: Spark) => spark.on('data', (data: unknown) => spark.write(data)));
      const sparkP = nextSpark(server.primus);
      const client = server.client({ websockets: false });
      const spark = await sparkP;
      expect(pathOf(spark.request?.url)).not.toMatch(/websocket$/);
      await once(client, 'open');
      expect((client.socket as { transport?: string }).transport).not.toBe('websocket');
      client.write('still works');
      expect((await once(client, 'data'))[0]).toBe('still works');
    },
    TIMEOUT,
  );

  it.each(['xhr-polling', 'xhr-streaming'])(
    'delivers a 1 MB message intact in both directions over %s',
    async (transport) => {
      const server = await start();
      const sparkP = nextSpark(server.primus);
      const client = server.client(only(transport));
      const big = 'x'.repeat(1024 * 1024 - 32) + '€😀"\\\u2028';
      const spark = await sparkP;
      await once(client, 'open');
      const atServer = once(spark, 'data', 15000);
      client.write(big);
      expect((await atServer)[0]).toBe(big);
      const atClient = once(client, 'data', 15000);
      spark.write(big);
      expect((await atClient)[0]).toBe(big);
    },
    TIMEOUT,
  );
});

describe('sockjs: maxLength', () => {
  it(
    'closes a WebSocket session whose frame exceeds maxLength with 1009, reported to the client as an error',
    async () => {
      const server = await start({ maxLength: 4096 });
      server.primus.on('connection', (spark: Spark) => spark.on('data', (data: unknown) => spark.write(data)));
      const sparkP = nextSpark(server.primus);
      const client = server.client({ ...only('websocket'), reconnect: { min: 5000 } }, { errors: 'expected' });
      const spark = await sparkP;
      await once(client, 'open');
      client.write('s'.repeat(4000));
      expect((await once(client, 'data'))[0]).toBe('s'.repeat(4000));

      const error = once<[Error & { code?: string; cause?: { code?: number } }]>(client, 'error');
      const ended = once(spark, 'end');
      client.write('l'.repeat(5000));
      // The close event sockjs-client reported is the cause of a PRIMUS_ERR_CONNECTION.
      const [reported] = await error;
      expect([reported.code, reported.cause?.code]).toEqual(['PRIMUS_ERR_CONNECTION', 1009]);
      await ended;
    },
    TIMEOUT,
  );
});

describe('sockjs: authorization', () => {
  it(
    'runs on every polling request: revoking it mid-session cuts the session off',
    async () => {
      let allowed = true;
      const polls: string[] = [];
      const refused: string[] = [];
      const server = await start({
        authorization(req, done) {
          const path = pathOf(req.url);
          if (!allowed) {
            refused.push(path);
            return done(Object.assign(new Error('revoked'), { statusCode: 403 }));
          }
          if (path.endsWith('/xhr')) polls.push(path);
          done();
        },
      });
      const sparkP = nextSpark(server.primus);
      const client = server.client({ ...only('xhr-polling'), reconnect: { retries: 1, min: 50, max: 100 } }, { errors: 'expected' });
      const spark = await sparkP;
      await once(client, 'open');
      // The first poll opened the session; the second waits for data, authorised before the revocation.
      await waitFor(() => polls.length >= 2, 5000, 'a waiting poll');
      const closed = once(client, 'close');
      allowed = false;
      const last = once(client, 'data');
      spark.write('last words');
      expect((await last)[0]).toBe('last words');
      // The poll that follows the delivery is refused, and that ends the session for the client.
      await closed;
      expect(refused).toContainEqual(expect.stringMatching(/^\/primus\/[^/]+\/[^/]+\/xhr$/));
    },
    TIMEOUT,
  );

  it(
    'runs on the WebSocket upgrade: a refused upgrade makes sockjs-client fall back to streaming',
    async () => {
      const refused: string[] = [];
      const server = await start({
        authorization(req, done) {
          if (!req.headers.upgrade) return done();
          refused.push(pathOf(req.url));
          done(Object.assign(new Error('no websockets for you'), { statusCode: 403 }));
        },
      });
      const sparkP = nextSpark(server.primus);
      const client = server.client();
      const spark = await sparkP;
      await once(client, 'open');
      expect(refused).toContainEqual(expect.stringMatching(/^\/primus\/[^/]+\/[^/]+\/websocket$/));
      expect(pathOf(spark.request?.url)).toMatch(/\/xhr_streaming$/);

      const upgrade = await upgradeAndClose(`${server.url}/primus/000/handmade/websocket`);
      expect(upgrade.status).toBe(403);
      expect(JSON.parse(upgrade.body)).toEqual({ error: 'no websockets for you' });
    },
    TIMEOUT,
  );

  it(
    'refuses a client whose /info request is rejected, without reconnecting',
    async () => {
      const server = await start({
        authorization(req, done) {
          done(req.query.token === 'secret' ? undefined : Object.assign(new Error('who are you?'), { statusCode: 401 }));
        },
      });
      let connections = 0;
      server.primus.on('connection', () => connections++);
      for (const transport of ['websocket', 'xhr-polling']) {
        const client = server.client({ query: 'token=guess', ...only(transport) }, { errors: 'expected' });
        const errors: Error[] = [];
        client.on('error', (err: Error) => errors.push(err));
        let reconnects = 0;
        client.on('reconnect scheduled', () => reconnects++);
        await once(client, 'end');
        expect(reconnects).toBe(0);
        // sockjs-client closes with 1002 when /info fails.
        expect(errors.map((err) => (err as Error & { cause?: { code?: number } }).cause?.code)).toContain(1002);
      }
      const accepted = server.client({ query: 'token=secret', ...only('xhr-polling') });
      await once(accepted, 'open');
      await waitFor(() => connections === 1, 5000, 'the authorised connection');
    },
    TIMEOUT,
  );
});

describe('sockjs: the HTTP surface belongs to sockjs', () => {
  it(
    'answers plain requests under the pathname itself: greeting, /info, 404s',
    async () => {
      const server = await start();
      const greeting = await request(`${server.url}/primus`);
      expect(greeting.status).toBe(200);
      expect(greeting.body).toBe('Welcome to SockJS!\n');

      const info = await request(`${server.url}/primus/info`);
      expect(info.status).toBe(200);
      expect(info.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(info.body)).toMatchObject({ websocket: true, cookie_needed: false, origins: ['*:*'], entropy: expect.any(Number) });

      const unknown = await request(`${server.url}/primus/000/session/nonsense`);
      expect(unknown.status).toBe(404);
      // Primus owns every path that starts with the pathname; sockjs only those below it.
      const sibling = await request(`${server.url}/primusfoo`);
      expect(sibling.status).toBe(404);
      expect(sibling.body).toBe('404 Error: Page not found\n');
      expect((await request(`${server.url}/nothrow`)).body).toBe('original listener');
    },
    TIMEOUT,
  );

  it.each(['/live+v1.0', '/'])(
    'serves the pathname %s literally, over WebSocket and polling',
    async (pathname) => {
      const server = await start({ pathname });
      server.primus.on('connection', (spark: Spark) => spark.on('data', (data: unknown) => spark.write(data)));
      for (const transport of ['websocket', 'xhr-polling']) {
        const sparkP = nextSpark(server.primus);
        const client = server.client(only(transport));
        const spark = await sparkP;
        expect(spark.request?.url?.startsWith(pathname === '/' ? '/' : `${pathname}/`)).toBe(true);
        client.write(transport);
        expect((await once(client, 'data'))[0]).toBe(transport);
      }
    },
    TIMEOUT,
  );

  it(
    'rejects an upgrade outside sockjs paths by closing the socket',
    async () => {
      const server = await start();
      await expect(upgradeAndClose(`${server.url}/primusfoo`)).rejects.toThrow(/socket hang up|ECONNRESET/);
    },
    TIMEOUT,
  );
});

describe('sockjs: ending', () => {
  it(
    'spark.end() closes the session with 1000 "Normal closure": the client ends without an error',
    async () => {
      const server = await start();
      const sparkP = nextSpark(server.primus);
      const client = server.client();
      const spark = await sparkP;
      await once(client, 'open');
      const order: string[] = [];
      for (const event of ['incoming::error', 'error', 'close', 'end'] as const) client.on(event, () => order.push(event));
      const closeCode = new Promise<number>((resolve) => {
        const socket = client.socket as { onclose: (ev: { code: number }) => void };
        const onclose = socket.onclose;
        socket.onclose = (ev) => {
          resolve(ev.code);
          onclose(ev);
        };
      });
      const ended = once(client, 'end');
      spark.end();
      await ended;
      expect(await closeCode).toBe(1000);
      expect(order).toEqual(['close', 'end']);
    },
    TIMEOUT,
  );
});
