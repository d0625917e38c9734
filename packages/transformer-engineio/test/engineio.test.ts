import http from 'node:http';
import { describe, expect, it } from '@jest/globals';
import type { Socket as ClientSocket } from 'engine.io-client';
import type { PrimusRequest, Spark } from '@primus/core';
import type { PrimusClient } from '@primus/client';
import { nextSpark, once, request, waitFor, type TestServer, useServers } from '@primus/transformer-test-suite';
import engineio, { type EngineIoConnectionSocket } from '../src';

// What is particular to engine.io: long-polling and the upgrade, per-request authorization, the
// session id, the address of a connection whose handshake request is gone, engine.io's own HTTP
// answers and the options Primus maps onto it.

const TIMEOUT = 20000;
const start = useServers(engineio);

function echo(server: TestServer): void {
  server.primus.on('connection', (spark: Spark) => spark.on('data', (data: unknown) => spark.write(data)));
}

/** The engine.io-client socket under a Primus client (the protected parts the tests look at). */
function engineSocket(client: PrimusClient): ClientSocket & { transports: string[] } {
  return client.socket as ClientSocket & { transports: string[] };
}

/** The engine.io server socket under a spark. */
function serverSocket(spark: Spark): EngineIoConnectionSocket['socket'] {
  return (spark.socket as EngineIoConnectionSocket).socket;
}

/** Count the WebSocket upgrade requests that reach the HTTP server. */
function countUpgrades(server: TestServer): { count: number } {
  const seen = { count: 0 };
  server.server.on('upgrade', () => seen.count++);
  return seen;
}

async function echoes(client: PrimusClient, values: unknown[]): Promise<void> {
  for (const value of values) {
    client.write(value);
    expect((await once(client, 'data'))[0]).toEqual(value);
  }
}

describe('long-polling and the upgrade', () => {
  it.each([
    ['websockets: false', { websockets: false }],
    ["transport: { transports: ['polling'] }", { transport: { transports: ['polling'] } }],
  ])(
    'a polling-only client (%s) works without ever asking for a WebSocket',
    async (_name, options) => {
      const server = await start();
      echo(server);
      const upgrades = countUpgrades(server);
      const sparkP = nextSpark(server.primus);
      const client = server.client(options);
      const spark = await sparkP;
      await once(client, 'open');

      expect(engineSocket(client).transports).toEqual(['polling']);
      expect(spark.query.transport).toBe('polling');
      expect(spark.query.EIO).toBe('4');
      await echoes(client, [{ n: 1 }, 'two', [3]]);
      expect(engineSocket(client).transport.name).toBe('polling');
      expect(serverSocket(spark).transport.name).toBe('polling');
      expect(upgrades.count).toBe(0);
    },
    TIMEOUT,
  );

  it(
    'upgrades a default client to WebSocket, keeping the spark and its messages',
    async () => {
      const server = await start();
      echo(server);
      const upgrades = countUpgrades(server);
      const sparkP = nextSpark(server.primus);
      const client = server.client();
      const spark = await sparkP;
      await once(client, 'open');
      expect(spark.query.transport).toBe('polling');

      const socket = engineSocket(client);
      if (socket.transport.name !== 'websocket') await once(socket as never, 'upgrade');
      expect(socket.transport.name).toBe('websocket');
      await waitFor(() => serverSocket(spark).transport.name === 'websocket', 5000, 'the server side of the upgrade');
      expect(upgrades.count).toBe(1);

      await echoes(client, [{ after: 'upgrade' }, 'line\u2028para 😀']);
      expect(server.primus.connected).toBe(1);
      expect(server.primus.spark(spark.id)).toBe(spark);
    },
    TIMEOUT,
  );

  it(
    'broadcasts every size intact to WebSocket and polling clients alike, with and without compression',
    async () => {
      // Text sizes around the frame header's length encodings (7 bits, 16 bits, 64 bits), multi-byte.
      const texts = ['short é €', 'x'.repeat(124) + '€', 'y'.repeat(300) + '😀', 'z'.repeat(70000) + 'ü'];
      for (const compression of [false, true]) {
        const server = await start({ compression });
        const upgraded = [server.client(), server.client()];
        const polling = server.client({ transport: { transports: ['polling'] } });
        await Promise.all([...upgraded, polling].map((client) => once(client, 'open')));
        for (const client of upgraded) {
          const socket = engineSocket(client);
          if (socket.transport.name !== 'websocket') await once(socket as never, 'upgrade');
        }
        const sparks = Object.values(server.primus.connections);
        await waitFor(() => sparks.filter((spark) => serverSocket(spark).transport.name === 'websocket').length === 2, 5000, 'both upgrades');
        for (const text of [...texts, { an: 'object', n: 1 }]) {
          const received = [...upgraded, polling].map((client) => once(client, 'data'));
          server.primus.write(text);
          for (const [data] of await Promise.all(received)) expect(data).toEqual(text);
        }
      }
    },
    TIMEOUT,
  );

  it(
    'knows the id at once: primus.id() answers synchronously with the engine.io sid',
    async () => {
      const server = await start();
      const sparkP = nextSpark(server.primus);
      const client = server.client();
      const spark = await sparkP;
      await once(client, 'open');
      let id: string | undefined;
      client.id((value) => (id = value));
      expect(id).toBe(spark.id);
      expect(id).toBe(engineSocket(client).id);
    },
    TIMEOUT,
  );

  it(
    'delivers a 1 MB message intact in both directions over polling',
    async () => {
      const server = await start();
      const sparkP = nextSpark(server.primus);
      const client = server.client({ websockets: false });
      const spark = await sparkP;
      await once(client, 'open');
      // More than engine.io's own 1e6-byte default for maxHttpBufferSize: Primus's maxLength applies.
      const big = 'x'.repeat(1024 * 1024) + '€😀\u2028';
      const atServer = once(spark, 'data', 15000);
      client.write(big);
      expect((await atServer)[0]).toBe(big);
      const atClient = once(client, 'data', 15000);
      spark.write(big);
      expect((await atClient)[0]).toBe(big);
      expect(engineSocket(client).transport.name).toBe('polling');
    },
    TIMEOUT,
  );

  it(
    'refuses a polling message longer than maxLength',
    async () => {
      const server = await start({ maxLength: 1000 });
      const sparkP = nextSpark(server.primus);
      const client = server.client({ websockets: false, strategy: false }, { errors: 'expected' });
      const spark = await sparkP;
      await once(client, 'open');
      const received: unknown[] = [];
      spark.on('data', (data: unknown) => received.push(data));
      client.write('small');
      await waitFor(() => received.length === 1, 5000, 'the small message');
      const failed = once(client, 'error');
      client.write('y'.repeat(2000));
      await failed;
      expect(received).toEqual(['small']);
    },
    TIMEOUT,
  );

  it(
    'negotiates permessage-deflate only with compression: true',
    async () => {
      for (const compression of [true, false]) {
        const server = await start({ compression });
        const client = server.client();
        await once(client, 'open');
        const socket = engineSocket(client);
        if (socket.transport.name !== 'websocket') await once(socket as never, 'upgrade');
        const ws = (socket.transport as unknown as { ws: { extensions: string } }).ws;
        expect(ws.extensions.includes('permessage-deflate')).toBe(compression);
      }
    },
    TIMEOUT,
  );

  it(
    'gzips polling responses of 1 KB or more only with compression: true',
    async () => {
      for (const compression of [true, false]) {
        const server = await start({ compression });
        const sparkP = nextSpark(server.primus);
        const handshake = await request(`${server.url}/primus/?EIO=4&transport=polling`);
        const { sid } = JSON.parse(handshake.body.slice(1)) as { sid: string };
        const spark = await sparkP;
        const poll = (): ReturnType<typeof request> =>
          request(`${server.url}/primus/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`, { headers: { 'accept-encoding': 'gzip' } });
        spark.write('small');
        expect((await poll()).headers['content-encoding']).toBeUndefined();
        spark.write('z'.repeat(4096));
        expect((await poll()).headers['content-encoding']).toBe(compression ? 'gzip' : undefined);
        spark.end(undefined, { reconnect: true });
      }
    },
    TIMEOUT,
  );
});

describe('authorization on every request', () => {
  it(
    'refuses the WebSocket upgrade of a session whose polling requests are allowed',
    async () => {
      const asked: string[] = [];
      const server = await start({
        authorization(req, done) {
          asked.push(String(req.query.transport));
          if (req.query.transport === 'websocket') return done(Object.assign(new Error('no sockets'), { statusCode: 403 }));
          done();
        },
      });
      echo(server);
      const client = server.client();
      await once(client, 'open');
      const socket = engineSocket(client);
      await once(socket as never, 'upgradeError');

      expect(asked).toContain('websocket');
      expect(socket.transport.name).toBe('polling');
      await echoes(client, ['still', { on: 'polling' }]);
      expect(socket.transport.name).toBe('polling');
    },
    TIMEOUT,
  );

  it(
    'refuses every poll once authorization is withdrawn: the client can neither send nor receive',
    async () => {
      let allowed = true;
      const refused: string[] = [];
      const server = await start({
        authorization(req, done) {
          if (allowed) return done();
          refused.push(`${req.method} ${String(req.query.sid ?? 'handshake')}`);
          done(Object.assign(new Error('revoked'), { statusCode: 403 }));
        },
      });
      const sparkP = nextSpark(server.primus);
      const client = server.client({ websockets: false, strategy: false }, { errors: 'expected' });
      const spark = await sparkP;
      await once(client, 'open');
      const atServer: unknown[] = [];
      spark.on('data', (data: unknown) => atServer.push(data));
      client.write('allowed');
      await waitFor(() => atServer.length === 1, 5000, 'the allowed message');

      allowed = false;
      const failed = once(client, 'error');
      client.write('blocked');
      await failed;
      expect(refused).toContain(`POST ${spark.id}`);
      expect(atServer).toEqual(['allowed']);

      // The session is still alive in engine.io, yet neither direction gets through Primus.
      spark.write('hidden');
      const path = `${server.url}/primus/?EIO=4&transport=polling&sid=${encodeURIComponent(spark.id)}`;
      const poll = await request(path);
      expect(poll.status).toBe(403);
      expect(JSON.parse(poll.body)).toEqual({ error: 'revoked' });
      const post = await new Promise<number>((resolve, reject) => {
        const req = http.request(path, { method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end('4"sneaked in"');
      });
      expect(post).toBe(403);
      expect(atServer).toEqual(['allowed']);
    },
    TIMEOUT,
  );

  it(
    'refuses an unauthorised WebSocket-only client: no spark, and it ends without retrying',
    async () => {
      let upgrades = 0;
      const server = await start({
        authorization(req, done) {
          if (req.headers.upgrade) upgrades++;
          if (req.query.token === 'secret') return done();
          done(Object.assign(new Error('go away'), { statusCode: 401 }));
        },
      });
      let connections = 0;
      server.primus.on('connection', () => connections++);
      const refused = server.client({ query: 'token=wrong', transport: { transports: ['websocket'] } }, { errors: 'expected' });
      let reconnects = 0;
      refused.on('reconnect scheduled', () => reconnects++);
      await once(refused, 'end');
      expect(upgrades).toBe(1);
      expect(reconnects).toBe(0);
      expect(connections).toBe(0);

      const accepted = server.client({ query: 'token=secret', transport: { transports: ['websocket'] } });
      await once(accepted, 'open');
      expect(engineSocket(accepted).transport.name).toBe('websocket');
      expect(connections).toBe(1);
    },
    TIMEOUT,
  );
});

describe('connection details', () => {
  it(
    "keeps the handshake request's peer address although engine.io has answered it",
    async () => {
      const server = await start();
      // Without the proxy-aware layer, spark.address comes from what the transformer remembered.
      server.primus.remove('forwarded');
      const ports: number[] = [];
      // Two parameters: a synchronous layer (one parameter would make it a factory).
      server.primus.before('peer', (req: PrimusRequest, _res: unknown) => {
        if (!req.query.sid) ports.push(req.socket.remotePort ?? -1);
        return false;
      });
      const sparkP = nextSpark(server.primus);
      const client = server.client({ websockets: false });
      const spark = await sparkP;
      await once(client, 'open');
      expect(ports).toHaveLength(1);
      expect(spark.address.ip).toMatch(/127\.0\.0\.1$/);
      expect(spark.address.port).toBe(ports[0]);
    },
    TIMEOUT,
  );

  it(
    'believes proxy headers sent by the engine.io client (extraHeaders)',
    async () => {
      const server = await start();
      const sparkP = nextSpark(server.primus);
      server.client({ websockets: false, transport: { extraHeaders: { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-port': '4242' } } });
      const spark = await sparkP;
      expect(spark.address.ip).toBe('203.0.113.7');
      expect(spark.address.port).toBe(4242);
    },
    TIMEOUT,
  );

  it(
    'passes the user query next to engine.io’s own keys',
    async () => {
      const server = await start();
      const sparkP = nextSpark(server.primus);
      server.client({ query: 'room=lobby&name=%C3%A9', ping: 4321, pong: 1234 });
      const { query } = await sparkP;
      expect(query).toMatchObject({ room: 'lobby', name: 'é', ping: 4321, pong: 1234, EIO: '4', transport: 'polling' });
      expect(query._primuscb).toEqual(expect.any(String));
      expect(query.t).toEqual(expect.any(String));
    },
    TIMEOUT,
  );
});

describe('HTTP under the pathname', () => {
  it(
    "answers plain requests with engine.io's own 400 JSON, after Primus's middleware",
    async () => {
      const server = await start();
      const bare = await request(`${server.url}/primus`);
      expect(bare.status).toBe(400);
      expect(bare.headers['content-type']).toBe('application/json');
      expect(JSON.parse(bare.body)).toEqual({ code: 0, message: 'Transport unknown' });
      // Primus's no-cache layer ran before engine.io answered.
      expect(bare.headers.pragma).toBe('no-cache');

      const unknown = await request(`${server.url}/primus/?EIO=4&transport=polling&sid=nope`);
      expect(unknown.status).toBe(400);
      expect(JSON.parse(unknown.body)).toEqual({ code: 1, message: 'Session ID unknown' });

      // `/primus/anything`: under the pathname (a string prefix), so engine.io's too.
      const deeper = await request(`${server.url}/primus/anything`);
      expect(deeper.status).toBe(400);
      expect(JSON.parse(deeper.body)).toEqual({ code: 0, message: 'Transport unknown' });
    },
    TIMEOUT,
  );

  it(
    'hands a raw protocol 4 handshake to engine.io and creates the spark with the sid it returned',
    async () => {
      const server = await start();
      const sparkP = nextSpark(server.primus);
      const res = await request(`${server.url}/primus/?EIO=4&transport=polling&ping=60000&pong=10000&foo=bar`);
      expect(res.status).toBe(200);
      expect(res.body.charAt(0)).toBe('0');
      const handshake = JSON.parse(res.body.slice(1)) as { sid: string; upgrades: string[]; maxPayload: number };
      const spark = await sparkP;
      expect(spark.id).toBe(handshake.sid);
      expect(handshake.upgrades).toEqual(['websocket']);
      expect(handshake.maxPayload).toBe(10 * 1024 * 1024);
      expect(spark.query).toMatchObject({ foo: 'bar', ping: 60000, pong: 10000 });
      spark.end(undefined, { reconnect: true });
    },
    TIMEOUT,
  );
});
