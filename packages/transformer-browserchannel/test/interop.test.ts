import { afterEach, describe, expect, it } from '@jest/globals';
import { once, waitFor } from '@primus/transformer-test-suite';
import { HappnSocket, OurSocket, startHappn, startOurs, type AnyClient, type AnyClientClass, type AnyServer, type AnySpark, type ServerOptions } from './happn';

// Wire compatibility with happn-primus 6.0.1's browserchannel transformer: its client (browserchannel
// 2.0's Node BCSocket) against our server, and our client against its server (browserchannel 2.0's
// middleware).

const TIMEOUT = 20000;
const OPEN = 3;
const CLOSED = 2;

/** Values whose encoding must survive both implementations unchanged. */
const samples: unknown[] = [
  { nested: { list: [1, 'two', { three: [3.5, null] }], yes: true }, none: null },
  'line\u2028paragraph\u2029end',
  'astral 😀 𝌆 \u{1F680}',
  'pongРУССКИЙ €€€ 中文',
  'quotes " and \\ backslashes & = ? + %',
  0,
];

/** The JSON text happn-primus puts in a message: U+2028/U+2029 escaped after encoding. */
const wire = (value: unknown): string => JSON.stringify(value).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function nextSpark(server: AnyServer): Promise<AnySpark> {
  return once<[AnySpark]>(server.primus, 'connection').then(([spark]) => spark);
}

function record(emitter: AnyClient | AnySpark | AnyServer['primus'], ...events: string[]): Record<string, unknown[][]> {
  const seen: Record<string, unknown[][]> = {};
  for (const event of events) {
    seen[event] = [];
    emitter.on(event, (...args: unknown[]) => seen[event]!.push(args));
  }
  return seen;
}

interface Pairing {
  name: string;
  start(options?: ServerOptions): Promise<AnyServer>;
  Client: AnyClientClass;
  /**
   * The ping the spark learns from a client asking for 100 ms. happn-primus's client sends no
   * ping/pong with BrowserChannel, so the server falls back to 25000; ours sends them.
   */
  learnedPing: number;
}

const pairings: Pairing[] = [
  { name: 'happn-primus client -> our server', start: startOurs, Client: HappnSocket, learnedPing: 25000 },
  { name: 'our client -> happn-primus server', start: startHappn, Client: OurSocket, learnedPing: 100 },
];

describe.each(pairings)('$name', ({ start, Client, learnedPing }) => {
  async function server(options: ServerOptions = {}): Promise<AnyServer> {
    const started = await start(options);
    cleanups.push(() => started.close());
    return started;
  }

  function connect(target: AnyServer, options: Record<string, unknown> = {}, query = ''): AnyClient {
    const client = new Client(target.url + (query ? `/?${query}` : ''), options);
    // happn-primus's Node client is a Node stream: an unheard `error` would throw.
    client.on('error', () => {});
    cleanups.push(() => client.destroy());
    return client;
  }

  it('echoes objects and unicode, escaped identically in both directions', async () => {
    const target = await server();
    const received: unknown[] = [];
    target.primus.on('connection', (spark: AnySpark) =>
      spark.on('data', (data: unknown, raw: unknown) => {
        received.push(raw);
        spark.write(data);
      }),
    );
    const client = connect(target);
    await once(client, 'open');
    const echoed: [unknown, unknown][] = [];
    client.on('data', (data: unknown, raw: unknown) => echoed.push([data, raw]));
    for (const sample of samples) client.write(sample);
    await waitFor(() => echoed.length === samples.length, 5000, 'every echo');

    expect(echoed.map(([data]) => data)).toEqual(samples);
    expect(echoed.map(([, raw]) => raw)).toEqual(samples.map(wire));
    expect(received).toEqual(samples.map(wire));
  }, TIMEOUT);

  it('carries the query to the spark, and keeps the heartbeat going with a short ping', async () => {
    const target = await server({ pongSkipTime: 20 });
    const skipped = record(target.primus, 'heartbeat-skipped', 'flatline');
    const sparkP = nextSpark(target);
    const client = connect(target, { ping: 100, pong: 2000 }, 'room=lobby&n=1');
    const events = record(client, 'outgoing::ping', 'incoming::pong', 'close', 'reconnect scheduled');
    const spark = await sparkP;
    expect(spark.query).toMatchObject({ room: 'lobby', n: '1', ping: learnedPing });

    await waitFor(() => events['incoming::pong']!.length >= 5, 5000, 'five pongs');
    const pings = events['outgoing::ping']!.map(([time]) => time);
    for (const [time] of events['incoming::pong']!) expect(pings).toContain(time);
    expect(skipped['heartbeat-skipped']).toEqual([]);
    expect(skipped.flatline).toEqual([]);
    expect(events.close).toEqual([]);
    expect(events['reconnect scheduled']).toEqual([]);
    expect(client.readyState).toBe(OPEN);
  }, TIMEOUT);

  it("gives the client the server's spark id, BrowserChannel's session id", async () => {
    const target = await server();
    const sparkP = nextSpark(target);
    const client = connect(target);
    await once(client, 'open');
    const id = await new Promise<string>((resolve) => client.id(resolve));
    expect(id).toBe((await sparkP).id);
    expect(id).toMatch(/^[0-9a-z]{1,8}$/);
  }, TIMEOUT);

  it('ends the client for good on spark.end(), and reconnects it on { reconnect: true }', async () => {
    const target = await server();
    const first = nextSpark(target);
    const client = connect(target, { reconnect: { min: 20, max: 50 } });
    await once(client, 'open');
    const second = nextSpark(target);
    const reopened = once(client, 'reconnected');
    (await first).end(undefined, { reconnect: true });
    await reopened;

    const events = record(client, 'incoming::data', 'reconnect scheduled');
    const ended = once(client, 'end');
    (await second).end('bye');
    await ended;
    expect(events['incoming::data']).toEqual([['"bye"'], ['"primus::server::close"']]);
    expect(events['reconnect scheduled']).toEqual([]);
    expect(client.readyState).toBe(CLOSED);
  }, TIMEOUT);

  it('ends the spark at once when the client ends, through an authorized terminate request', async () => {
    const seen: string[] = [];
    const target = await server({
      authorization(req, done) {
        const url = new URL(req.url ?? '/', 'http://localhost');
        seen.push(`${req.method} ${url.pathname} ${url.searchParams.get('TYPE') ?? url.searchParams.get('MODE') ?? ''}`.trim());
        done(url.searchParams.get('token') === 'secret' ? undefined : Object.assign(new Error('nope'), { statusCode: 403 }));
      },
    });
    const sparkP = nextSpark(target);
    const client = connect(target, {}, 'token=secret');
    await once(client, 'open');
    const spark = await sparkP;
    await waitFor(() => seen.includes('GET /primus/bind xmlhttp'), 5000, 'the back channel');
    const ended = once(spark, 'end', 5000);
    client.end();
    await ended;
    expect(new Set(seen)).toEqual(new Set(['GET /primus/test init', 'GET /primus/test xmlhttp', 'POST /primus/bind', 'GET /primus/bind xmlhttp', 'GET /primus/bind terminate']));
  }, TIMEOUT);
});
