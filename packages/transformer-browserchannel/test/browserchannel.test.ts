import http from 'node:http';
import diagnosticsChannel from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import type { Spark } from '@primus/core';
import { nextSpark, once, probe, request, waitFor, type TestServer, useServers } from '@primus/transformer-test-suite';
import browserchannel from '../src';

// What the BrowserChannel transformer does beyond the conformance suite, much of it spoken by
// hand: the query and the real address reach the spark, sessions are tied to their client's
// token, bad requests are answered instead of crashing the server, and the Node client's requests
// (terminate included) carry the right Host and the socket's extra headers.

const TIMEOUT = 20000;
const start = useServers(browserchannel);
const probed = probe(browserchannel);

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The client-side port of the connection the request used. */
  localPort: number;
}

/** A raw HTTP request on a connection of its own, speaking BrowserChannel by hand. */
function raw(url: string, init: { method?: string; body?: string | string[]; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let localPort = 0;
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, localPort }));
    });
    req.on('socket', (socket: Socket) => socket.once('connect', () => (localPort = socket.localPort ?? 0)));
    req.on('error', reject);
    if (Array.isArray(init.body)) {
      // Without a Content-Length: sent chunked, the body's size unknown up front.
      for (const part of init.body) req.write(part);
      req.end();
    } else {
      req.end(init.body);
    }
  });
}

const form = { 'Content-Type': 'application/x-www-form-urlencoded' };

/** The arrays of a BrowserChannel answer: `<length>\n<JSON array of [id, data]>`, possibly several. */
function arrays(body: string): [number, unknown][] {
  const out: [number, unknown][] = [];
  let rest = body;
  while (rest) {
    const newline = rest.indexOf('\n');
    const length = Number(rest.slice(0, newline));
    out.push(...(JSON.parse(rest.slice(newline + 1, newline + 1 + length)) as [number, unknown][]));
    rest = rest.slice(newline + 1 + length);
  }
  return out;
}

/** Open a session by hand with affinity token `a`; resolves with its id and the opening answer. */
async function openSession(server: TestServer, query: string, a = 'token-1'): Promise<{ sid: string; opened: RawResponse }> {
  const opened = await raw(`${server.url}/primus/bind?VER=8&RID=1000&CVER=1&a=${a}&${query}`, { method: 'POST', headers: form, body: 'count=0' });
  expect(opened.status).toBe(200);
  const [first] = arrays(opened.body);
  const [kind, sid] = first![1] as [string, string];
  expect(kind).toBe('c');
  return { sid, opened };
}

/** Send strings on a hand-made session's forward channel. */
function forward(server: TestServer, sid: string, rid: number, messages: string[], a = 'token-1'): Promise<RawResponse> {
  const maps = messages.map((message, i) => `req${i}__S=${encodeURIComponent(message)}`).join('&');
  return raw(`${server.url}/primus/bind?VER=8&SID=${sid}&RID=${rid}&AID=0&a=${a}`, { method: 'POST', headers: form, body: `count=${messages.length}&ofs=0&${maps}` });
}

/** One back-channel poll (CI=1: the server answers with the first chunk and closes). */
function poll(server: TestServer, sid: string, a = 'token-1'): Promise<RawResponse> {
  return raw(`${server.url}/primus/bind?VER=8&RID=rpc&SID=${sid}&CI=1&AID=0&TYPE=xmlhttp&a=${a}`);
}

describe('browserchannel: a session spoken by hand', () => {
  it(
    'gives the spark its session id, the query with numeric ping/pong, and the real address and port',
    async () => {
      const server = await start();
      const sparkP = nextSpark(server.primus);
      const { sid, opened } = await openSession(server, 'room=lobby&ping=60000&pong=5000&_primuscb=abc');
      const spark = await sparkP;

      expect(spark.id).toBe(sid);
      expect(spark.query).toMatchObject({ room: 'lobby', ping: 60000, pong: 5000, _primuscb: 'abc', a: 'token-1', VER: '8' });
      // happn-primus reported port 1337 for every BrowserChannel client.
      expect(spark.address).toEqual({ ip: '127.0.0.1', port: opened.localPort, secure: false });
      expect(spark.request?.method).toBe('POST');
      expect(spark.request?.url).toMatch(/^\/primus\/bind\?VER=8&RID=1000&/);
      expect(spark.headers['content-type']).toBe('application/x-www-form-urlencoded');
    },
    TIMEOUT,
  );

  it(
    'delivers messages both ways on the forward and back channels',
    async () => {
      const server = await start();
      server.primus.on('connection', (spark: Spark) => spark.on('data', (data: unknown) => spark.write({ echo: data })));
      const { sid } = await openSession(server, '');
      const sent = await forward(server, sid, 1001, [JSON.stringify('hello'), JSON.stringify({ n: 1 })]);
      expect(sent.status).toBe(200);
      const echoes: unknown[] = [];
      while (echoes.length < 2) {
        const polled = await poll(server, sid);
        for (const [, data] of arrays(polled.body)) echoes.push(JSON.parse(data as string));
      }
      expect(echoes).toEqual([{ echo: 'hello' }, { echo: { n: 1 } }]);
    },
    TIMEOUT,
  );

  it(
    'delivers forward-channel requests and maps that arrive ahead of their turn in order',
    async () => {
      const server = await start();
      const sparkP = nextSpark(server.primus);
      const { sid } = await openSession(server, '');
      const spark = await sparkP;
      const heard: unknown[] = [];
      spark.on('data', (data: unknown) => heard.push(data));
      const post = (rid: number, ofs: number, messages: string[]): Promise<RawResponse> =>
        raw(`${server.url}/primus/bind?VER=8&SID=${sid}&RID=${rid}&AID=0&a=token-1`, {
          method: 'POST',
          headers: form,
          body: `count=${messages.length}&ofs=${ofs}&${messages.map((m, i) => `req${i}__S=${encodeURIComponent(JSON.stringify(m))}`).join('&')}`,
        });
      // Request 1002 (maps 2 and 3) first: held until 1001 (maps 0 and 1) has arrived.
      expect((await post(1002, 2, ['c', 'd'])).status).toBe(200);
      expect(heard).toEqual([]);
      expect((await post(1001, 0, ['a', 'b'])).status).toBe(200);
      await waitFor(() => heard.length === 4, 5000);
      // Then in turn again, and a retry of an old one delivers nothing twice.
      expect((await post(1003, 4, ['e'])).status).toBe(200);
      expect((await post(1003, 4, ['e'])).status).toBe(200);
      await waitFor(() => heard.length >= 5, 5000);
      expect(heard).toEqual(['a', 'b', 'c', 'd', 'e']);
    },
    TIMEOUT,
  );

  it(
    'counts in bufferedAmount the bytes of its messages the client has not acknowledged',
    async () => {
      const server = await start({ transformer: probed.transformer });
      const sparkP = nextSpark(server.primus);
      const { sid } = await openSession(server, '');
      const spark = await sparkP;
      const socket = probed.socketOf(spark.id)!;
      // Each message is 12 bytes on the wire: "xxxxxxxxxx" with its quotes.
      for (let i = 0; i < 100; i++) spark.write('x'.repeat(10));
      expect(socket.bufferedAmount).toBe(1200);
      const ids: number[] = [];
      while (ids.length < 100) {
        for (const [id, data] of arrays((await poll(server, sid)).body)) if (data === '"xxxxxxxxxx"') ids.push(id);
      }
      // Written to a back channel but not acknowledged: still held.
      expect(socket.bufferedAmount).toBe(1200);
      const acknowledge = (aid: number): Promise<RawResponse> => raw(`${server.url}/primus/bind?VER=8&SID=${sid}&RID=rpc&CI=1&AID=${aid}&TYPE=xmlhttp&a=token-1`);
      const third = acknowledge(ids[29]!);
      await waitFor(() => socket.bufferedAmount === 840, 5000);
      spark.write('x'.repeat(10));
      expect(socket.bufferedAmount).toBe(852);
      await third;
      const rest = acknowledge(ids[99]!);
      await waitFor(() => socket.bufferedAmount === 12, 5000);
      spark.write('x'.repeat(10));
      expect(socket.bufferedAmount).toBe(24);
      await rest;
    },
    TIMEOUT,
  );

  it(
    "refuses requests that name a session without its client's token, and the session carries on",
    async () => {
      const server = await start();
      const sparkP = nextSpark(server.primus);
      const { sid } = await openSession(server, '', 'the-real-token');
      const spark = await sparkP;
      const heard: unknown[] = [];
      spark.on('data', (data: unknown) => heard.push(data));

      const injected = await forward(server, sid, 1001, [JSON.stringify('injected')], 'a-guess');
      expect(injected.status).toBe(400);
      expect(injected.body).toContain('Unknown SID');
      const stolen = await poll(server, sid, 'a-guess');
      expect(stolen.status).toBe(400);
      const terminated = await raw(`${server.url}/primus/bind?VER=8&SID=${sid}&RID=1001&TYPE=terminate&a=a-guess`);
      expect(terminated.status).toBe(400);
      // Evicting the session by naming it as the old session of a new one is refused too.
      const evicting = await raw(`${server.url}/primus/bind?VER=8&RID=5&OSID=${sid}&OAID=0&a=a-guess`, { method: 'POST', headers: form, body: 'count=0' });
      expect(evicting.status).toBe(400);

      const genuine = await forward(server, sid, 1001, [JSON.stringify('genuine')], 'the-real-token');
      expect(genuine.status).toBe(200);
      await waitFor(() => heard.length > 0, 5000, 'the genuine message');
      expect(heard).toEqual(['genuine']);
      expect(server.primus.connected).toBe(1);
    },
    TIMEOUT,
  );

  it(
    'answers a malformed request with 400 instead of crashing, and logs it',
    async () => {
      const server = await start();
      const logged: unknown[][] = [];
      server.primus.on('log', (...args: unknown[]) => logged.push(args));
      // browserchannel itself throws a TypeError here: a back-channel request without a session id.
      const res = await raw(`${server.url}/primus/bind?VER=8&RID=rpc&TYPE=xmlhttp`);
      expect(res.status).toBe(400);
      expect(logged.some(([level, message]) => level === 'warn' && String(message).includes('malformed'))).toBe(true);

      const client = server.client();
      await once(client, 'open');
    },
    TIMEOUT,
  );

  it(
    'answers 413 to a forward-channel body over maxLength, declared or streamed, and closes the session',
    async () => {
      const server = await start({ maxLength: 1000 });
      const heard: unknown[] = [];
      server.primus.on('connection', (spark: Spark) => spark.on('data', (data: unknown) => heard.push(data)));
      const big = JSON.stringify('x'.repeat(2000));

      let sparkP = nextSpark(server.primus);
      let { sid } = await openSession(server, '');
      let ended = once(await sparkP, 'end', 5000);
      expect((await forward(server, sid, 1001, [JSON.stringify('fits')])).status).toBe(200);
      await waitFor(() => heard.length === 1, 5000, 'the message that fits');
      const declared = await forward(server, sid, 1002, [big]);
      expect(declared.status).toBe(413);
      await ended;

      sparkP = nextSpark(server.primus);
      ({ sid } = await openSession(server, ''));
      ended = once(await sparkP, 'end', 5000);
      const streamed = await raw(`${server.url}/primus/bind?VER=8&SID=${sid}&RID=1001&AID=0&a=token-1`, {
        method: 'POST',
        headers: form,
        body: ['count=1&ofs=0&req0__S=', encodeURIComponent(big)],
      });
      expect(streamed.status).toBe(413);
      await ended;
      expect(heard).toEqual(['fits']);
    },
    TIMEOUT,
  );
});

describe('browserchannel: switching to it', () => {
  it(
    "is loaded by name: one dependency and `transformer: 'browserchannel'`",
    async () => {
      const server = await start({ transformer: 'browserchannel' });
      expect(server.primus.spec.transformer).toBe('browserchannel');
      expect(server.primus.library()).toContain('/bind');
      const client = server.client();
      await once(client, 'open');
    },
    TIMEOUT,
  );
});

describe('browserchannel: the HTTP surface', () => {
  it(
    'leaves unknown paths to 404s and does not take upgrades over',
    async () => {
      const server = await start();
      for (const path of ['/primus', '/primusfoo']) {
        const res = await request(`${server.url}${path}`);
        expect([path, res.status, res.headers['content-type'], res.body]).toEqual([path, 404, 'text/plain', 'Not Found']);
      }
      // Below the pathname browserchannel answers for itself.
      expect((await request(`${server.url}/primus/nothing-here`)).status).toBe(404);

      const upgrade = await new Promise<string>((resolve) => {
        const req = http.request(`${server.url}/primus/bind`, { headers: { Connection: 'Upgrade', Upgrade: 'websocket' }, agent: false });
        req.on('upgrade', () => resolve('upgraded'));
        req.on('response', (res) => resolve(`answered ${res.statusCode}`));
        req.on('error', () => resolve('closed'));
        req.end();
      });
      // Node answers an upgrade nobody listens for as a plain request: browserchannel's 400 here.
      expect(upgrade).not.toBe('upgraded');
    },
    TIMEOUT,
  );
});

describe('browserchannel: the network test', () => {
  it(
    'ends a network test still in progress when the server shuts down, instead of writing its last byte two seconds later',
    async () => {
      const server = await start();
      // The second request of a client's network test: browserchannel writes 11111 now and 2 two
      // seconds later, to see whether a proxy buffers the response.
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.request(`${server.url}/primus/test?VER=8&TYPE=xmlhttp`, { agent: false }, resolve);
        req.on('error', reject);
        req.end();
      });
      expect(res.statusCode).toBe(200);
      res.setEncoding('utf8');
      let body = '';
      const firstChunk = new Promise<void>((resolve) =>
        res.on('data', (chunk: string) => {
          body += chunk;
          resolve();
        }),
      );
      const ended = once(res, 'end');
      await firstChunk;
      // The HTTP server stays up, so only the transformer can end the response.
      await new Promise<void>((resolve) => server.primus.destroy({ close: false }, () => resolve()));
      await ended;
      expect(body).toBe('11111');
    },
    TIMEOUT,
  );
});

describe('browserchannel: the Node client', () => {
  it(
    'sends the Host with its port and the extra headers, on every request including terminate',
    async () => {
      const seen: string[] = [];
      const server = await start({
        authorization(req, done) {
          const url = new URL(req.url ?? '/', 'http://localhost');
          seen.push(`${req.method} ${url.pathname} ${url.searchParams.get('TYPE') ?? url.searchParams.get('MODE') ?? ''}`.trim());
          if (req.headers['x-token'] === 'secret' && req.headers.host === `127.0.0.1:${server.port}`) return done();
          done(Object.assign(new Error('who are you?'), { statusCode: 403 }));
        },
      });
      const sparkP = nextSpark(server.primus);
      const client = server.client({ transport: { extraHeaders: { 'x-token': 'secret' } } });
      await once(client, 'open');
      const spark = await sparkP;
      expect(spark.headers['x-token']).toBe('secret');
      await waitFor(() => seen.includes('GET /primus/bind xmlhttp'), 5000, 'the back channel');

      const ended = once(spark, 'end', 5000);
      client.end();
      // Without the terminate request the spark would wait for browserchannel's 30 s session timeout.
      await ended;
      expect(new Set(seen)).toEqual(new Set(['GET /primus/test init', 'GET /primus/test xmlhttp', 'POST /primus/bind', 'GET /primus/bind xmlhttp', 'GET /primus/bind terminate']));
    },
    TIMEOUT,
  );

  it(
    'ends a session whose client closed while it was still connecting',
    async () => {
      let client: ReturnType<TestServer['client']> | undefined;
      const server = await start({
        authorization(req, done) {
          // The session is about to be created, and the client is still connecting: end it now.
          if (req.method === 'POST' && !req.query.SID) client?.end();
          done();
        },
      });
      const connected = nextSpark(server.primus);
      client = server.client();
      const spark = await connected;
      await once(spark, 'end', 5000);
      expect(server.primus.connected).toBe(0);
    },
    TIMEOUT,
  );

  it(
    'sends its network probe where testImageUri says, not to www.google.com',
    async () => {
      const hits: string[] = [];
      const server = await start(
        {
          authorization(_req, done) {
            done(Object.assign(new Error('closed for today'), { statusCode: 403 }));
          },
        },
        (req, res) => {
          hits.push(req.url ?? '');
          res.end();
        },
      );
      // BrowserChannel probes the network after a failed request; the builds browserchannel ships
      // ignore testImageUri and always ask www.google.com.
      // The refusal is the failed request that makes it probe: an error, then the end.
      const client = server.client({ transport: { testImageUri: `${server.url}/probe.gif` } }, { errors: 'expected' });
      await once(client, 'end');
      await waitFor(() => hits.includes('/probe.gif'), 5000, 'the probe');
    },
    TIMEOUT,
  );

  it(
    'hears a server-side end as an end, not as an error',
    async () => {
      const server = await start();
      const sparkP = nextSpark(server.primus);
      const client = server.client();
      const errors: unknown[] = [];
      client.on('error', (err: unknown) => errors.push(err));
      await once(client, 'open');
      const ended = once(client, 'end');
      (await sparkP).end(undefined, { reconnect: false });
      await ended;
      expect(errors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    "notices a server that went away without retrying its back channel, as happn-primus's client does",
    async () => {
      // happn-primus's Node client ends within milliseconds when the server goes away as it opens:
      // its XMLHttpRequest reports every failed connection as status 503, which BrowserChannel
      // takes as fatal. With a browser's status 0 for every failure, BrowserChannel retried the back
      // channel three times (0.75-1.5 s with failFast) before the client noticed: three requests
      // at least after the kill. Now a refused connection is final; a reset is still retried.
      const server = await start();
      const host = `127.0.0.1:${server.port}`;
      const backChannels: string[] = [];
      const onStart = (message: unknown): void => {
        const { request } = message as { request: http.ClientRequest };
        if (request.getHeader('host') === host && request.method === 'GET' && request.path.startsWith('/primus/bind?')) backChannels.push(request.path);
      };
      diagnosticsChannel.subscribe('http.client.request.start', onStart);
      try {
        // Losing the server is an error on the connection.
        const client = server.client({ strategy: false }, { errors: 'expected' });
        await once(client, 'open');
        const before = backChannels.length;
        await server.kill();
        await once(client, 'end', 5000);
        // The back channel the kill interrupted (if it had not started yet), and at most one retry
        // that met the server while it was shutting down, before one found nobody listening.
        expect(backChannels.length - before).toBeLessThanOrEqual(2);
      } finally {
        diagnosticsChannel.unsubscribe('http.client.request.start', onStart);
      }
    },
    TIMEOUT,
  );

  it(
    "runs the spark's heartbeat on the client's ping and pong",
    async () => {
      const server = await start({ pongSkipTime: 0 });
      const sparkP = nextSpark(server.primus);
      const client = server.client({ ping: 200, pong: 100 });
      // A client that announced a 200 ms ping but never sends one.
      client.heartbeat = () => client;
      const spark = await sparkP;
      expect(spark.query).toMatchObject({ ping: 200, pong: 100 });
      const started = Date.now();
      await once(server.primus, 'flatline', 5000);
      // Three periods of ping + pong/2; on the 25000/10000 defaults it would take 90 s.
      expect(Date.now() - started).toBeLessThan(3000);
    },
    TIMEOUT,
  );
});
