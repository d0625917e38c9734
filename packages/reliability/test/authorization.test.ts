import { writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { PrimusRequest, Spark, Transformer } from '@primus/core';
import faye from '@primus/transformer-faye';
import lws from '@primus/transformer-lws';
import websockets from '@primus/transformer-ws';
import { once, startServer, waitFor, type TestServer } from '@primus/transformer-test-suite';
import { frameworks, type SessionVars } from './framework-input';
import { openWebSocket, rawRequest, type RawRequest, type RawResponse } from './framework-input-wire';

// Authorization runs for every HTTP request and upgrade under the pathname, whatever the
// transformer: a client the hook refuses can neither open a session nor use someone else's, on any
// path the transformer exposes. For each transformer and path the test sends the request without
// credentials (with a live, authorised session's ids where the path takes one) and checks the
// refusal, that no spark was created, that nothing reached the application and that nothing queued
// for the authorised session leaked or went missing. The polling frameworks also get the same
// requests through a second Primus server of the same framework, in the same process, that has no
// authorization: their sessions must not be reachable from there.
// RELIABILITY_REPORT_AUTH=<file> writes the matrix (transformer x path -> outcome) as JSON.

const TIMEOUT = 30000;
const SECRET = 'for the authorised client only';
const REFUSAL = { error: 'credentials required' };
const ALLOWED = 'token=good';

/** One row of the matrix. */
interface MatrixRow {
  transformer: string;
  path: string;
  outcome: string;
}

const matrix: MatrixRow[] = [];

afterAll(() => {
  const file = process.env.RELIABILITY_REPORT_AUTH;
  if (file) writeFileSync(file, JSON.stringify(matrix, null, 2) + '\n');
});

function authorize(req: PrimusRequest, done: (err?: Error) => void): void {
  if (req.query.token === 'good') done();
  else done(new Error(REFUSAL.error));
}

/** A server with the hook, echoing and recording what each spark hears. */
interface Guarded {
  server: TestServer;
  heard: Map<Spark, unknown[]>;
  /** Sparks created since the last `mark()`. */
  created(): Spark[];
  mark(): void;
}

async function guarded(transformer: Transformer, withAuth = true): Promise<Guarded> {
  const server = await startServer({ transformer, ...(withAuth ? { authorization: authorize } : {}) });
  const heard = new Map<Spark, unknown[]>();
  let since: Spark[] = [];
  server.primus.on('connection', (spark: Spark) => {
    const list: unknown[] = [];
    heard.set(spark, list);
    since.push(spark);
    spark.on('data', (data: unknown) => {
      list.push(data);
      spark.write(data);
    });
  });
  return {
    server,
    heard,
    created: () => since,
    mark() {
      since = [];
    },
  };
}

/** The exact answer Primus gives a refused request. */
function expectRefused(res: RawResponse): string {
  expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: JSON.stringify(REFUSAL) });
  expect(res.headers['content-type']).toBe('application/json');
  return 'refused: 401 {"error": …}';
}

async function expectUpgradeRefused(port: number, path: string): Promise<string> {
  const ws = await openWebSocket(port, path);
  ws.destroy();
  expect({ status: ws.status, body: ws.body }).toEqual({ status: 401, body: JSON.stringify(REFUSAL) });
  return 'refused: 401 {"error": …}';
}

/** An authorised Primus client connects, echoes, and its spark is the only one created. */
async function expectAuthorisedClient(g: Guarded, options: Record<string, unknown> = {}): Promise<string> {
  g.mark();
  const client = g.server.client({ ...options, query: ALLOWED } as never);
  await once(client, 'open');
  client.write({ hello: 'authorised' });
  expect((await once(client, 'data'))[0]).toEqual({ hello: 'authorised' });
  expect(g.created()).toHaveLength(1);
  return 'allowed (control): connects and echoes';
}

/** A Primus client without credentials never opens: it ends, and no spark is created. */
async function expectUnauthorisedClient(g: Guarded, options: Record<string, unknown> = {}): Promise<string> {
  g.mark();
  const client = g.server.client({ ...options, strategy: false } as never);
  let opened = false;
  client.on('open', () => (opened = true));
  await once(client, 'end', 20000);
  expect(opened).toBe(false);
  expect(g.created()).toEqual([]);
  return 'refused: the client ends without opening';
}

/** How to use an authorised session by hand on one polling framework. */
interface SessionPaths {
  framework: string;
  /** A request that sends `"message"` on the session. */
  send(vars: SessionVars, query: string, message: string): RawRequest;
  /** A request that receives what is queued for the session (answers at once when something is). */
  receive(vars: SessionVars, query: string): RawRequest;
}

const form = { 'Content-Type': 'application/x-www-form-urlencoded' };

const sessionPaths: Record<string, SessionPaths> = {
  'engine.io': {
    framework: 'engine.io',
    send: (v, q, m) => ({ method: 'POST', path: `/primus/?EIO=4&transport=polling&sid=${v.sid}&${q}`, body: `4${JSON.stringify(m)}` }),
    receive: (v, q) => ({ method: 'GET', path: `/primus/?EIO=4&transport=polling&sid=${v.sid}&${q}` }),
  },
  sockjs: {
    framework: 'sockjs',
    send: (v, q, m) => ({ method: 'POST', path: `/primus/000/${v.session}/xhr_send?${q}`, body: JSON.stringify([JSON.stringify(m)]) }),
    receive: (v, q) => ({ method: 'POST', path: `/primus/000/${v.session}/xhr?${q}` }),
  },
  browserchannel: {
    framework: 'browserchannel',
    send: (v, q, m) => ({ method: 'POST', path: `/primus/bind?VER=8&SID=${v.SID}&RID=1001&AID=0&a=${v.a}&${q}`, headers: form, body: `count=1&ofs=0&req0__S=${encodeURIComponent(JSON.stringify(m))}` }),
    receive: (v, q) => ({ method: 'GET', path: `/primus/bind?VER=8&SID=${v.SID}&RID=rpc&CI=1&AID=0&TYPE=xmlhttp&a=${v.a}&${q}` }),
  },
  'socket.io': {
    framework: 'socket.io',
    send: (v, q, m) => ({ method: 'POST', path: `/primus/1/xhr-polling/${v.sid}?${q}`, body: `3:::${JSON.stringify(m)}` }),
    receive: (v, q) => ({ method: 'GET', path: `/primus/1/xhr-polling/${v.sid}?${q}` }),
  },
};

/** An authorised session opened by hand, its spark, and what the spark heard. */
interface Victim {
  vars: SessionVars;
  spark: Spark;
  heard: unknown[];
}

async function openVictim(g: Guarded, name: string): Promise<Victim> {
  g.mark();
  const vars = await frameworks[name]!.open(g.server.port, 'default', `${ALLOWED}&ping=false`);
  await waitFor(() => g.created().length === 1, 10000, "the authorised session's spark");
  const spark = g.created()[0]!;
  g.mark();
  return { vars, spark, heard: g.heard.get(spark)! };
}

/**
 * The request without credentials is refused; then the authorised session, asked with them, gets
 * what was written to it meanwhile: nothing leaked to the refused request and nothing was lost.
 */
async function expectReceiveRefused(g: Guarded, name: string, victim: Victim): Promise<string> {
  const paths = sessionPaths[name]!;
  victim.spark.write(SECRET);
  const stolen = await rawRequest(g.server.port, paths.receive(victim.vars, 'ping=false'), 3000);
  const outcome = expectRefused(stolen);
  expect(stolen.body).not.toContain(SECRET);
  const rightful = await rawRequest(g.server.port, paths.receive(victim.vars, `${ALLOWED}&ping=false`), 5000);
  expect(rightful.body).toContain(JSON.stringify(SECRET).slice(1, -1));
  return outcome;
}

/** The send without credentials is refused and delivers nothing; the session carries on. */
async function expectSendRefused(g: Guarded, name: string, victim: Victim): Promise<string> {
  const paths = sessionPaths[name]!;
  const injected = await rawRequest(g.server.port, paths.send(victim.vars, 'ping=false', 'injected'));
  const outcome = expectRefused(injected);
  const genuine = await rawRequest(g.server.port, paths.send(victim.vars, `${ALLOWED}&ping=false`, 'genuine'));
  expect(genuine.status).toBeLessThan(300);
  await waitFor(() => victim.heard.length > 0, 5000, 'the genuine message');
  expect(victim.heard).toEqual(['genuine']);
  expect(g.server.primus.spark(victim.spark.id)).toBe(victim.spark);
  return outcome;
}

/** A new-session request without credentials is refused and creates no spark. */
async function expectOpenRefused(g: Guarded, req: RawRequest): Promise<string> {
  g.mark();
  const res = await rawRequest(g.server.port, req, 3000);
  const outcome = expectRefused(res);
  expect(g.created()).toEqual([]);
  return outcome;
}

/** One path of one transformer: a check that returns its outcome, or why the path does not exist. */
type PathCheck = [path: string, check: ((g: Guarded) => Promise<string>) | { na: string }];

/**
 * What Primus answers before its authorization layer, as happn-primus did: CORS preflights, the
 * client library and the spec. None of them reaches the transformer or carries session data.
 */
const public_: PathCheck[] = [
  [
    'CORS preflight (OPTIONS) under the pathname',
    async (g) => {
      g.mark();
      const res = await rawRequest(g.server.port, {
        method: 'OPTIONS',
        path: '/primus/anything',
        headers: { Origin: 'https://elsewhere.example', 'Access-Control-Request-Method': 'POST' },
      });
      expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: '' });
      expect(res.headers['access-control-allow-origin']).toBe('https://elsewhere.example');
      expect(g.created()).toEqual([]);
      return 'answered before authorization: 200 with CORS headers, empty body; reaches no transformer';
    },
  ],
  [
    'client library and spec',
    async (g) => {
      for (const path of ['/primus/primus.js', '/primus/spec']) expect((await rawRequest(g.server.port, { method: 'GET', path })).status).toBe(200);
      return 'public, served before authorization: 200 (no session data)';
    },
  ],
];

const noPolling: PathCheck[] = [
  ['polling handshake, GET and POST', { na: 'no HTTP transport: plain requests under the pathname get 426 once authorised' }],
  ["another client's session id", { na: 'no session ids: each WebSocket is a connection of its own' }],
];

function websocketOnly(): PathCheck[] {
  return [
    ['authorised client', (g) => expectAuthorisedClient(g)],
    ['Primus client without credentials', (g) => expectUnauthorisedClient(g)],
    ...public_,
    ['WebSocket upgrade', (g) => expectUpgradeRefused(g.server.port, '/primus/?_primuscb=x')],
    ['plain HTTP request under the pathname', (g) => expectOpenRefused(g, { method: 'GET', path: '/primus' })],
    ...noPolling,
  ];
}

/** Paths on a victim's session: refused sends and receives. */
function sessionChecks(name: string, extra: [string, (g: Guarded, victim: Victim) => Promise<string>][] = []): PathCheck[] {
  const withVictim = (check: (g: Guarded, victim: Victim) => Promise<string>) => async (g: Guarded) => check(g, await openVictim(g, name));
  return [
    ["polling GET with an authorised client's session id", withVictim((g, v) => expectReceiveRefused(g, name, v))],
    ["polling POST with an authorised client's session id", withVictim((g, v) => expectSendRefused(g, name, v))],
    ...extra.map(([path, check]) => [path, withVictim(check)] as PathCheck),
  ];
}

/**
 * The same requests, without credentials, through a second server of the same framework in the
 * same process that has no authorization hook: the framework must not share its sessions.
 */
function crossServer(name: string, expectForeign: (res: RawResponse) => string): PathCheck {
  return [
    'the session id through another Primus server in the same process (no authorization there)',
    async (g) => {
      const victim = await openVictim(g, name);
      const open = await guarded(frameworks[name]!.transformer, false);
      try {
        const paths = sessionPaths[name]!;
        const injected = await rawRequest(open.server.port, paths.send(victim.vars, 'ping=false', 'injected'));
        victim.spark.write(SECRET);
        const stolen = await rawRequest(open.server.port, paths.receive(victim.vars, 'ping=false'), 1500);
        expect(stolen.body).not.toContain(SECRET);
        const outcome = expectForeign(injected);
        const rightful = await rawRequest(g.server.port, paths.receive(victim.vars, `${ALLOWED}&ping=false`), 5000);
        expect(rightful.body).toContain(JSON.stringify(SECRET).slice(1, -1));
        expect(victim.heard).toEqual([]);
        expect(g.server.primus.spark(victim.spark.id)).toBe(victim.spark);
        return outcome;
      } finally {
        await open.server.close();
      }
    },
  ];
}

const transformers: [name: string, transformer: Transformer, checks: PathCheck[]][] = [
  ['websockets', websockets, websocketOnly()],
  ['faye', faye, websocketOnly()],
  ['lws', lws, websocketOnly()],
  [
    'engine.io',
    frameworks['engine.io']!.transformer,
    [
      ['authorised client', (g) => expectAuthorisedClient(g, { websockets: false })],
      ['Primus client without credentials', (g) => expectUnauthorisedClient(g)],
      ...public_,
      ['polling handshake', (g) => expectOpenRefused(g, { method: 'GET', path: '/primus/?EIO=4&transport=polling' })],
      ['polling handshake, protocol 3', (g) => expectOpenRefused(g, { method: 'GET', path: '/primus/?EIO=3&transport=polling&b64=1' })],
      ['WebSocket upgrade (new session)', (g) => expectUpgradeRefused(g.server.port, '/primus/?EIO=4&transport=websocket')],
      ...sessionChecks('engine.io', [
        [
          "WebSocket upgrade of an authorised client's session",
          async (g, v) => {
            const outcome = await expectUpgradeRefused(g.server.port, `/primus/?EIO=4&transport=websocket&sid=${v.vars.sid}`);
            expect(g.server.primus.spark(v.spark.id)).toBe(v.spark);
            return outcome;
          },
        ],
      ]),
      [
        'WebSocket upgrade with a fragment or a repeated transport key (hook that refuses upgrades only)',
        async () => {
          // The engine.io README's own example: refuse the upgrade and keep clients on polling. The
          // hook must judge the query engine.io acts on, which never includes a fragment.
          const server = await startServer({
            transformer: frameworks['engine.io']!.transformer,
            authorization: (req, done) => (req.query.transport === 'websocket' ? done(Object.assign(new Error('no WebSockets'), { statusCode: 403 })) : done()),
          });
          try {
            for (const path of ['/primus/?EIO=4&transport=websocket', '/primus/?EIO=4&transport=websocket#', '/primus/?EIO=4&transport=websocket#&x=1']) {
              const ws = await openWebSocket(server.port, path);
              ws.destroy();
              expect({ path, status: ws.status, body: ws.body }).toEqual({ path, status: 403, body: '{"error":"no WebSockets"}' });
            }
            // A repeated key: the hook sees both values, and engine.io (given the same query) refuses
            // the array instead of upgrading on the last value.
            const repeated = await openWebSocket(server.port, '/primus/?EIO=4&transport=polling&transport=websocket');
            repeated.destroy();
            expect({ status: repeated.status, body: repeated.body }).toEqual({ status: 400, body: 'Transport unknown' });
            expect(server.primus.connected).toBe(0);
            return 'refused: 403 from the hook, fragment or not; a repeated transport gets 400 Transport unknown';
          } finally {
            await server.close();
          }
        },
      ],
      crossServer('engine.io', (res) => {
        expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: '{"code":1,"message":"Session ID unknown"}' });
        return 'not reachable: 400 Session ID unknown (sessions are per server)';
      }),
    ],
  ],
  [
    'sockjs',
    frameworks.sockjs!.transformer,
    [
      ['authorised client', (g) => expectAuthorisedClient(g, { websockets: false })],
      ['Primus client without credentials', (g) => expectUnauthorisedClient(g, { transport: { timeout: 3000 } })],
      ...public_,
      ['info', (g) => expectOpenRefused(g, { method: 'GET', path: '/primus/info' })],
      ['iframe page', (g) => expectOpenRefused(g, { method: 'GET', path: '/primus/iframe.html' })],
      ['chunking test', (g) => expectOpenRefused(g, { method: 'POST', path: '/primus/chunking_test' })],
      ['xhr polling (new session)', (g) => expectOpenRefused(g, { method: 'POST', path: '/primus/000/newsess1/xhr' })],
      ['xhr-streaming (new session)', (g) => expectOpenRefused(g, { method: 'POST', path: '/primus/000/newsess2/xhr_streaming' })],
      ['eventsource (new session)', (g) => expectOpenRefused(g, { method: 'GET', path: '/primus/000/newsess3/eventsource' })],
      ['htmlfile (new session)', (g) => expectOpenRefused(g, { method: 'GET', path: '/primus/000/newsess4/htmlfile?c=cb' })],
      ['jsonp (new session)', (g) => expectOpenRefused(g, { method: 'GET', path: '/primus/000/newsess5/jsonp?c=cb' })],
      ['WebSocket upgrade (session URL)', (g) => expectUpgradeRefused(g.server.port, '/primus/000/newsess6/websocket')],
      ['raw WebSocket upgrade', (g) => expectUpgradeRefused(g.server.port, '/primus/websocket')],
      ...sessionChecks('sockjs', [
        ...(['xhr_streaming', 'eventsource', 'htmlfile?c=cb', 'jsonp?c=cb'] as const).map(
          (transport) =>
            [
              `${transport.split('?')[0]} with an authorised client's session id`,
              async (g: Guarded, v: Victim) => {
                v.spark.write(SECRET);
                const [path, search = ''] = transport.split('?');
                const method = path === 'xhr_streaming' ? 'POST' : 'GET';
                const stolen = await rawRequest(g.server.port, { method, path: `/primus/000/${v.vars.session}/${path}?${search}` }, 3000);
                const outcome = expectRefused(stolen);
                const rightful = await rawRequest(g.server.port, sessionPaths.sockjs!.receive(v.vars, `${ALLOWED}&ping=false`), 5000);
                expect(rightful.body).toContain(JSON.stringify(SECRET).slice(1, -1));
                return outcome;
              },
            ] as [string, (g: Guarded, victim: Victim) => Promise<string>],
        ),
        [
          "jsonp_send with an authorised client's session id",
          async (g, v) => {
            const outcome = expectRefused(
              await rawRequest(g.server.port, { method: 'POST', path: `/primus/000/${v.vars.session}/jsonp_send`, headers: form, body: `d=${encodeURIComponent(JSON.stringify(['"injected"']))}` }),
            );
            expect(v.heard).toEqual([]);
            return outcome;
          },
        ],
      ]),
      [
        'send whose path is written with backslashes (hook that refuses sends by path)',
        async () => {
          // sockjs reads backslashes in a path as slashes; the hook must see the path that way too.
          const server = await startServer({
            transformer: frameworks.sockjs!.transformer,
            authorization: (req, done) => (req.uri.pathname.endsWith('/xhr_send') ? done(Object.assign(new Error('read only'), { statusCode: 403 })) : done()),
          });
          try {
            const heard: unknown[] = [];
            server.primus.on('connection', (spark: Spark) => spark.on('data', (data: unknown) => heard.push(data)));
            const { session } = await frameworks.sockjs!.open(server.port, 'default', 'ping=false');
            await waitFor(() => server.primus.connected === 1, 5000, 'the session');
            for (const path of [`/primus/000/${session}/xhr_send`, `/primus\\000\\${session}\\xhr_send`]) {
              const res = await rawRequest(server.port, { method: 'POST', path, body: '["\\"sneaked in\\""]' });
              expect({ path, status: res.status, body: res.body }).toEqual({ path, status: 403, body: '{"error":"read only"}' });
            }
            expect(heard).toEqual([]);
            return 'refused: 403 from the hook, backslashes or not';
          } finally {
            await server.close();
          }
        },
      ],
      crossServer('sockjs', (res) => {
        expect({ status: res.status, body: res.body }).toEqual({ status: 404, body: '404 Error: Page not found\n' });
        return 'not reachable: 404 (session ids are namespaced per server)';
      }),
    ],
  ],
  [
    'browserchannel',
    frameworks.browserchannel!.transformer,
    [
      ['authorised client', (g) => expectAuthorisedClient(g)],
      ['Primus client without credentials', (g) => expectUnauthorisedClient(g)],
      ...public_,
      ['test request (init)', (g) => expectOpenRefused(g, { method: 'GET', path: '/primus/test?VER=8&MODE=init' })],
      ['test request (buffering proxy)', (g) => expectOpenRefused(g, { method: 'GET', path: '/primus/test?VER=8&TYPE=xmlhttp' })],
      ['bind (new session)', (g) => expectOpenRefused(g, { method: 'POST', path: '/primus/bind?VER=8&RID=1000&a=x', headers: form, body: 'count=0' })],
      ...sessionChecks('browserchannel', [
        [
          "terminate with an authorised client's session id",
          async (g, v) => {
            const outcome = expectRefused(await rawRequest(g.server.port, { method: 'GET', path: `/primus/bind?VER=8&SID=${v.vars.SID}&RID=1001&TYPE=terminate&a=${v.vars.a}` }));
            expect(g.server.primus.spark(v.spark.id)).toBe(v.spark);
            return outcome;
          },
        ],
      ]),
      crossServer('browserchannel', (res) => {
        expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: '<html><body><h1>Unknown SID</h1></body></html>' });
        return 'not reachable: 400 Unknown SID (sessions are per server)';
      }),
    ],
  ],
  [
    'socket.io',
    frameworks['socket.io']!.transformer,
    [
      ['authorised client', (g) => expectAuthorisedClient(g, { websockets: false })],
      ['Primus client without credentials', (g) => expectUnauthorisedClient(g)],
      ...public_,
      ['handshake', (g) => expectOpenRefused(g, { method: 'GET', path: '/primus/1/' })],
      ...sessionChecks('socket.io', [
        [
          "WebSocket upgrade with an authorised client's session id",
          async (g, v) => {
            const outcome = await expectUpgradeRefused(g.server.port, `/primus/1/websocket/${v.vars.sid}`);
            expect(g.server.primus.spark(v.spark.id)).toBe(v.spark);
            return outcome;
          },
        ],
        [
          "disconnect request with an authorised client's session id",
          async (g, v) => {
            // With a poll waiting, socket.io would end the session at once.
            const waiting = rawRequest(g.server.port, sessionPaths['socket.io']!.receive(v.vars, `${ALLOWED}&ping=false`), 3000);
            await waitFor(() => (g.server.primus.spark(v.spark.id)?.socket as unknown as { socket?: { manager?: { transports?: Record<string, { open?: boolean }> } } })?.socket?.manager?.transports?.[v.vars.sid!]?.open, 5000, 'the waiting poll');
            const outcome = expectRefused(await rawRequest(g.server.port, { method: 'GET', path: `/primus/1/xhr-polling/${v.vars.sid}?disconnect=1` }));
            v.spark.write('still here');
            expect((await waiting).body).toContain('still here');
            expect(g.server.primus.spark(v.spark.id)).toBe(v.spark);
            return outcome;
          },
        ],
      ]),
      crossServer('socket.io', (res) => {
        expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: '1' });
        return 'not reachable: answered 200 "1", nothing delivered (transports registry per server)';
      }),
      [
        "disconnect request through another Primus server in the same process",
        async (g) => {
          const victim = await openVictim(g, 'socket.io');
          const open = await guarded(frameworks['socket.io']!.transformer, false);
          try {
            const waiting = rawRequest(g.server.port, sessionPaths['socket.io']!.receive(victim.vars, `${ALLOWED}&ping=false`), 3000);
            await waitFor(() => (victim.spark.socket as unknown as { socket?: { manager?: { transports?: Record<string, { open?: boolean }> } } })?.socket?.manager?.transports?.[victim.vars.sid!]?.open, 5000, 'the waiting poll');
            const res = await rawRequest(open.server.port, { method: 'GET', path: `/primus/1/xhr-polling/${victim.vars.sid}?disconnect=1` });
            expect(res.status).toBe(200);
            victim.spark.write('still here');
            expect((await waiting).body).toContain('still here');
            expect(g.server.primus.spark(victim.spark.id)).toBe(victim.spark);
            return 'not reachable: 200, the session is not ended (transports registry per server)';
          } finally {
            await open.server.close();
          }
        },
      ],
    ],
  ],
];

describe.each(transformers)('authorization: %s', (name, transformer, checks) => {
  let g: Guarded;

  beforeAll(async () => {
    g = await guarded(transformer);
  }, TIMEOUT);

  afterAll(async () => {
    await g?.server.close();
  }, TIMEOUT);

  afterEach(() => {
    // Sessions a check opened by hand are not needed by the next one.
    g.server.primus.forEach((spark) => void spark.end());
  });

  const runnable = checks.filter((entry): entry is [string, (g: Guarded) => Promise<string>] => typeof entry[1] === 'function');
  for (const [path, reason] of checks.filter(([, check]) => typeof check !== 'function')) {
    matrix.push({ transformer: name, path, outcome: `n/a: ${(reason as { na: string }).na}` });
  }

  it.each(runnable)('%s', async (path, check) => {
    try {
      matrix.push({ transformer: name, path, outcome: await check(g) });
    } catch (err) {
      matrix.push({ transformer: name, path, outcome: `FAILED: ${String((err as Error)?.message ?? err).split('\n')[0]}` });
      throw err;
    }
  }, TIMEOUT);
});
