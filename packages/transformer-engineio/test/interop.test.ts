import { describe, expect, it } from '@jest/globals';
import { collect, happnInterop, interopSuite, once, waitFor } from '@primus/transformer-test-suite';
import type { EngineIoConnectionSocket } from '../src';
import { HappnSocket, OurSocket, implementations, startHappn, startOurs } from './happn';

// Wire compatibility with the real happn-primus 6.0.1 and its engine.io 1.6 / engine.io-client 1.6
// (engine.io protocol 3) in both directions.

const TIMEOUT = 20000;
const { OPEN, expectEcho, nextSpark } = happnInterop;
const websocketOnly = (): Record<string, unknown> => ({ transport: { transports: ['websocket'] } });

interopSuite({
  ...implementations,
  // Our client cannot long-poll a protocol 3 server (tested below), so it talks WebSocket only.
  pin: ({ side }) => (side === 'happn' ? websocketOnly() : {}),
});

const defer = happnInterop.useCleanups();

async function serve<T extends happnInterop.Server>(start: (options: happnInterop.ServerOptions) => Promise<T>, options: happnInterop.ServerOptions = {}): Promise<T> {
  const started = await start(options);
  defer(() => started.close());
  return started;
}

function connect(Client: happnInterop.ClientClass, target: happnInterop.Server, options: Record<string, unknown> = {}): happnInterop.Client {
  const client = new Client(target.url, options);
  // happn-primus's Node client is a Node stream: an unheard `error` would throw.
  client.on('error', () => {});
  defer(() => client.destroy());
  return client;
}

describe('happn-primus client (engine.io-client 1.6, protocol 3) -> our server', () => {
  it(
    'connects over protocol 3, echoes unicode identically on the wire and upgrades to WebSocket',
    async () => {
      const target = await serve(startOurs);
      const sparkP = nextSpark(target);
      const client = connect(HappnSocket, target);
      const spark = await sparkP;
      await once(client, 'open');

      // allowEIO3: engine.io 6 took the old client's handshake.
      expect(spark.query.EIO).toBe('3');
      expect(spark.query.transport).toBe('polling');
      expect(spark.query.ping).toBe(25000);
      await expectEcho(client, spark);

      const engineSocket = (spark as unknown as { socket: EngineIoConnectionSocket }).socket.socket;
      await waitFor(() => engineSocket.transport.name === 'websocket', 10000, 'the upgrade to WebSocket');
      client.write({ after: 'the upgrade 😀' });
      expect((await once(client, 'data'))[0]).toEqual({ after: 'the upgrade 😀' });
    },
    TIMEOUT,
  );
});

describe('our client (engine.io-client 6, protocol 4) -> happn-primus server (engine.io 1.6, protocol 3)', () => {
  it(
    'cannot long-poll: the protocol 3 payload framing is refused with an explanation',
    async () => {
      const target = await serve(startHappn);
      const client = connect(OurSocket, target, { strategy: false });
      const [err] = await once<[Error & { code?: string }]>(client, 'error');
      expect(err.code).toBe('parser error');
      expect(err.message).toMatch(/protocol 3/);
      expect(err.message).toMatch(/transports: \['websocket'\]/);
      expect(client.readyState).not.toBe(OPEN);
    },
    TIMEOUT,
  );

  it(
    'talks over WebSocket only: echoes unicode identically on the wire, and the id is the spark id',
    async () => {
      const target = await serve(startHappn);
      const sparkP = nextSpark(target);
      const client = connect(OurSocket, target, websocketOnly());
      const spark = await sparkP;
      await once(client, 'open');
      expect(spark.query.transport).toBe('websocket');
      expect(spark.query._primuscb).toEqual(expect.any(String));
      await expectEcho(client, spark);
      const id = await new Promise<string>((resolve) => client.id(resolve));
      expect(id).toBe(spark.id);
    },
    TIMEOUT,
  );

  it(
    "stays connected past engine.io 1.6's ping timeout, which only Primus's heartbeat refreshes",
    async () => {
      const target = await serve(startHappn, { pongSkipTime: 20 });
      // engine.io 1.6 sends no pings (in protocol 3 the client pings): without the client's
      // workaround engine.io-client 6 would close after pingInterval + pingTimeout = 300 ms.
      target.engine.pingInterval = 150;
      target.engine.pingTimeout = 150;
      const client = connect(OurSocket, target, { ...websocketOnly(), ping: 100, pong: 2000 });
      await once(client, 'open');
      const closes: unknown[] = [];
      client.on('close', () => closes.push(true));
      // Ten Primus heartbeats are a second, more than three times engine.io's timeout.
      const pings = collect<number>(client, 'outgoing::ping', 10);
      const pongs = collect<number>(client, 'incoming::pong', 10);
      const [sent, answered] = await Promise.all([pings, pongs]);
      expect(answered).toEqual(sent);
      expect(closes).toEqual([]);
      expect(client.readyState).toBe(OPEN);
    },
    TIMEOUT,
  );
});
