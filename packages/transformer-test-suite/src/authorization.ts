import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { PrimusRequest, Spark, Transformer } from '@primus/core';
import { notSupported, report } from './capability';
import type { Framework, SessionVars } from './framework-input';
import { once, startServer, waitFor, type TestServer } from './harness';
import { openWebSocket, rawRequest, type RawRequest, type RawResponse } from './wire';

// Authorization runs for every HTTP request and upgrade under the pathname, whatever the
// transformer: a client the hook refuses can neither open a session nor use someone else's, on any
// path the transformer exposes. For each path the suite sends the request without credentials
// (with a live, authorised session's ids where the path takes one) and checks the refusal, that no
// spark was created, that nothing reached the application and that nothing queued for the
// authorised session leaked or went missing. Transformers with sessions also get the same requests
// through a second Primus server of the same framework, in the same process, that has no
// authorization: their sessions must not be reachable from there.

const SECRET = 'for the authorised client only';
const REFUSAL = { error: 'credentials required' };
/** The query that the suite's authorization hook accepts. */
export const AUTHORISED = 'token=good';

/** One row of the matrix. */
interface MatrixRow {
  path: string;
  outcome: string;
}

function authorize(req: PrimusRequest, done: (err?: Error) => void): void {
  if (req.query.token === 'good') done();
  else done(new Error(REFUSAL.error));
}

/** A server with the suite's authorization hook, echoing and recording what each spark hears. */
export interface Guarded {
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
export function expectRefused(res: RawResponse): string {
  expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: JSON.stringify(REFUSAL) });
  expect(res.headers['content-type']).toBe('application/json');
  return 'refused: 401 {"error": …}';
}

/** An upgrade on `path` without credentials is refused with 401. */
export async function expectUpgradeRefused(port: number, path: string): Promise<string> {
  const ws = await openWebSocket(port, path);
  ws.destroy();
  expect({ status: ws.status, body: ws.body }).toEqual({ status: 401, body: JSON.stringify(REFUSAL) });
  return 'refused: 401 {"error": …}';
}

/** An authorised Primus client connects, echoes, and its spark is the only one created. */
async function expectAuthorisedClient(g: Guarded, options: Record<string, unknown> = {}): Promise<string> {
  g.mark();
  const client = g.server.client({ ...options, query: AUTHORISED } as never);
  await once(client, 'open');
  client.write({ hello: 'authorised' });
  expect((await once(client, 'data'))[0]).toEqual({ hello: 'authorised' });
  expect(g.created()).toHaveLength(1);
  return 'allowed (control): connects and echoes';
}

/** A Primus client without credentials never opens: it ends, and no spark is created. */
async function expectUnauthorisedClient(g: Guarded, options: Record<string, unknown> = {}): Promise<string> {
  g.mark();
  const client = g.server.client({ ...options, strategy: false } as never, { errors: 'expected' });
  let opened = false;
  client.on('open', () => (opened = true));
  await once(client, 'end', 20000);
  expect(opened).toBe(false);
  expect(g.created()).toEqual([]);
  return 'refused: the client ends without opening';
}

/** A request without credentials that would open a session is refused and creates no spark. */
export async function expectOpenRefused(g: Guarded, req: RawRequest): Promise<string> {
  g.mark();
  const res = await rawRequest(g.server.port, req, 3000);
  const outcome = expectRefused(res);
  expect(g.created()).toEqual([]);
  return outcome;
}

/** How to use an authorised session by hand, for transformers with sessions (polling). */
export interface SessionAccess {
  /** How to open a session by hand (`open`); the same description the framework-input suite takes. */
  framework: Framework;
  /** A request that sends the Primus message `message` on the session. */
  send(vars: SessionVars, query: string, message: string): RawRequest;
  /** A request that receives what is queued for the session (answered at once when something is). */
  receive(vars: SessionVars, query: string): RawRequest;
  /**
   * What a second Primus server of the same framework in the same process, without authorization,
   * answers to `send` with this session's ids; assert it and return the outcome in a few words.
   * The suite also checks that nothing leaks through it and nothing reaches the session.
   */
  foreign(res: RawResponse): string;
}

/** An authorised session opened by hand, its spark, and what the spark heard. */
export interface Victim {
  vars: SessionVars;
  spark: Spark;
  heard: unknown[];
}

/** A check of one path: returns its outcome in a few words for the matrix. */
export type PathCheck = (g: Guarded) => Promise<string>;
/** A check of one path that takes an authorised session's ids. */
export type SessionCheck = (g: Guarded, victim: Victim) => Promise<string>;

/** What the authorization suite needs to know about a transformer. */
export interface AuthorizationCapabilities {
  /**
   * The transformer has HTTP transports with sessions (long-polling, streaming): `sessions` must
   * say how to use one by hand. Without it the suite checks that a plain request under the
   * pathname reaches no transport (426 Upgrade Required once authorised). @default false
   */
  polling?: boolean;
}

/** Options of the authorization suite. */
export interface AuthorizationSuiteOptions {
  transformer: Transformer;
  capabilities?: AuthorizationCapabilities;
  /** Options of the Primus clients the suite connects (e.g. `{ websockets: false }`). */
  client?: Record<string, unknown>;
  /** Options of the client without credentials, where it needs its own. @default client */
  unauthorisedClient?: Record<string, unknown>;
  /** Requests without credentials that would open a session or reach a transport, by name. */
  requests?: Record<string, RawRequest>;
  /** Upgrade paths (with query) without credentials, by name. @default { 'WebSocket upgrade': '/primus/?_primuscb=x' } unless `polling` */
  upgrades?: Record<string, string>;
  /** Required with `polling`: how to use an authorised session by hand. */
  sessions?: SessionAccess;
  /** More requests that carry an authorised session's ids, by name (streaming transports, terminate, ...). */
  sessionChecks?: Record<string, SessionCheck>;
  /** Checks of your own, by name, against the suite's guarded server. */
  checks?: Record<string, PathCheck>;
  /** Per-test timeout in ms. @default 30000 */
  timeout?: number;
}

/**
 * Authorization on every request path: the transformer's own handshake, transport and upgrade
 * requests without credentials are refused with the hook's 401 before they create a spark, a
 * session's ids do not let a request without credentials send or receive on it, and the public
 * paths (`primus.js`, `spec`, CORS preflights) stay public.
 * `RELIABILITY_REPORT_AUTH=<file>` writes the matrix (path -> outcome) as JSON.
 */
export function authorizationSuite(options: AuthorizationSuiteOptions): void {
  const { transformer } = options;
  const name = transformer.name;
  const polling = options.capabilities?.polling ?? false;
  const TIMEOUT = options.timeout ?? 30_000;
  if (polling && !options.sessions) throw new Error(`authorizationSuite(${name}): capability polling needs the sessions option`);
  const matrix: MatrixRow[] = [];
  afterAll(() => report('RELIABILITY_REPORT_AUTH', `authorization: ${name}`, matrix));

  const checks: [string, PathCheck][] = [
    ['authorised client', (g) => expectAuthorisedClient(g, options.client)],
    ['Primus client without credentials', (g) => expectUnauthorisedClient(g, options.unauthorisedClient ?? options.client)],
    [
      'CORS preflight (OPTIONS) under the pathname',
      async (g) => {
        // What Primus answers before its authorization layer, as happn-primus did. It reaches no
        // transformer and carries no session data.
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
    ['plain HTTP request under the pathname', (g) => expectOpenRefused(g, { method: 'GET', path: '/primus' })],
  ];
  for (const [path, req] of Object.entries(options.requests ?? {})) checks.push([path, (g) => expectOpenRefused(g, req)]);
  const upgrades = options.upgrades ?? (polling ? {} : { 'WebSocket upgrade': '/primus/?_primuscb=x' });
  for (const [path, target] of Object.entries(upgrades)) checks.push([path, (g) => expectUpgradeRefused(g.server.port, target)]);

  const sessions = options.sessions;
  if (sessions) {
    const openVictim = async (g: Guarded): Promise<Victim> => {
      g.mark();
      const vars = await sessions.framework.open(g.server.port, 'default', `${AUTHORISED}&ping=false`);
      await waitFor(() => g.created().length === 1, 10000, "the authorised session's spark");
      const spark = g.created()[0]!;
      g.mark();
      return { vars, spark, heard: g.heard.get(spark)! };
    };
    const withVictim =
      (check: SessionCheck): PathCheck =>
      async (g) =>
        check(g, await openVictim(g));
    checks.push(
      [
        "polling GET with an authorised client's session id",
        withVictim(async (g, victim) => {
          // Refused, and the authorised session, asked with credentials, still gets what was written
          // to it meanwhile: nothing leaked to the refused request and nothing was lost.
          victim.spark.write(SECRET);
          const stolen = await rawRequest(g.server.port, sessions.receive(victim.vars, 'ping=false'), 3000);
          const outcome = expectRefused(stolen);
          expect(stolen.body).not.toContain(SECRET);
          const rightful = await rawRequest(g.server.port, sessions.receive(victim.vars, `${AUTHORISED}&ping=false`), 5000);
          expect(rightful.body).toContain(JSON.stringify(SECRET).slice(1, -1));
          return outcome;
        }),
      ],
      [
        "polling POST with an authorised client's session id",
        withVictim(async (g, victim) => {
          // Refused and delivers nothing; the session carries on.
          const injected = await rawRequest(g.server.port, sessions.send(victim.vars, 'ping=false', 'injected'));
          const outcome = expectRefused(injected);
          const genuine = await rawRequest(g.server.port, sessions.send(victim.vars, `${AUTHORISED}&ping=false`, 'genuine'));
          expect(genuine.status).toBeLessThan(300);
          await waitFor(() => victim.heard.length > 0, 5000, 'the genuine message');
          expect(victim.heard).toEqual(['genuine']);
          expect(g.server.primus.spark(victim.spark.id)).toBe(victim.spark);
          return outcome;
        }),
      ],
      ...Object.entries(options.sessionChecks ?? {}).map(([path, check]) => [path, withVictim(check)] as [string, PathCheck]),
      [
        'the session id through another Primus server in the same process (no authorization there)',
        async (g) => {
          const victim = await openVictim(g);
          const open = await guarded(transformer, false);
          try {
            const injected = await rawRequest(open.server.port, sessions.send(victim.vars, 'ping=false', 'injected'));
            victim.spark.write(SECRET);
            const stolen = await rawRequest(open.server.port, sessions.receive(victim.vars, 'ping=false'), 1500);
            expect(stolen.body).not.toContain(SECRET);
            const outcome = sessions.foreign(injected);
            const rightful = await rawRequest(g.server.port, sessions.receive(victim.vars, `${AUTHORISED}&ping=false`), 5000);
            expect(rightful.body).toContain(JSON.stringify(SECRET).slice(1, -1));
            expect(victim.heard).toEqual([]);
            expect(g.server.primus.spark(victim.spark.id)).toBe(victim.spark);
            return outcome;
          } finally {
            await open.server.close();
          }
        },
      ],
    );
  }
  for (const [path, check] of Object.entries(options.checks ?? {})) checks.push([path, check]);

  describe(`authorization: ${name}`, () => {
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

    it.each(checks)(
      '%s',
      async (path, check) => {
        try {
          matrix.push({ path, outcome: await check(g) });
        } catch (err) {
          matrix.push({ path, outcome: `FAILED: ${String((err as Error)?.message ?? err).split('\n')[0]}` });
          throw err;
        }
      },
      TIMEOUT,
    );

    if (!polling) {
      notSupported(
        'session paths (polling handshake, GET and POST, session ids)',
        name,
        'polling',
        false,
        async () => {
          // No HTTP transport: an authorised plain request under the pathname reaches none.
          const res = await rawRequest(g.server.port, { method: 'GET', path: `/primus?${AUTHORISED}` });
          expect(res.status).toBe(426);
          expect(g.created()).toEqual([]);
          matrix.push({
            path: 'polling handshake, GET and POST; session ids',
            outcome: 'n/a: no HTTP transport, plain requests get 426 once authorised; each WebSocket is a connection of its own',
          });
        },
        TIMEOUT,
      );
    }
  });
}
