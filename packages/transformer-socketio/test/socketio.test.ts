import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from '@jest/globals';
import type { Spark } from '@primus/core';
import { collect, nextData, nextSpark, once, request, upgrade, waitFor, type TestServer, useServers } from '@primus/transformer-test-suite';
import { compile } from '@primus/client';
import json from '@primus/parser-json';
import socketio from '../src';
import { client as socketioClient } from '../src/client';

/** Try a WebSocket upgrade by hand and report what the server answered; the socket is closed. */
const upgradeAndClose = (url: string) => upgrade(url).then((res) => (res.socket?.destroy(), res));

// What the socket.io transformer does beyond the conformance suite: socket.io's polling transport,
// maxLength per message, authorization on every request, sessions that end between two polls,
// requests and packets that would crash socket.io, the HTTP surface that belongs to socket.io, and
// how the client drives socket.io.

const TIMEOUT = 20000;
const start = useServers(socketio);

/** Client options that pin socket.io to the given transports. */
function only(...transports: string[]): { transport: Record<string, unknown> } {
  return { transport: { transports } };
}

function echo(server: TestServer): void {
  server.primus.on('connection', (spark: Spark) => spark.on('data', (data: unknown) => spark.write(data)));
}

const pathOf = (url: string | undefined): string => (url ?? '').split('?')[0]!;

/** Log lines of a server at one level. */
function logged(server: TestServer, level: string): string[] {
  const lines: string[] = [];
  server.primus.on('log', (at: string, ...args: unknown[]) => {
    if (at === level) lines.push(args.join(' '));
  });
  return lines;
}

/** A client frame: masked (with a zero key, so the payload reads as is), text unless told. */
function frame(payload: string, { opcode = 1, fin = true } = {}): Buffer {
  const data = Buffer.from(payload);
  const header = data.length < 126 ? Buffer.from([0, 0x80 | data.length]) : Buffer.from([0, 0x80 | 126, data.length >> 8, data.length & 0xff]);
  header[0] = (fin ? 0x80 : 0) | opcode;
  return Buffer.concat([header, Buffer.alloc(4), data]);
}

/** A socket.io session over a WebSocket spoken by hand. */
interface RawSession {
  id: string;
  socket: net.Socket;
  /** Text frames the server sent (socket.io packets). */
  packets: string[];
  closed: Promise<unknown>;
}

/**
 * Handshake over HTTP, then upgrade on a raw TCP socket; `first` is written in the same packet as
 * the upgrade request.
 */
async function rawSession(server: TestServer, first?: Buffer): Promise<RawSession> {
  const handshake = await request(`${server.url}/primus/1/?via=raw`);
  const id = handshake.body.split(':')[0]!;
  const socket = net.connect(server.port, '127.0.0.1');
  await once(socket, 'connect');
  const upgrade = [
    `GET /primus/1/websocket/${id}?via=raw HTTP/1.1`,
    `Host: 127.0.0.1:${server.port}`,
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Key: ${Buffer.from('0123456789abcdef').toString('base64')}`,
    '',
    '',
  ].join('\r\n');
  socket.write(first ? Buffer.concat([Buffer.from(upgrade), first]) : upgrade);

  const packets: string[] = [];
  let buffer = Buffer.alloc(0);
  let upgraded = false;
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    if (!upgraded) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end === -1) return;
      expect(buffer.subarray(0, end).toString()).toMatch(/^HTTP\/1\.1 101 /);
      buffer = buffer.subarray(end + 4);
      upgraded = true;
    }
    // Server frames are unmasked and, from socket.io 0.9, never fragmented.
    for (;;) {
      if (buffer.length < 2) return;
      let length = buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (buffer.length < offset + length) return;
      packets.push(buffer.subarray(offset, offset + length).toString());
      buffer = buffer.subarray(offset + length);
    }
  });
  return { id, socket, packets, closed: once(socket, 'close') };
}

/** A POST by hand, answered with status and body; a connection the server drops rejects. */
function post(url: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'Content-Type': 'text/plain' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('socket.io: connection details', () => {
  it(
    'gives the spark the handshake query and headers, and the request of its transport',
    async () => {
      const server = await start();
      const sparkP = nextSpark(server.primus);
      const client = server.client({ query: 'foo=bar', ...only('websocket') });
      const spark = await sparkP;
      await once(client, 'open');
      // socket.io adds its own cache buster, `t`, to the handshake query.
      expect(spark.query).toMatchObject({ foo: 'bar', _primuscb: expect.any(String), t: expect.stringMatching(/^\d+$/) });
      expect(spark.headers.host).toBe(`127.0.0.1:${server.port}`);
      expect(spark.id).toMatch(/^[\w-]{20}$/);
      expect(spark.id).toBe((client.socket as { socket: { sessionid: string } }).socket.sessionid);
      expect(pathOf(spark.request?.url)).toBe(`/primus/1/websocket/${spark.id}`);
      expect(spark.request?.headers.upgrade).toMatch(/websocket/i);
    },
    TIMEOUT,
  );

  it(
    'gives a polling spark the poll that opened the session as its request, and the peer address',
    async () => {
      const server = await start();
      const sparkP = nextSpark(server.primus);
      const client = server.client(only('xhr-polling'));
      const spark = await sparkP;
      await once(client, 'open');
      expect(spark.request?.method).toBe('GET');
      expect(pathOf(spark.request?.url)).toBe(`/primus/1/xhr-polling/${spark.id}`);
      expect(spark.address.ip).toBe('127.0.0.1');
      expect(spark.address.port).toBeGreaterThan(0);
      expect(spark.address.port).not.toBe(server.port);
    },
    TIMEOUT,
  );
});

describe('socket.io: the client', () => {
  it(
    'avoids WebSockets with websockets: false, and keeps an explicit transport list',
    async () => {
      const server = await start();
      echo(server);
      const polling = nextSpark(server.primus);
      const client = server.client({ websockets: false });
      expect(pathOf((await polling).request?.url)).toMatch(/\/xhr-polling\/[\w-]+$/);
      client.write('still works');
      expect((await once(client, 'data'))[0]).toBe('still works');

      const pinned = nextSpark(server.primus);
      server.client({ websockets: false, ...only('websocket') });
      expect(pathOf((await pinned).request?.url)).toMatch(/\/websocket\/[\w-]+$/);
    },
    TIMEOUT,
  );

  it(
    "leaves socket.io's shared default transport list alone",
    async () => {
      // io.Socket merges array options into its defaults in place: passing `transports` to its
      // constructor would rewrite the list every later socket (and happn-primus's client) starts from.
      const io = require('primus-socket.io-client') as { transports: string[] };
      const before = [...io.transports];
      const server = await start();
      const sparkP = nextSpark(server.primus);
      const client = server.client(only('xhr-polling'));
      await sparkP;
      await once(client, 'open');
      expect(io.transports).toEqual(before);
    },
    TIMEOUT,
  );

  it(
    'reports a refused handshake with the message of the refusal, and ends without reconnecting',
    async () => {
      const server = await start({
        authorization(req, done) {
          done(req.query.token === 'secret' ? undefined : Object.assign(new Error('who are you?'), { statusCode: 401 }));
        },
      });
      let connections = 0;
      server.primus.on('connection', () => connections++);
      const client = server.client({ query: 'token=guess' }, { errors: 'expected' });
      const errors: Error[] = [];
      client.on('error', (err: Error) => errors.push(err));
      let reconnects = 0;
      client.on('reconnect scheduled', () => reconnects++);
      await once(client, 'end');
      expect(errors.map((err) => err.message)).toEqual(['who are you?']);
      expect(reconnects).toBe(0);
      expect(connections).toBe(0);
    },
    TIMEOUT,
  );

  it(
    'opens nothing more once the client gave up while socket.io was still connecting',
    async () => {
      // Upgrades are refused, so the WebSocket fails and the client (which has to stop on errors
      // because the server authorizes) closes while socket.io's connect timer is armed: left alone,
      // that timer would go on to the next transport and open a session nobody wants.
      const server = await start({
        authorization(req, done) {
          done(req.headers.upgrade ? Object.assign(new Error('no websockets'), { statusCode: 403 }) : undefined);
        },
      });
      const client = server.client({ transport: { transports: ['websocket', 'xhr-polling'], 'connect timeout': 50 } }, { errors: 'expected' });
      await once(client, 'end');
      // The window is forty connect timeouts long: the abandoned socket would have moved on by then.
      await expect(nextSpark(server.primus, 2000)).rejects.toThrow(/timed out/);
    },
    TIMEOUT,
  );
});

describe('socket.io: polling', () => {
  it(
    'passes the query, ping and pong, and keeps the heartbeat going over xhr-polling',
    async () => {
      const server = await start({ pongSkipTime: 10 });
      const sparkP = nextSpark(server.primus);
      const client = server.client({ query: 'foo=bar', ping: 150, pong: 2000, ...only('xhr-polling') });
      const spark = await sparkP;
      expect(spark.query).toMatchObject({ foo: 'bar', ping: 150, pong: 2000 });
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
    'delivers 1 MB of multi-byte text intact in both directions',
    async () => {
      // socket.io 0.9 appends request chunks to a string as they come, which garbles characters
      // split between two chunks; with 3- and 4-byte characters throughout, some always are.
      const server = await start();
      const sparkP = nextSpark(server.primus);
      const client = server.client(only('xhr-polling'));
      const spark = await sparkP;
      await once(client, 'open');
      const big = '€😀"\\\u2028'.repeat(100000);
      const atServer = once(spark, 'data', 15000);
      client.write(big);
      expect((await atServer)[0]).toBe(big);
      const atClient = once(client, 'data', 15000);
      spark.write(big);
      expect((await atClient)[0]).toBe(big);
    },
    TIMEOUT,
  );

  it(
    'ends a client for good on spark.end() written between two polls',
    async () => {
      // Right after it opened, the client has not sent its next poll yet: what the spark writes waits
      // in socket.io's buffer, and must not be dropped when the session ends.
      const server = await start();
      const sparkP = nextSpark(server.primus);
      const client = server.client(only('xhr-polling'));
      const spark = await sparkP;
      await once(client, 'open');
      const received = collect(client, 'data', 1);
      let reconnects = 0;
      client.on('reconnect scheduled', () => reconnects++);
      const ended = once(client, 'end');
      spark.end('bye');
      expect(await received).toEqual(['bye']);
      await ended;
      expect(reconnects).toBe(0);
      await waitFor(() => server.primus.connected === 0, 5000, 'the session to end');
    },
    TIMEOUT,
  );

  it(
    'ends the spark at once when a polling client ends',
    async () => {
      const server = await start();
      const sparkP = nextSpark(server.primus);
      const client = server.client(only('xhr-polling'));
      const spark = await sparkP;
      await once(client, 'open');
      const ended = once(spark, 'end', 2000);
      client.end();
      await ended;
    },
    TIMEOUT,
  );
});

describe('socket.io: maxLength', () => {
  it(
    'counts each WebSocket message on its own, not the bytes of the whole connection',
    async () => {
      const server = await start({ maxLength: 4096 });
      echo(server);
      const client = server.client(only('websocket'));
      await once(client, 'open');
      const echoes = collect<string>(client, 'data', 5);
      for (let i = 0; i < 5; i++) client.write(String(i).repeat(3000));
      expect(await echoes).toEqual([0, 1, 2, 3, 4].map((i) => String(i).repeat(3000)));
      expect(client.readyState).toBe(3);
    },
    TIMEOUT,
  );

  it(
    'closes a WebSocket whose message exceeds maxLength, with a warning in the log',
    async () => {
      const server = await start({ maxLength: 4096 });
      const warnings = logged(server, 'warn');
      const sparkP = nextSpark(server.primus);
      const client = server.client({ ...only('websocket'), reconnect: { min: 5000 } });
      const spark = await sparkP;
      await once(client, 'open');
      const ended = once(spark, 'end');
      const closed = once(client, 'close');
      client.write('l'.repeat(5000));
      await Promise.all([ended, closed]);
      expect(warnings).toContainEqual(expect.stringMatching(/larger than maxLength \(4096 bytes\)/));
    },
    TIMEOUT,
  );

  it(
    'adds up the fragments of one WebSocket message',
    async () => {
      const server = await start({ maxLength: 4096 });
      const first = nextData(server.primus);
      const raw = await rawSession(server);
      // 3 + 2 KB in two fragments: one 4 KB message, within the limit.
      raw.socket.write(Buffer.concat([frame(`3:::"${'a'.repeat(2000)}`, { fin: false }), frame(`${'a'.repeat(1000)}"`, { opcode: 0 })]));
      const [data, spark] = await first;
      expect(data).toBe('a'.repeat(3000));

      // Each fragment is within the limit, the message is not.
      const ended = once(spark, 'end');
      raw.socket.write(Buffer.concat([frame(`3:::"${'b'.repeat(3000)}`, { fin: false }), frame(`${'b'.repeat(3000)}"`, { opcode: 0 })]));
      await Promise.all([ended, raw.closed]);
      expect(raw.packets).toContain('0::');
    },
    TIMEOUT,
  );

  it(
    'closes a polling session whose request body exceeds maxLength',
    async () => {
      const server = await start({ maxLength: 4096 });
      echo(server);
      const warnings = logged(server, 'warn');
      const sparkP = nextSpark(server.primus);
      const client = server.client({ ...only('xhr-polling'), reconnect: { min: 5000 } });
      const spark = await sparkP;
      await once(client, 'open');
      client.write('s'.repeat(4000));
      expect((await once(client, 'data'))[0]).toBe('s'.repeat(4000));

      const ended = once(spark, 'end');
      const closed = once(client, 'close');
      client.write('l'.repeat(5000));
      await Promise.all([ended, closed]);
      expect(warnings).toContainEqual(expect.stringMatching(/request body is larger than maxLength \(4096 bytes\)/));
    },
    TIMEOUT,
  );
});

describe('socket.io: raw WebSockets', () => {
  it(
    'keeps a frame that arrived in the same packet as the upgrade request',
    async () => {
      const server = await start();
      const first = nextData(server.primus);
      await rawSession(server, frame('3:::"early"'));
      const [data, spark] = await first;
      expect(data).toBe('early');
      expect(spark.query).toMatchObject({ via: 'raw' });
    },
    TIMEOUT,
  );
});

describe('socket.io: authorization', () => {
  it(
    'runs on every poll: revoking it mid-session cuts the session off',
    async () => {
      let allowed = true;
      const polls: string[] = [];
      const refused: string[] = [];
      const server = await start({
        authorization(req, done) {
          const path = pathOf(req.url);
          if (!allowed) {
            refused.push(`${req.method} ${path}`);
            return done(Object.assign(new Error('revoked'), { statusCode: 403 }));
          }
          if (req.method === 'GET' && path.includes('/xhr-polling/')) polls.push(path);
          done();
        },
      });
      const sparkP = nextSpark(server.primus);
      const client = server.client({ ...only('xhr-polling'), reconnect: { retries: 1, min: 50, max: 100 } });
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
      expect(refused).toContainEqual(`GET /primus/1/xhr-polling/${spark.id}`);
    },
    TIMEOUT,
  );

  it(
    'runs on the WebSocket upgrade: a refused upgrade is an error that ends the client',
    async () => {
      const server = await start({
        authorization(req, done) {
          done(req.headers.upgrade ? Object.assign(new Error('no websockets for you'), { statusCode: 403 }) : undefined);
        },
      });
      const client = server.client(only('websocket'), { errors: 'expected' });
      const errors: Error[] = [];
      client.on('error', (err: Error) => errors.push(err));
      await once(client, 'end');
      expect(errors.map((err) => err.message)).toEqual(['unexpected server response (403)']);

      const upgrade = await upgradeAndClose(`${server.url}/primus/1/websocket/handmade`);
      expect(upgrade.status).toBe(403);
      expect(JSON.parse(upgrade.body)).toEqual({ error: 'no websockets for you' });
    },
    TIMEOUT,
  );
});

describe('socket.io: hostile input', () => {
  it(
    'refuses the requests socket.io would crash on, and keeps serving',
    async () => {
      const server = await start();
      echo(server);
      const warnings = logged(server, 'warn');
      const id = (await request(`${server.url}/primus/1/`)).body.split(':')[0]!;
      // Session ids that resolve to Object's own functions in socket.io's session tables.
      for (const bad of ['propertyIsEnumerable', 'constructor', '__proto__']) {
        expect((await request(`${server.url}/primus/1/xhr-polling/${bad}`)).status).toBe(400);
        // socket.io reads URLs with url.parse, which turns backslashes into slashes.
        expect((await request(`${server.url}/primus/1/xhr-polling\\${bad}`)).status).toBe(400);
      }
      // Upgrades socket.io would handle as something else than a WebSocket.
      for (const path of [`websocket/${id}?disconnect=1`, `xhr-polling/${id}`, `htmlfile/${id}`]) {
        await expect(upgradeAndClose(`${server.url}/primus/1/${path}`)).rejects.toThrow(/socket hang up|ECONNRESET/);
      }
      // A plain request for the WebSocket transport, a session request that is neither a poll nor a
      // send (socket.io would leave it hanging), and a transport that is not offered.
      expect((await post(`${server.url}/primus/1/websocket/${id}`, '3:::"x"')).status).toBe(400);
      expect((await request(`${server.url}/primus/1/xhr-polling/${id}`, { method: 'PUT' })).status).toBe(400);
      await expect(post(`${server.url}/primus/1/jsonp-polling/${id}`, 'd=123')).rejects.toThrow(/socket hang up|ECONNRESET/);
      expect(warnings.filter((line) => line.startsWith('socket.io: refusing'))).toHaveLength(11);

      // Packets addressed to namespaces named after Object's own properties, over a WebSocket...
      const overWebSocket = nextData(server.primus);
      const raw = await rawSession(server);
      raw.socket.write(Buffer.concat([frame('3::constructor:"x"'), frame('5::hasOwnProperty:{"name":"message"}'), frame('3:::"after"')]));
      expect((await overWebSocket)[0]).toBe('after');
      raw.socket.destroy();

      // ... and over polling, on a session opened by hand.
      const session = (await request(`${server.url}/primus/1/`)).body.split(':')[0]!;
      const sparkP = nextSpark(server.primus);
      expect((await request(`${server.url}/primus/1/xhr-polling/${session}`)).body).toBe('1::');
      const spark = await sparkP;
      const data = once(spark, 'data');
      expect(await post(`${server.url}/primus/1/xhr-polling/${session}`, '3::constructor:"x"')).toEqual({ status: 200, body: '1' });
      expect(await post(`${server.url}/primus/1/xhr-polling/${session}`, '3:::"after"')).toEqual({ status: 200, body: '1' });
      expect((await data)[0]).toBe('after');

      const client = server.client();
      client.write('still serving');
      expect((await once(client, 'data'))[0]).toBe('still serving');
    },
    TIMEOUT,
  );

  it(
    'refuses hixie-76 WebSockets, whose parser recurses once per message',
    async () => {
      const server = await start();
      const warnings = logged(server, 'warn');
      const id = (await request(`${server.url}/primus/1/`)).body.split(':')[0]!;
      const socket = net.connect(server.port, '127.0.0.1');
      socket.on('error', () => {});
      await once(socket, 'connect');
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      const closed = once(socket, 'close');
      // A hixie-76 handshake has two numeric keys and eight more bytes, and no Sec-WebSocket-Version.
      socket.write(
        [
          `GET /primus/1/websocket/${id} HTTP/1.1`,
          `Host: 127.0.0.1:${server.port}`,
          'Connection: Upgrade',
          'Upgrade: WebSocket',
          'Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5',
          'Sec-WebSocket-Key2: 12998 5 Y3 1  .P00',
          '',
          '^n:ds[4U',
        ].join('\r\n'),
      );
      await closed;
      expect(answer).toBe('');
      expect(warnings.some((line) => line.startsWith('socket.io: refusing an upgrade'))).toBe(true);
    },
    TIMEOUT,
  );

  it(
    "keeps a client alive when a server addresses packets to namespaces named after Object's properties",
    async () => {
      // A socket.io server by hand: the handshake, then polls that answer with the connect packet,
      // a message for the namespace `constructor`, and a message for the default one.
      const replies = ['1::', '3::constructor:"x"', '3:::"after"'];
      const waiting: http.ServerResponse[] = [];
      const fake = http.createServer((req, res) => {
        if (req.url?.startsWith('/primus/1/?')) return res.end('abcdefghijklmnopqrst:60:60:xhr-polling');
        if (req.method === 'POST') return res.end('1');
        const reply = replies.shift();
        if (reply === undefined) waiting.push(res);
        else res.end(reply);
      });
      await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
      const Client = compile({ transport: socketioClient, parser: json, pathname: '/primus' });
      const client = new Client(`http://127.0.0.1:${(fake.address() as net.AddressInfo).port}`, only('xhr-polling'));
      client.on('error', () => {});
      try {
        expect((await once(client, 'data'))[0]).toBe('after');
      } finally {
        client.destroy();
        for (const res of waiting) res.end();
        fake.closeAllConnections();
        await new Promise((resolve) => fake.close(resolve));
      }
    },
    TIMEOUT,
  );
});

describe('socket.io: the HTTP surface belongs to socket.io', () => {
  it(
    'answers plain requests under the pathname itself: greeting, handshake, bad protocol',
    async () => {
      const server = await start();
      const greeting = await request(`${server.url}/primus`);
      expect(greeting).toMatchObject({ status: 200, body: 'Welcome to socket.io.' });

      // `<session>:<heartbeat timeout>:<close timeout>:<transports>`
      const handshake = await request(`${server.url}/primus/1/?t=1`);
      expect(handshake.status).toBe(200);
      expect(handshake.headers['content-type']).toBe('text/plain');
      expect(handshake.body).toMatch(/^[\w-]{20}:60:60:websocket,xhr-polling$/);

      const protocol = await request(`${server.url}/primus/2/`);
      expect(protocol).toMatchObject({ status: 500, body: 'Protocol version not supported.' });

      // Primus owns every path that starts with the pathname; socket.io greets the ones it does not know.
      expect((await request(`${server.url}/primusfoo`)).body).toBe('Welcome to socket.io.');
      expect((await request(`${server.url}/nothrow`)).body).toBe('original listener');
    },
    TIMEOUT,
  );

  it(
    'tells a WebSocket of an unknown session to reconnect, then closes it',
    async () => {
      const server = await start();
      const socket = net.connect(server.port, '127.0.0.1');
      await once(socket, 'connect');
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.write(
        [
          'GET /primus/1/websocket/nosuchsession1234567 HTTP/1.1',
          `Host: 127.0.0.1:${server.port}`,
          'Connection: Upgrade',
          'Upgrade: websocket',
          'Sec-WebSocket-Version: 13',
          `Sec-WebSocket-Key: ${Buffer.from('0123456789abcdef').toString('base64')}`,
          '',
          '',
        ].join('\r\n'),
      );
      await once(socket, 'close');
      // 7 = error, reason 1 = "client not handshaken", advice 0 = "reconnect".
      expect(text).toMatch(/^HTTP\/1\.1 101 [\s\S]*7:::1\+0$/);
    },
    TIMEOUT,
  );

  it.each(['/live+v1.0', '/'])(
    'serves the pathname %s, over WebSocket and polling',
    async (pathname) => {
      const server = await start({ pathname });
      echo(server);
      for (const transport of ['websocket', 'xhr-polling']) {
        const sparkP = nextSpark(server.primus);
        const client = server.client(only(transport));
        const spark = await sparkP;
        // socket.io's resource is the pathname; with `/` the client's URLs start with `//1/`.
        expect(pathOf(spark.request?.url)).toBe(`${pathname === '/' ? '/' : pathname}/1/${transport}/${spark.id}`);
        client.write(transport);
        expect((await once(client, 'data'))[0]).toBe(transport);
      }
    },
    TIMEOUT,
  );
});
