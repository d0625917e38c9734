import { describe, expect, it } from '@jest/globals';
import { defineParser, type Spark } from '@primus/core';
import { nextSpark, once, request, upgrade, useServers } from '@primus/transformer-test-suite';
import faye from '../src';

// What the faye transformer does beyond the conformance suite: its HTTP answers, addresses,
// binary frames, message size limit, authorization of the upgrade and close codes.

const TIMEOUT = 20000;
const start = useServers(faye);

/** Watch the close code the client's faye socket receives. */
function closeCode(client: { socket?: unknown }): Promise<number> {
  const socket = client.socket as { onclose: (ev: { code: number }) => void };
  const onclose = socket.onclose;
  return new Promise((resolve) => {
    socket.onclose = (ev) => {
      resolve(ev.code);
      onclose(ev);
    };
  });
}

/** JSON carried as bytes: every message, control messages included, is a binary frame. */
const bytes = defineParser({
  name: 'bytes',
  encode: (data: unknown) => new TextEncoder().encode(JSON.stringify(data)),
  decode: (raw: Buffer | ArrayBuffer | string) => JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw as ArrayBuffer).toString('utf8')),
});

describe('faye: HTTP', () => {
  it(
    'answers plain requests under the pathname with 426 Upgrade Required, and leaves the rest to the application',
    async () => {
      const server = await start();
      for (const path of ['/primus', '/primus/anything?x=1', '/primusfoo']) {
        const res = await request(`${server.url}${path}`, { method: 'POST' });
        expect(res.status).toBe(426);
        expect(res.headers['content-type']).toBe('text/plain');
        expect(res.body).toBe('Upgrade Required');
      }
      expect((await request(`${server.url}/nothrow`)).body).toBe('original listener');
    },
    TIMEOUT,
  );

  it(
    'drops an upgrade to anything but WebSocket without an answer',
    async () => {
      const server = await start();
      let connections = 0;
      server.primus.on('connection', () => connections++);
      await expect(upgrade(`${server.url}/primus`, { Upgrade: 'h2c' })).rejects.toThrow(/socket hang up|ECONNRESET/);
      expect(connections).toBe(0);
    },
    TIMEOUT,
  );
});

describe('faye: connection details', () => {
  it(
    'gives the spark the peer address, the headers, the query and the upgrade request',
    async () => {
      const server = await start();
      const sparkP = nextSpark(server.primus);
      const res = await upgrade(`${server.url}/primus?foo=bar&ping=60000&pong=5000`, { 'x-custom': 'by hand' });
      expect(res.status).toBe(101);
      const spark = await sparkP;
      expect(spark.address).toEqual({ ip: '127.0.0.1', port: res.socket!.localPort, secure: false });
      expect(spark.headers['x-custom']).toBe('by hand');
      expect(spark.query).toMatchObject({ foo: 'bar', ping: 60000, pong: 5000 });
      expect(spark.request?.url).toBe('/primus?foo=bar&ping=60000&pong=5000');
      res.socket!.destroy();
      await once(spark, 'end');
    },
    TIMEOUT,
  );

  it(
    'takes the address from x-forwarded-for when a proxy sets it',
    async () => {
      const server = await start();
      const sparkP = nextSpark(server.primus);
      server.client({ transport: { headers: { 'X-Forwarded-For': '198.51.100.7', 'X-Forwarded-Port': '8443', 'X-Forwarded-Proto': 'https' } } });
      expect((await sparkP).address).toEqual({ ip: '198.51.100.7', port: 8443, secure: true });
    },
    TIMEOUT,
  );
});

describe('faye: messages', () => {
  it(
    'sends bytes as binary frames both ways: a 1 MB binary message survives intact',
    async () => {
      const server = await start({ parser: bytes });
      const sparkP = nextSpark(server.primus);
      const client = server.client();
      const spark = await sparkP;
      await once(client, 'open');
      const big = 'b'.repeat(1024 * 1024) + '€😀';

      const atServer = once<[unknown]>(spark, 'incoming::data', 15000);
      const decodedAtServer = once<[unknown]>(spark, 'data', 15000);
      client.write(big);
      const [rawAtServer] = await atServer;
      expect(Buffer.isBuffer(rawAtServer)).toBe(true);
      expect((await decodedAtServer)[0]).toBe(big);

      const atClient = once<[unknown]>(client, 'incoming::data', 15000);
      const decodedAtClient = once<[unknown]>(client, 'data', 15000);
      spark.write(big);
      const [rawAtClient] = await atClient;
      expect(Buffer.isBuffer(rawAtClient)).toBe(true);
      expect((await decodedAtClient)[0]).toBe(big);
    },
    TIMEOUT,
  );

  it(
    'closes a connection whose message exceeds maxLength with 1009, and keeps smaller ones',
    async () => {
      const server = await start({ maxLength: 4096 });
      server.primus.on('connection', (spark: Spark) => spark.on('data', (data: unknown) => spark.write(data)));
      const sparkP = nextSpark(server.primus);
      const client = server.client({ reconnect: { min: 5000 } });
      const spark = await sparkP;
      await once(client, 'open');
      client.write('s'.repeat(4000));
      expect((await once(client, 'data'))[0]).toBe('s'.repeat(4000));

      const code = closeCode(client);
      const ended = once(spark, 'end');
      client.write('l'.repeat(5000));
      expect(await code).toBe(1009);
      await ended;
    },
    TIMEOUT,
  );
});

describe('faye: authorization', () => {
  it(
    'runs on the upgrade: a refused one gets the status, the JSON error and WWW-Authenticate',
    async () => {
      const server = await start({
        authorization(req, done) {
          if (req.query.token === 'secret') return done();
          done(Object.assign(new Error('token required'), { statusCode: 401, authenticate: 'Bearer realm="primus"' }));
        },
      });
      const refused = await upgrade(`${server.url}/primus?token=guess`);
      expect(refused.status).toBe(401);
      expect(refused.headers['www-authenticate']).toBe('Bearer realm="primus"');
      expect(JSON.parse(refused.body)).toEqual({ error: 'token required' });

      const sparkP = nextSpark(server.primus);
      const accepted = await upgrade(`${server.url}/primus?token=secret`);
      expect(accepted.status).toBe(101);
      expect((await sparkP).query.token).toBe('secret');
      accepted.socket!.destroy();
    },
    TIMEOUT,
  );
});

describe('faye: ending', () => {
  it(
    'spark.end() closes the WebSocket with 1000 after primus::server::close',
    async () => {
      const server = await start();
      const sparkP = nextSpark(server.primus);
      const client = server.client();
      const spark = await sparkP;
      await once(client, 'open');
      const frames: unknown[] = [];
      client.on('incoming::data', (raw: unknown) => frames.push(raw));
      const code = closeCode(client);
      const ended = once(client, 'end');
      spark.end();
      expect(await code).toBe(1000);
      await ended;
      expect(frames).toEqual(['"primus::server::close"']);
    },
    TIMEOUT,
  );
});
