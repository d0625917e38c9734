import http from 'node:http';
import https from 'node:https';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from '@jest/globals';
import { WebSocket } from 'ws';
import { Primus, PrimusError, type Spark } from '@primus/core';
import { collect, nextSpark, once, waitFor } from '@primus/transformer-test-suite';
import lws, { createLwsTransformer } from '../src';
import { bindingPath, loadBinding } from '../src/native';
import { clientFrame, diagnostics, openDescriptors, readAll, Resources, upgradeRequest } from './helpers';

// What the lws transformer does beyond the shared suite: its wire behaviour, its limits, and how
// it lets go of sockets, descriptors and libwebsockets state.

const TIMEOUT = 30000;
const resources = new Resources();
afterEach(() => resources.cleanup());

/** Record every message a bare client receives, with its frame type. */
function frames(socket: WebSocket): [string, boolean][] {
  const seen: [string, boolean][] = [];
  socket.on('message', (data, isBinary) => seen.push([data.toString(), isBinary]));
  return seen;
}

function echo(spark: Spark): void {
  spark.on('data', (data: unknown) => spark.write(data));
}

describe('loading and options', () => {
  it('is found by name and reports its libwebsockets version', () => {
    const server = http.createServer();
    const primus = new Primus(server, { transformer: 'lws' });
    expect(primus.transformer.name).toBe('lws');
    expect(primus.transformer).toBe(lws);
    expect(loadBinding().version).toMatch(/^4\.\d+\.\d+/);
    primus.destroy({ close: false });
  });

  it('refuses an HTTPS server, whose sockets it could not take over', () => {
    const server = https.createServer();
    expect(() => new Primus(server, { transformer: lws })).toThrow(PrimusError);
    expect(() => new Primus(server, { transformer: lws })).toThrow(
      expect.objectContaining({ code: 'PRIMUS_ERR_INVALID_SERVER', message: expect.stringMatching(/plain http\.Server/) }),
    );
  });

  it('rejects bad options with a TypeError that names the option', () => {
    expect(() => createLwsTransformer({ highWaterMark: 0 })).toThrow(/"highWaterMark" must be an integer/);
    expect(() => createLwsTransformer({ maxBufferedAmount: 1.5 })).toThrow(TypeError);
    expect(() => createLwsTransformer({ closeTimeout: -1 })).toThrow(/"closeTimeout"/);
    expect(() => createLwsTransformer(null as never)).toThrow(TypeError);
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ highWaterMark: '1mb' }, /option "highWaterMark" must be an integer number of bytes from 1 to \d+, got "1mb"/],
      [{ maxBufferedAmount: 2 ** 41 }, /option "maxBufferedAmount" must be an integer number of bytes from 1 to/],
      [{ closeTimeout: Number.NaN }, /option "closeTimeout" must be an integer number of ms from 0 to \d+, got NaN/],
      [[] as never, /option "options" must be an object, got an array/],
    ];
    for (const [options, message] of bad) {
      const make = (): unknown => createLwsTransformer(options);
      expect(make).toThrow(message);
      expect(make).toThrow(expect.objectContaining({ name: 'TypeError', code: 'PRIMUS_ERR_INVALID_OPTION', message: expect.stringMatching(/^@primus\/transformer-lws: /) }));
    }
    expect(createLwsTransformer({ highWaterMark: 1 << 20 }).name).toBe('lws');
  });
});

describe('frames', () => {
  it(
    'delivers text frames as strings and binary frames as Buffers, and sends Buffers as binary frames',
    async () => {
      const { server } = await resources.start();
      const sparkP = nextSpark(server.primus);
      const socket = resources.raw(server);
      const received = frames(socket);
      await once(socket, 'open');
      const spark = await sparkP;
      const raw = collect<unknown>(spark, 'incoming::data', 2);
      const data = collect(spark, 'data', 2);
      socket.send('"text"');
      socket.send(Buffer.from('"bytes"'));
      const [text, bytes] = await raw;
      expect(text).toBe('"text"');
      expect(Buffer.isBuffer(bytes)).toBe(true);
      expect(String(bytes)).toBe('"bytes"');
      expect(await data).toEqual(['text', 'bytes']);

      spark.write('hello');
      spark.sendEncoded(Buffer.from('"raw"'));
      await waitFor(() => received.length === 2, 5000, 'two frames');
      expect(received).toEqual([
        ['"hello"', false],
        ['"raw"', true],
      ]);
    },
    TIMEOUT,
  );

  it(
    'reassembles fragmented messages, with UTF-8 characters cut between fragments',
    async () => {
      const { server } = await resources.start();
      const sparkP = nextSpark(server.primus);
      const socket = resources.raw(server);
      await once(socket, 'open');
      const spark = await sparkP;
      const data = collect<unknown>(spark, 'data', 2);
      const value = 'é€😀 '.repeat(40000);
      const bytes = Buffer.from(JSON.stringify(value));
      // Offsets that land inside multi-byte characters.
      const cuts = [0, 1, 1001, 65537, 200003, bytes.length];
      for (let i = 0; i < cuts.length - 1; i++) socket.send(bytes.subarray(cuts[i], cuts[i + 1]), { binary: false, fin: i === cuts.length - 2 });
      const binary = Buffer.from(JSON.stringify({ n: [1, 2, 3] }));
      socket.send(binary.subarray(0, 5), { binary: true, fin: false });
      socket.send(binary.subarray(5), { binary: true, fin: true });
      expect(await data).toEqual([value, { n: [1, 2, 3] }]);
    },
    TIMEOUT,
  );

  it(
    'answers WebSocket pings with pongs',
    async () => {
      const { server } = await resources.start();
      const socket = resources.raw(server);
      await once(socket, 'open');
      const pong = once<[Buffer]>(socket, 'pong');
      socket.ping(Buffer.from('are you there'));
      const [payload] = await pong;
      expect(String(payload)).toBe('are you there');
    },
    TIMEOUT,
  );

  it(
    'counts a WebSocket ping frame as a heartbeat without a Primus pong, on idle and on busy connections',
    async () => {
      const { server } = await resources.start();
      const sparkP = nextSpark(server.primus);
      // The client announces a heartbeat but keeps it with ping frames only, never primus::ping.
      const socket = resources.raw(server, {}, 'ping=60000&pong=10000');
      const received = frames(socket);
      await once(socket, 'open');
      const spark = await sparkP;
      const pings = collect(spark, 'incoming::ping', 4, 10000);

      for (const payload of [undefined, Buffer.from('with a payload')]) {
        const beat = once(spark, 'heartbeat', 10000);
        socket.ping(payload);
        await beat;
      }
      // While megabytes wait to go out to this client, the pong goes out between them.
      const chunk = 'b'.repeat(64 * 1024);
      for (let i = 0; i < 100; i++) spark.write(chunk);
      for (let i = 0; i < 2; i++) {
        const beat = once(spark, 'heartbeat', 10000);
        socket.ping();
        await beat;
      }
      await pings;
      await waitFor(() => received.length === 100, 20000, 'the queued messages');
      expect(received.every(([text]) => text === JSON.stringify(chunk))).toBe(true);
    },
    TIMEOUT,
  );

  it(
    'closes with 1009 when a message, whole or fragmented, exceeds maxLength',
    async () => {
      const { server } = await resources.start({ maxLength: 1024 });
      for (const fragmented of [false, true]) {
        const sparkP = nextSpark(server.primus);
        const socket = resources.raw(server);
        await once(socket, 'open');
        const spark = await sparkP;
        const error = once<[Error & { code: string }]>(spark, 'error');
        const ended = once(spark, 'end');
        const closed = once<[number]>(socket, 'close');
        const body = Buffer.from(JSON.stringify('x'.repeat(2000)));
        if (fragmented) {
          for (let i = 0; i < 4; i++) socket.send(body.subarray(i * 600, (i + 1) * 600), { binary: false, fin: i === 3 });
        } else {
          socket.send(body, { binary: false });
        }
        const [code] = await closed;
        expect(code).toBe(1009);
        const [err] = await error;
        expect(err.code).toBe('LWS_ERR_MESSAGE_TOO_BIG');
        await ended;
      }
    },
    TIMEOUT,
  );

  it(
    'negotiates permessage-deflate only with compression on, and round-trips large messages with it',
    async () => {
      const plain = await resources.start();
      const uncompressed = resources.raw(plain.server, { perMessageDeflate: true });
      await once(uncompressed, 'open');
      expect(uncompressed.extensions).toBe('');

      const { server } = await resources.start({ compression: true });
      const socket = resources.raw(server, { perMessageDeflate: true });
      await once(socket, 'open');
      expect(socket.extensions).toContain('permessage-deflate');

      server.primus.on('connection', echo);
      const client = server.client();
      const compressible = { rows: Array.from({ length: 20000 }, (_, i) => ({ id: i, name: `row ${i}`, ok: i % 2 === 0 })) };
      const random = randomBytes(600 * 1024).toString('base64');
      for (const value of [compressible, random, 'small']) {
        const reply = once(client, 'data', 20000);
        client.write(value);
        expect((await reply)[0]).toEqual(value);
      }
    },
    TIMEOUT,
  );
});

describe('back-pressure', () => {
  it(
    'stops reading from a client whose replies pile up, and resumes once they drain',
    async () => {
      const { server, service } = await resources.start({}, { highWaterMark: 256 * 1024 });
      const sparkP = nextSpark(server.primus);
      const socket = resources.raw(server);
      await once(socket, 'open');
      const spark = await sparkP;
      let echoed = 0;
      spark.on('data', (data: unknown) => {
        echoed++;
        spark.write(data);
      });
      let replies = 0;
      socket.on('message', () => replies++);
      const tcp = (socket as unknown as { _socket: import('node:net').Socket })._socket;
      tcp.pause();
      const count = 320;
      const message = JSON.stringify('z'.repeat(64 * 1024));
      for (let i = 0; i < count; i++) socket.send(message);

      await waitFor(() => service().stats().paused === 1, 20000, 'reading to pause');
      expect(service().stats().queuedBytes).toBeGreaterThan(256 * 1024);
      // Reading really stopped: without it the server would take in all 20 MB within milliseconds
      // on loopback and queue most of them. Give it a second to show that it does not.
      const readEverything = await waitFor(() => echoed === count, 1000, 'every message').then(
        () => true,
        () => false,
      );
      expect(readEverything).toBe(false);
      // Bounded by the mark plus what one read had brought in.
      expect(service().stats().queuedBytes).toBeLessThan(256 * 1024 + 2 * 1024 * 1024);

      tcp.resume();
      await waitFor(() => replies === count, 20000, 'every reply');
      expect(echoed).toBe(count);
      expect(service().stats()).toEqual({ connections: 1, queuedBytes: 0, paused: 0 });
    },
    TIMEOUT,
  );

  it(
    'returns false from write() past highWaterMark while the client does not read, then emits drain once it does',
    async () => {
      const { server, service } = await resources.start({ highWaterMark: 256 * 1024 });
      const sparkP = nextSpark(server.primus);
      const socket = resources.raw(server);
      await once(socket, 'open');
      const spark = await sparkP;
      let received = 0;
      socket.on('message', () => received++);
      const tcp = (socket as unknown as { _socket: import('node:net').Socket })._socket;
      tcp.pause();
      const chunk = 'w'.repeat(64 * 1024);
      let written = 0;
      let drains = 0;
      spark.on('drain', () => drains++);
      // Loopback's kernel buffers take a few MB first: each false is followed by a drain until they
      // are full. The client is stalled once no drain follows a false.
      for (;;) {
        while (spark.write(chunk)) {
          written++;
          expect(written).toBeLessThan(4096);
        }
        written++;
        const buffered = (spark.socket as { bufferedAmount?: number }).bufferedAmount!;
        expect(buffered).toBeGreaterThan(256 * 1024);
        expect(buffered).toBeLessThanOrEqual(256 * 1024 + 64 * 1024 + 16);
        const drained = await once(spark, 'drain', 500).then(
          () => true,
          () => false,
        );
        if (!drained) break;
      }
      expect(service().stats().queuedBytes).toBe((spark.socket as { bufferedAmount?: number }).bufferedAmount);
      const drainsWhileStalled = drains;
      tcp.resume();
      await once(spark, 'drain', 20000);
      expect(drains).toBe(drainsWhileStalled + 1);
      expect((spark.socket as { bufferedAmount?: number }).bufferedAmount).toBe(0);
      expect(spark.write(chunk)).toBe(true);
      await waitFor(() => received === written + 1, 20000, 'every message');
    },
    TIMEOUT,
  );

  it(
    'drops a client once more than maxBufferedAmount is queued for it',
    async () => {
      const { server, service } = await resources.start({}, { highWaterMark: 64 * 1024, maxBufferedAmount: 1024 * 1024 });
      const sparkP = nextSpark(server.primus);
      const socket = resources.raw(server);
      await once(socket, 'open');
      const spark = await sparkP;
      const error = once<[Error & { code: string }]>(spark, 'error');
      const ended = once(spark, 'end');
      const closed = once<[number]>(socket, 'close');
      const chunk = 'y'.repeat(60 * 1024);
      // Queued synchronously: nothing reaches the socket before the loop is done.
      for (let i = 0; i < 100; i++) spark.write(chunk);
      expect(service().stats().queuedBytes).toBeLessThanOrEqual(1024 * 1024);
      const [err] = await error;
      expect(err.code).toBe('LWS_ERR_BUFFER_FULL');
      await ended;
      const [code] = await closed;
      expect(code).toBe(1006);
    },
    TIMEOUT,
  );
});

/** The status code of the first close frame in what a server sent after its 101 response. */
function closeCode(bytes: Buffer): number | undefined {
  let at = bytes.indexOf('\r\n\r\n');
  if (at < 0) return undefined;
  at += 4;
  while (at + 2 <= bytes.length) {
    const opcode = bytes[at]! & 0x0f;
    let length = bytes[at + 1]! & 0x7f;
    let start = at + 2;
    if (length === 126) {
      length = bytes.readUInt16BE(start);
      start += 2;
    }
    if (opcode === 8) return length >= 2 && start + 2 <= bytes.length ? bytes.readUInt16BE(start) : undefined;
    at = start + length;
  }
  return undefined;
}

describe('protocol errors', () => {
  it('checks frame headers before libwebsockets parses them', async () => {
    await resources.start();
    expect(loadBinding().checksFrames).toBe(true);
  });

  /** Send the upgrade request and `frames` in one write; resolves with the close code the server sent. */
  async function closeAfter(frames: Buffer, withRequest: boolean): Promise<{ code: number | undefined; data: unknown[] }> {
    const { server } = await resources.start();
    const data: unknown[] = [];
    server.primus.on('connection', (spark: Spark) => spark.on('data', (value: unknown) => data.push(value)));
    const tcp = await resources.tcp(server);
    const chunks: Buffer[] = [];
    tcp.on('data', (chunk: Buffer) => chunks.push(chunk));
    const request = Buffer.from(upgradeRequest(server.port));
    if (withRequest) {
      tcp.write(Buffer.concat([request, frames]));
    } else {
      tcp.write(request);
      await waitFor(() => Buffer.concat(chunks).includes('\r\n\r\n'), 10000, 'the 101 response');
      tcp.write(frames);
    }
    await waitFor(() => closeCode(Buffer.concat(chunks)) !== undefined, 10000, 'a close frame');
    return { code: closeCode(Buffer.concat(chunks)), data };
  }

  const unmasked = (payload: string): Buffer => Buffer.concat([Buffer.from([0x81, payload.length]), Buffer.from(payload)]);

  it(
    'closes with 1002 on an unmasked client frame; the frames before it arrive, nothing of it does',
    async () => {
      const { code, data } = await closeAfter(Buffer.concat([clientFrame(Buffer.from('"first"')), unmasked('"unmasked"')]), false);
      expect(code).toBe(1002);
      expect(data).toEqual(['first']);
    },
    TIMEOUT,
  );

  it(
    'closes with 1002 on an unmasked client frame sent right behind the upgrade request',
    async () => {
      const { code, data } = await closeAfter(unmasked('"unmasked"'), true);
      expect(code).toBe(1002);
      expect(data).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'closes with 1002 on a close frame without a full status code, 1007 on a close reason that is not UTF-8',
    async () => {
      expect((await closeAfter(clientFrame(Buffer.from([0x03]), 0x8), false)).code).toBe(1002);
      expect((await closeAfter(clientFrame(Buffer.from([0x03, 0xe8, 0xed, 0xa0, 0x80]), 0x8), false)).code).toBe(1007);
      // The control: a valid close frame is answered with its own code.
      expect((await closeAfter(clientFrame(Buffer.from([0x0f, 0xa0, 0x6f, 0x6b]), 0x8), false)).code).toBe(4000);
    },
    TIMEOUT,
  );
});

describe('handshakes', () => {
  it(
    'takes over a frame the client sent right behind its upgrade request',
    async () => {
      const { server } = await resources.start();
      const data = new Promise<unknown>((resolve) => server.primus.on('connection', (spark: Spark) => spark.on('data', resolve)));
      const tcp = await resources.tcp(server);
      tcp.write(Buffer.concat([Buffer.from(upgradeRequest(server.port)), clientFrame(Buffer.from('"early bird"'))]));
      expect(await data).toBe('early bird');
    },
    TIMEOUT,
  );

  it(
    'confirms the first subprotocol the client offers, as ws does',
    async () => {
      const { server } = await resources.start();
      const socket = resources.raw(server, {}, 'ping=false');
      await once(socket, 'open');
      expect(socket.protocol).toBe('');
      const offered = new WebSocket(`${server.url.replace('http:', 'ws:')}/primus?ping=false`, ['chat.v2', 'chat.v1']);
      offered.on('error', () => {});
      await once(offered, 'open');
      expect(offered.protocol).toBe('chat.v2');
      offered.terminate();
    },
    TIMEOUT,
  );

  it(
    'accepts upgrade requests with large headers',
    async () => {
      const { server } = await resources.start();
      const sparkP = nextSpark(server.primus);
      const cookie = `session=${'c'.repeat(12000)}`;
      const socket = resources.raw(server, { headers: { cookie } });
      await once(socket, 'open');
      expect((await sparkP).headers.cookie).toBe(cookie);
    },
    TIMEOUT,
  );

  it(
    'refuses bad upgrade requests with the answers ws gives, without harm to other clients',
    async () => {
      const { server } = await resources.start();
      const cases: [string, RegExp][] = [
        [upgradeRequest(server.port).replace(/Sec-WebSocket-Key: .*\r\n/, ''), /^HTTP\/1\.1 400 .*Missing or invalid Sec-WebSocket-Key header$/s],
        [upgradeRequest(server.port, [], 'short=='), /^HTTP\/1\.1 400 .*Missing or invalid Sec-WebSocket-Key header$/s],
        [upgradeRequest(server.port).replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 99'), /^HTTP\/1\.1 400 .*Missing or invalid Sec-WebSocket-Version header$/s],
        [upgradeRequest(server.port).replace('Upgrade: websocket', 'Upgrade: h2c'), /^HTTP\/1\.1 400 .*Invalid Upgrade header$/s],
        [upgradeRequest(server.port).replace('GET ', 'POST '), /^HTTP\/1\.1 405 .*Invalid HTTP method$/s],
        [upgradeRequest(server.port, ['Sec-WebSocket-Protocol: chat, bad protocol']), /^HTTP\/1\.1 400 .*Invalid Sec-WebSocket-Protocol header$/s],
      ];
      for (const [request, answer] of cases) {
        const tcp = await resources.tcp(server);
        const reply = readAll(tcp);
        tcp.write(request);
        expect(String(await reply)).toMatch(answer);
      }

      server.primus.on('connection', echo);
      const client = server.client();
      client.write('still fine');
      expect((await once(client, 'data'))[0]).toBe('still fine');
    },
    TIMEOUT,
  );
});

/** Open file descriptors of this process, as the largest descriptor number and the soft and hard limits. */
function descriptorLimits(): { highest: number; soft: number; hard: number } {
  const highest = Math.max(...readdirSync('/proc/self/fd').map(Number));
  const [, soft, hard] = /Max open files\s+(\d+)\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))!;
  return { highest, soft: Number(soft), hard: Number(hard) };
}

/** Set this process's descriptor limit (Node has no setrlimit; util-linux's prlimit does it). */
function setDescriptorLimit(soft: number, hard: number): void {
  const result = spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${soft}:${hard}`], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`prlimit failed: ${result.error ?? result.stderr}`);
}

/** Wait until servers of earlier tests have let go of their connections and descriptors. */
async function onlyThisServer(): Promise<void> {
  await waitFor(() => diagnostics().servers === 1 && diagnostics().vhosts === 1, 10000, 'earlier servers to be released');
}

describe('file descriptors', () => {
  it(
    'holds one descriptor per connection, not two',
    async () => {
      const { server } = await resources.start();
      // The first connection creates the shared context and its descriptors.
      await once(resources.raw(server), 'open');
      await onlyThisServer();
      const before = openDescriptors();
      const count = 20;
      const sparks = collect(server.primus, 'connection', count);
      const sockets = Array.from({ length: count }, () => resources.raw(server));
      await Promise.all(sockets.map((socket) => once(socket, 'open')));
      await sparks;
      // Each connection: the client's socket (this process is the client too) and one on the server.
      expect(openDescriptors() - before).toBe(2 * count);
    },
    TIMEOUT,
  );

  it(
    "keeps Node's view of the connection: addresses, the connection count, socket.end()",
    async () => {
      const { server } = await resources.start();
      const sparkP = nextSpark(server.primus);
      const socket = resources.raw(server);
      await once(socket, 'open');
      const spark = await sparkP;
      const nodeSocket = spark.request!.socket;
      const client = (socket as unknown as { _socket: import('node:net').Socket })._socket;
      expect([nodeSocket.remoteAddress, nodeSocket.remotePort]).toEqual(['127.0.0.1', client.localPort]);
      expect([nodeSocket.localAddress, nodeSocket.localPort]).toEqual(['127.0.0.1', server.port]);
      const connections = (): Promise<number> => new Promise((resolve, reject) => server.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
      expect(await connections()).toBe(1);

      const closed = once<[number]>(socket, 'close');
      const ended = once(spark, 'end');
      nodeSocket.end();
      expect((await closed)[0]).toBe(1006);
      await ended;
      expect(await connections()).toBe(0);
    },
    TIMEOUT,
  );

  it(
    'lets server.close() wait for open WebSockets and finish once they are gone',
    async () => {
      const { server } = await resources.start();
      server.primus.on('connection', echo);
      const socket = resources.raw(server);
      await once(socket, 'open');
      let finished = false;
      const serverClosed = new Promise<void>((resolve) =>
        server.server.close(() => {
          finished = true;
          resolve();
        }),
      );
      // The connection still works while the server waits for it.
      const reply = once<[Buffer]>(socket, 'message');
      socket.send('"still open"');
      expect(String((await reply)[0])).toBe('"still open"');
      expect(finished).toBe(false);
      socket.close(1000);
      await serverClosed;
    },
    TIMEOUT,
  );

  it(
    'answers an upgrade with 503 and logs an error when the process is out of descriptors',
    async () => {
      const { server } = await resources.start();
      await once(resources.raw(server), 'open');
      await onlyThisServer();
      const logged: unknown[][] = [];
      server.primus.on('log', (...args: unknown[]) => logged.push(args));
      const { highest, soft, hard } = descriptorLimits();
      const fillers: number[] = [];
      let reply: Promise<Buffer>;
      setDescriptorLimit(highest + 16, hard);
      try {
        try {
          for (;;) fillers.push(openSync('/dev/null', 'r'));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EMFILE') throw err;
        }
        // Room for exactly two: the client's socket, and the one the server accepts. The server
        // then cannot give libwebsockets a descriptor of its own.
        closeSync(fillers.pop()!);
        closeSync(fillers.pop()!);
        const tcp = await resources.tcp(server);
        reply = readAll(tcp);
        tcp.write(upgradeRequest(server.port));
        await reply;
      } finally {
        for (const fd of fillers) closeSync(fd);
        setDescriptorLimit(soft, hard);
      }
      expect(String(await reply)).toMatch(/^HTTP\/1\.1 503 .*out of file descriptors/s);
      expect(logged).toContainEqual(['error', expect.stringMatching(/503.*out of file descriptors/)]);

      // Once descriptors are free again, connections work.
      const socket = resources.raw(server);
      await once(socket, 'open');
    },
    TIMEOUT,
  );
});

describe('teardown', () => {
  it(
    "drops the WebSocket at once when Node's socket is destroyed",
    async () => {
      const { server } = await resources.start();
      const sparkP = nextSpark(server.primus);
      const socket = resources.raw(server);
      const received = frames(socket);
      await once(socket, 'open');
      const spark = await sparkP;
      const ended = once(spark, 'end');
      const closed = once<[number]>(socket, 'close');
      spark.request!.socket.destroy();
      // Anything written after the socket was destroyed must not reach the client.
      spark.write('too late');
      const [code] = await closed;
      expect(code).toBe(1006);
      await ended;
      expect(received).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'leaves no descriptors, connections or vhosts behind',
    async () => {
      // The context (and its event descriptor) lives as long as the process: create it first.
      const warm = await resources.start();
      const first = resources.raw(warm.server);
      await once(first, 'open');
      await resources.close(warm.server);
      await waitFor(() => diagnostics().vhosts === 0, 5000, 'the warm-up vhost to go');
      const descriptors = openDescriptors();

      const { server } = await resources.start();
      const sparks: Spark[] = [];
      server.primus.on('connection', (spark: Spark) => {
        sparks.push(spark);
        echo(spark);
      });
      const sockets: WebSocket[] = [];
      for (let i = 0; i < 30; i++) {
        const socket = resources.raw(server);
        sockets.push(socket);
        await once(socket, 'open');
        const reply = once(socket, 'message');
        socket.send(`"hello ${i}"`);
        await reply;
      }
      // Half-finished handshakes: the client leaves right after its request.
      const halfOpen = [];
      for (let i = 0; i < 5; i++) {
        const tcp = await resources.tcp(server);
        halfOpen.push(readAll(tcp));
        tcp.end(upgradeRequest(server.port));
      }
      const closed = sockets.map((socket) => once(socket, 'close'));
      sockets.forEach((socket, i) => {
        if (i % 3 === 0) socket.close(1000);
        else if (i % 3 === 1) sparks[i]!.end();
        else sparks[i]!.request!.socket.destroy();
      });
      await Promise.all([...closed, ...halfOpen]);
      await waitFor(() => server.primus.connected === 0, 5000, 'every spark to end');
      await resources.close(server);
      await waitFor(() => openDescriptors() === descriptors && diagnostics().vhosts === 0 && diagnostics().servers === 0, 10000, 'descriptors and vhosts to be released');
    },
    TIMEOUT,
  );

  it(
    'shuts down cleanly in a worker thread that exits with a connection open',
    async () => {
      const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const http = require('node:http');
      const binding = require(workerData.binding);
      const handle = binding.create({ name: 'worker', compression: true, maxLength: 1 << 20, highWaterMark: 1 << 20, maxBufferedAmount: 1 << 26, maxHeaderSize: 16384 }, () => {});
      const server = http.createServer();
      server.on('upgrade', (req, socket, head) => {
        socket._handle.readStop();
        socket._read = () => {};
        let text = req.method + ' ' + req.url + ' HTTP/1.1\\r\\nHost: worker\\r\\n';
        for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i].toLowerCase() !== 'host') text += req.rawHeaders[i] + ': ' + req.rawHeaders[i + 1] + '\\r\\n';
        binding.adopt(handle, socket._handle.fd, Buffer.concat([Buffer.from(text + '\\r\\n', 'latin1'), head]));
      });
      server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
      parentPort.on('message', () => process.exit(7));
    `;
      const worker = new Worker(code, { eval: true, workerData: { binding: bindingPath() } });
      const [port] = await once<[number]>(worker, 'message');
      const { WebSocket: Client } = await import('ws');
      const socket = new Client(`ws://127.0.0.1:${port}/`);
      socket.on('error', () => {});
      await once(socket, 'open');
      const closed = once(socket, 'close');
      const exited = once<[number]>(worker, 'exit');
      worker.postMessage('exit');
      const [exitCode] = await exited;
      expect(exitCode).toBe(7);
      await closed;
    },
    TIMEOUT,
  );
});
