import Faye from 'faye-websocket';
import { afterEach, describe, expect, it } from '@jest/globals';
import { once, waitFor } from '@primus/transformer-test-suite';
import { HappnSocket, OurSocket, startHappn, startOurs, type AnyClient, type AnyClientClass, type AnyServer, type AnySpark, type ServerOptions } from './happn';

// Wire compatibility with happn-primus 6.0.1's faye transformer: its client against our server,
// our client against its server, and both servers compared frame by frame.

const TIMEOUT = 20000;
const OPEN = 3;
const CLOSED = 2;

/** Values whose encoding must survive both implementations unchanged. */
const samples: unknown[] = [
  { nested: { list: [1, 'two', { three: [3.5, null] }], yes: true }, none: null },
  'line\u2028paragraph\u2029end',
  'astral 😀 𝌆 \u{1F680}',
  'pongРУССКИЙ €€€ 中文',
  0,
];

/** The JSON text happn-primus puts on the wire: U+2028/U+2029 escaped after encoding. */
const wire = (value: unknown): string => JSON.stringify(value).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function nextSpark(server: AnyServer): Promise<AnySpark> {
  return once<[AnySpark]>(server.primus, 'connection').then(([spark]) => spark);
}

function counter(emitter: AnyClient | AnySpark | AnyServer['primus'], ...events: string[]): Record<string, unknown[][]> {
  const seen: Record<string, unknown[][]> = {};
  for (const event of events) {
    seen[event] = [];
    emitter.on(event, (...args: unknown[]) => seen[event]!.push(args));
  }
  return seen;
}

const pairings: { name: string; start(options?: ServerOptions): Promise<AnyServer>; Client: AnyClientClass }[] = [
  { name: 'happn-primus client -> our server', start: startOurs, Client: HappnSocket },
  { name: 'our client -> happn-primus server', start: startHappn, Client: OurSocket },
];

describe.each(pairings)('$name', ({ start, Client }) => {
  async function server(options: ServerOptions = {}): Promise<AnyServer> {
    const started = await start(options);
    cleanups.push(() => started.close());
    return started;
  }

  function connect(target: AnyServer, options: Record<string, unknown> = {}): AnyClient {
    const client = new Client(target.url, options);
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

  it('keeps the heartbeat going for several rounds with a short ping', async () => {
    const target = await server({ pongSkipTime: 20 });
    const skipped = counter(target.primus, 'heartbeat-skipped', 'flatline');
    const sparkP = nextSpark(target);
    const client = connect(target, { ping: 100, pong: 2000 });
    const events = counter(client, 'outgoing::ping', 'incoming::pong', 'close', 'reconnect scheduled');
    const spark = await sparkP;
    expect(spark.query).toMatchObject({ ping: 100, pong: 2000 });

    await waitFor(() => events['incoming::pong']!.length >= 5, 5000, 'five pongs');
    const pings = events['outgoing::ping']!.map(([time]) => time);
    for (const [time] of events['incoming::pong']!) expect(pings).toContain(time);
    expect(skipped['heartbeat-skipped']).toEqual([]);
    expect(skipped.flatline).toEqual([]);
    expect(events.close).toEqual([]);
    expect(events['reconnect scheduled']).toEqual([]);
    expect(client.readyState).toBe(OPEN);
    expect(client.latency).toBeGreaterThanOrEqual(0);
  }, TIMEOUT);

  it("gives the client the server's spark id", async () => {
    const target = await server();
    const sparkP = nextSpark(target);
    const client = connect(target);
    await once(client, 'open');
    const id = await new Promise<string>((resolve) => client.id(resolve));
    expect(id).toBe((await sparkP).id);
    expect(id.length).toBeGreaterThan(0);
  }, TIMEOUT);

  it('reconnects the client on spark.end(undefined, { reconnect: true }), and ends it for good on spark.end()', async () => {
    const target = await server();
    const first = nextSpark(target);
    const client = connect(target, { reconnect: { min: 20, max: 50 } });
    await once(client, 'open');
    const second = nextSpark(target);
    const reopened = once(client, 'reconnected');
    (await first).end(undefined, { reconnect: true });
    await reopened;

    const events = counter(client, 'incoming::data', 'reconnect scheduled');
    const ended = once(client, 'end');
    (await second).end();
    await ended;
    expect(events['incoming::data']).toEqual([['"primus::server::close"']]);
    expect(events['reconnect scheduled']).toEqual([]);
    expect(client.readyState).toBe(CLOSED);
  }, TIMEOUT);

  it('passes options.transport to faye-websocket: custom headers reach spark.headers', async () => {
    const target = await server();
    const sparkP = nextSpark(target);
    connect(target, { transport: { headers: { 'x-custom': 'both ways' } } });
    const spark = await sparkP;
    expect(spark.headers['x-custom']).toBe('both ways');
    expect(spark.address.ip).toBe('127.0.0.1');
  }, TIMEOUT);
});

describe('the same frames on the wire', () => {
  /** Talk to a server through a bare faye-websocket Client and record every frame it sends. */
  async function serverFrames(start: () => Promise<AnyServer>): Promise<{ frames: string[]; id: string; code: number }> {
    const target = await start();
    cleanups.push(() => target.close());
    const sparkP = nextSpark(target);
    const socket = new Faye.Client(`${target.url.replace('http:', 'ws:')}/primus?_primuscb=Q8Nog6x&ping=60000&pong=10000`);
    cleanups.push(() => socket.close());
    const frames: string[] = [];
    socket.on('message', (event: Faye.MessageEvent) => frames.push(typeof event.data === 'string' ? event.data : '<binary>'));
    await once(socket, 'open');
    const spark = await sparkP;
    for (const sample of samples) spark.write(sample);
    await waitFor(() => frames.length === samples.length, 5000, 'the samples');
    socket.send('"primus::ping::1496913600000"');
    await waitFor(() => frames.length === samples.length + 1, 5000, 'the pong');
    socket.send('"primus::id::"');
    await waitFor(() => frames.length === samples.length + 2, 5000, 'the id');
    const closed = once<[Faye.CloseEvent]>(socket, 'close');
    spark.end();
    const [{ code }] = await closed;
    return { frames, id: spark.id, code };
  }

  it('both servers send identical frames for data, pong, id and server close, then close with 1000', async () => {
    const happn = await serverFrames(startHappn);
    const ours = await serverFrames(startOurs);
    const expected = [...samples.map(wire), '"primus::pong::1496913600000"', expect.any(String), '"primus::server::close"'];
    expect(happn.frames).toEqual(expected);
    expect(ours.frames).toEqual(expected);
    expect(happn.frames[samples.length + 1]).toBe(JSON.stringify(`primus::id::${happn.id}`));
    expect(ours.frames[samples.length + 1]).toBe(JSON.stringify(`primus::id::${ours.id}`));
    expect(happn.code).toBe(1000);
    expect(ours.code).toBe(1000);
  }, TIMEOUT);
});
