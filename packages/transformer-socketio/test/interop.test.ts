import { afterEach, describe, expect, it } from '@jest/globals';
import { once, waitFor } from '@primus/transformer-test-suite';
import {
  HappnSocket,
  OurSocket,
  pinHappnClient,
  startHappn,
  startOurs,
  type AnyClient,
  type AnyClientClass,
  type AnyServer,
  type AnySpark,
  type ServerOptions,
} from './happn';

// Wire compatibility with happn-primus 6.0.1's socket.io transformer: its client against our
// server, and our client against its server, over a WebSocket and over XHR long-polling. Both
// sides run the same socket.io 0.9 and primus-socket.io-client 2.0 code; what is checked is the
// Primus layer on top (messages, heartbeat, ids, ending) and how each side drives socket.io.

const TIMEOUT = 20000;
const OPEN = 3;
const CLOSED = 2;

/** Values whose encoding must survive both implementations unchanged. */
const samples: unknown[] = [
  { nested: { list: [1, 'two', { three: [3.5, null] }], yes: true }, none: null },
  'line\u2028paragraph\u2029end',
  'astral 😀 𝌆 \u{1F680}',
  'pongРУССКИЙ €€€ 中文',
  'quotes " and \\ backslashes, and a socket.io-looking 3::: prefix',
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

function counter(emitter: AnyClient | AnySpark | AnyServer['primus'], ...events: string[]): Record<string, unknown[][]> {
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
  /** Client options that keep the client on one socket.io transport. */
  pin(transport: string): Record<string, unknown>;
  /**
   * The server drops what a spark writes between two polls when the spark ends right after
   * (happn-primus does; see the README), so a polling client may miss `primus::server::close`.
   */
  dropsClosingMessageBetweenPolls: boolean;
}

const pairings: Pairing[] = [
  {
    name: 'happn-primus client -> our server',
    start: startOurs,
    Client: HappnSocket,
    pin(transport) {
      cleanups.push(pinHappnClient(transport));
      return {};
    },
    dropsClosingMessageBetweenPolls: false,
  },
  {
    name: 'our client -> happn-primus server',
    start: startHappn,
    Client: OurSocket,
    pin: (transport) => ({ transport: { transports: [transport] } }),
    dropsClosingMessageBetweenPolls: true,
  },
];

describe.each(pairings)('$name', ({ start, Client, pin, dropsClosingMessageBetweenPolls }) => {
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

  describe.each(['websocket', 'xhr-polling'])('over %s', (transport) => {
    it('echoes objects and unicode, escaped identically in both directions', async () => {
      const target = await server();
      const received: unknown[] = [];
      target.primus.on('connection', (spark: AnySpark) =>
        spark.on('data', (data: unknown, raw: unknown) => {
          received.push(raw);
          spark.write(data);
        }),
      );
      const client = connect(target, pin(transport));
      await once(client, 'open');
      const echoed: [unknown, unknown][] = [];
      client.on('data', (data: unknown, raw: unknown) => echoed.push([data, raw]));
      for (const sample of samples) client.write(sample);
      await waitFor(() => echoed.length === samples.length, 5000, 'every echo');

      expect(echoed.map(([data]) => data)).toEqual(samples);
      expect(echoed.map(([, raw]) => raw)).toEqual(samples.map(wire));
      expect(received).toEqual(samples.map(wire));
    }, TIMEOUT);

    it('passes the query and keeps the heartbeat going for several rounds with a short ping', async () => {
      const target = await server({ pongSkipTime: 20 });
      const skipped = counter(target.primus, 'heartbeat-skipped', 'flatline');
      const sparkP = nextSpark(target);
      const client = connect(target, { ping: 100, pong: 2000, ...pin(transport) });
      const events = counter(client, 'outgoing::ping', 'incoming::pong', 'close', 'reconnect scheduled');
      const spark = await sparkP;
      expect(spark.query).toMatchObject({ ping: 100, pong: 2000, _primuscb: expect.any(String), t: expect.stringMatching(/^\d+$/) });

      await waitFor(() => events['incoming::pong']!.length >= 5, 5000, 'five pongs');
      const pings = events['outgoing::ping']!.map(([time]) => time);
      for (const [time] of events['incoming::pong']!) expect(pings).toContain(time);
      expect(skipped['heartbeat-skipped']).toEqual([]);
      expect(skipped.flatline).toEqual([]);
      expect(events.close).toEqual([]);
      expect(events['reconnect scheduled']).toEqual([]);
      expect(client.readyState).toBe(OPEN);
    }, TIMEOUT);

    it("gives the client the server's spark id: the socket.io session id", async () => {
      const target = await server();
      const sparkP = nextSpark(target);
      const client = connect(target, pin(transport));
      await once(client, 'open');
      const id = await new Promise<string>((resolve) => client.id(resolve));
      const spark = await sparkP;
      expect(id).toBe(spark.id);
      expect(id).toMatch(/^[\w-]{20}$/);
      // The spark's request is the one that opened the session on the pinned transport.
      expect(spark.request?.url).toMatch(new RegExp(`^/primus/1/${transport}/${id}\\?`));
      expect(spark.address.ip).toBe('127.0.0.1');
    }, TIMEOUT);

    it('reconnects the client on spark.end(undefined, { reconnect: true })', async () => {
      const target = await server();
      const first = nextSpark(target);
      const client = connect(target, { reconnect: { min: 20, max: 50 }, ...pin(transport) });
      await once(client, 'open');
      const second = nextSpark(target);
      const reopened = once(client, 'reconnected');
      (await first).end(undefined, { reconnect: true });
      await reopened;
      expect((await second).id).not.toBe((await first).id);
      expect(client.readyState).toBe(OPEN);
    }, TIMEOUT);

    // Against happn-primus's server a polling client only ends for good when a poll happened to be
    // waiting as the spark ended; otherwise it reconnects. That is a race, so it is not tested.
    if (transport === 'websocket' || !dropsClosingMessageBetweenPolls) {
      it('ends the client for good on spark.end(), right after it (re)connected', async () => {
        const target = await server();
        const first = nextSpark(target);
        const client = connect(target, { reconnect: { min: 20, max: 50 }, ...pin(transport) });
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
    }

    it('ends the spark when the client ends', async () => {
      const target = await server();
      const sparkP = nextSpark(target);
      const client = connect(target, pin(transport));
      await once(client, 'open');
      const spark = await sparkP;
      const ended = once(spark, 'end');
      client.end();
      await ended;
    }, TIMEOUT);
  });
});
