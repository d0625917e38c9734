import type { AddressInfo } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { compile, type ClientTransport } from '@primus/client';
import type { Transformer } from '@primus/core';
import { json } from '@primus/parser-json';
import * as happnInterop from './happn';
import { once, waitFor } from './harness';
import { interopSuite } from './interop';

const TIMEOUT = 20000;
const { OPEN, nextSpark, record, samples, wire } = happnInterop;
type AnyServer = happnInterop.Server;
type AnySpark = happnInterop.Spark;

/** The parts of a `ws` WebSocket the byte-level tests use. */
interface RawSocket {
  on(event: 'message', listener: (data: { toString(): string }, isBinary: boolean) => void): unknown;
  once(event: string, listener: (...args: any[]) => void): unknown;
  send(data: string): void;
  terminate(): void;
}

/** The `ws` classes the byte-level tests use (the suite does not depend on `ws` itself). */
export interface RawWebSocketModule {
  WebSocket: new (url: string) => RawSocket;
  WebSocketServer: new (options: { host: string; port: number }) => {
    address(): AddressInfo | string | null;
    close(cb?: (err?: Error) => void): void;
    once(event: string, listener: (...args: any[]) => void): unknown;
  };
}

/** Options of the plain-WebSocket interop suite. */
export interface WebSocketInteropOptions {
  /** A transformer whose wire is plain WebSocket (websockets, lws, ...). */
  transformer: Transformer;
  /** Its Node client half. */
  client: ClientTransport;
  /** `require('happn-primus')`. */
  happn: happnInterop.HappnPrimusModule;
  /** `require('ws')`, for the raw peers that compare frames byte for byte. */
  ws: RawWebSocketModule;
}

/**
 * Interop with happn-primus 6.0.1's websockets transformer for a transformer whose wire is plain
 * WebSocket: the shared interop suite, the heartbeat checks that need a client to stop pinging,
 * and both implementations compared frame by frame against a bare WebSocket peer.
 */
export function websocketInteropSuite(options: WebSocketInteropOptions): void {
  const { transformer, client, happn, ws } = options;
  const { WebSocket, WebSocketServer } = ws;
  // happn-primus's own Node client, compiled once (its getter recompiles in a vm on every access).
  const HappnSocket = happn.createSocket({ transformer: 'websockets', pathname: '/primus' });
  const OurSocket = compile({ transport: client, parser: json, pathname: '/primus' }) as unknown as happnInterop.ClientClass;
  const startHappn = (serverOptions: happnInterop.ServerOptions = {}) => happnInterop.startHappn(happn, { transformer: 'websockets', ...serverOptions });
  const startOurs = (serverOptions: happnInterop.ServerOptions = {}) => happnInterop.startOurs(transformer, serverOptions);
  const implementations = { startOurs, startHappn, HappnClient: HappnSocket, OurClient: OurSocket };

  interopSuite({
    ...implementations,
    tests({ server, connect }) {
      function echo(target: AnyServer): void {
        target.primus.on('connection', (spark: AnySpark) => spark.on('data', (data: unknown) => spark.write(data)));
      }

      /** A client that announces a heartbeat in its query but never pings. */
      function silent(target: AnyServer, options: Record<string, unknown> = {}): happnInterop.Client {
        const client = connect(target, { ping: 100, pong: 200, ...options });
        client.heartbeat = () => client;
        return client;
      }

      it(
        "learns the client's ping and pong from the connect query",
        async () => {
          const target = await server();
          const spark = nextSpark(target);
          connect(target, { ping: 150, pong: 700 });
          const { query, timeout } = await spark;
          expect(query.ping).toBe(150);
          expect(query.pong).toBe(700);
          expect(query._primuscb).toEqual(expect.any(String));
          expect(timeout).not.toBeNull();
        },
        TIMEOUT,
      );

      it(
        'keeps a ping:false client forever while it drops a silent one',
        async () => {
          const target = await server({ pongSkipTime: 1 });
          echo(target);
          const quiet = nextSpark(target);
          const unpinged = connect(target, { ping: false });
          const quietSpark = await quiet;
          await once(unpinged, 'open');
          const unpingedEvents = record(unpinged, 'close', 'incoming::pong');
          silent(target);
          const [skips] = await once<[number]>(target.primus, 'flatline', 5000);

          expect(skips).toBe(3);
          expect(quietSpark.query.ping).toBe('false');
          expect(quietSpark.timeout).toBeNull();
          // Still connected after the silent client's whole allowance has run out.
          unpinged.write({ still: 'here' });
          const [data] = await once(unpinged, 'data');
          expect(data).toEqual({ still: 'here' });
          expect(unpinged.readyState).toBe(OPEN);
          expect(unpingedEvents.close).toEqual([]);
          expect(unpingedEvents['incoming::pong']).toEqual([]);
        },
        TIMEOUT,
      );

      it(
        'sends unsolicited pongs to a client that stops pinging, then drops it so it reconnects',
        async () => {
          // happn-primus reads pongSkipTime: 0 as "use the default of 1000 ms"; 1 ms lets every skip pong.
          const target = await server({ pongSkipTime: 1 });
          const serverEvents = record(target.primus, 'heartbeat-skipped', 'flatline');
          const first = nextSpark(target);
          const client = silent(target, { reconnect: { min: 20 } });
          const clientEvents = record(client, 'incoming::pong', 'incoming::data', 'end');
          await once(client, 'open');
          const connected = Date.now();
          const second = once<[AnySpark]>(target.primus, 'connection');
          const reconnected = once(client, 'reconnected');
          await once(target.primus, 'flatline', 5000);
          const dropped = Date.now() - connected;
          await reconnected;

          // T = ping + pong / 2 = 200 ms; two skips are tolerated, the third drops the spark.
          expect(serverEvents['heartbeat-skipped']!.map(([count]) => count)).toEqual([1, 2]);
          expect(serverEvents.flatline!.map(([count]) => count)).toEqual([3]);
          expect(dropped).toBeGreaterThanOrEqual(550);
          expect(clientEvents['incoming::pong']).toHaveLength(2);
          expect(clientEvents['incoming::data']!.map(([raw]) => raw)).toEqual([expect.stringMatching(/^"primus::pong::\d+"$/), expect.stringMatching(/^"primus::pong::\d+"$/)]);
          expect(clientEvents.end).toEqual([]);
          const [spark] = await second;
          expect(spark).not.toBe(await first);
        },
        TIMEOUT,
      );
    },
  });

  describe('the same bytes on the wire', () => {
    const defer = happnInterop.useCleanups();

    /** Talk to a server through a bare WebSocket and record every frame it sends. */
    async function serverFrames(start: () => Promise<AnyServer>): Promise<{ frames: string[]; id: string; code: number }> {
      const target = await start();
      defer(() => target.close());
      const connected = nextSpark(target);
      const url = target.url.replace('http:', 'ws:') + '/primus?_primuscb=Q8Nog6x&ping=60000&pong=10000';
      const socket = new WebSocket(url);
      defer(() => socket.terminate());
      const frames: string[] = [];
      socket.on('message', (data, isBinary) => frames.push(isBinary ? '<binary>' : data.toString()));
      const spark = await connected;
      for (const sample of samples) spark.write(sample);
      await waitFor(() => frames.length === samples.length, 5000, 'the samples');
      socket.send('"primus::ping::1496913600000"');
      await waitFor(() => frames.length === samples.length + 1, 5000, 'the pong');
      socket.send('"primus::id::"');
      await waitFor(() => frames.length === samples.length + 2, 5000, 'the id');
      // Read before the end: happn-primus's spark forgets its id once ended.
      const id = spark.id;
      const closed = once<[number]>(socket, 'close');
      spark.end();
      const [code] = await closed;
      return { frames, id, code };
    }

    it(
      'both servers send identical frames for data, pong, id and server close',
      async () => {
        const happn = await serverFrames(startHappn);
        const ours = await serverFrames(startOurs);

        const expected = [...samples.map(wire), '"primus::pong::1496913600000"', expect.any(String), '"primus::server::close"'];
        expect(happn.frames).toEqual(expected);
        expect(ours.frames).toEqual(expected);
        expect(happn.frames[samples.length + 1]).toBe(JSON.stringify(`primus::id::${happn.id}`));
        expect(ours.frames[samples.length + 1]).toBe(JSON.stringify(`primus::id::${ours.id}`));
        expect(happn.code).toBe(1000);
        expect(ours.code).toBe(1000);
      },
      TIMEOUT,
    );

    /** Let a client talk to a bare WebSocket server and record its URL and every frame. */
    async function clientFrames(Client: happnInterop.ClientClass): Promise<{ path: string; query: [string, string][]; frames: string[]; code: number }> {
      const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      defer(() => new Promise((resolve) => wss.close(resolve)));
      await once(wss, 'listening');
      const { port } = wss.address() as AddressInfo;
      const accepted = once<[RawSocket, { url: string }]>(wss, 'connection');
      const client = new Client(`http://127.0.0.1:${port}`, { ping: 50, pong: 5000, strategy: false });
      // Expected: the peer is a bare WebSocket server that the test closes; only the frames matter.
      client.on('error', () => {});
      defer(() => client.destroy());
      for (const sample of samples) client.write(sample);
      const [socket, req] = await accepted;
      const frames: string[] = [];
      socket.on('message', (data, isBinary) => frames.push(isBinary ? '<binary>' : data.toString()));
      await waitFor(() => client.readyState === OPEN, 5000, 'open');
      client.id(() => {});
      await waitFor(() => frames.some((frame) => frame.startsWith('"primus::ping::')), 5000, 'a ping');
      const closed = once<[number]>(socket, 'close');
      client.end();
      const [code] = await closed;
      const url = new URL(req.url, 'http://localhost');
      return { path: url.pathname, query: [...url.searchParams], frames, code };
    }

    it(
      'both clients send identical frames for data, id and ping, and the same connect query',
      async () => {
        const happn = await clientFrames(HappnSocket);
        const ours = await clientFrames(OurSocket);

        const expected = [...samples.map(wire), '"primus::id::"', expect.stringMatching(/^"primus::ping::\d{13}"$/)];
        expect(happn.frames).toEqual(expected);
        expect(ours.frames).toEqual(expected);
        expect(happn.path).toBe('/primus');
        expect(ours.path).toBe('/primus');
        const shape = (query: [string, string][]) => query.map(([key, value]) => [key, key === '_primuscb' ? 'yeast' : value]);
        expect(shape(happn.query)).toEqual([
          ['_primuscb', 'yeast'],
          ['ping', '50'],
          ['pong', '5000'],
        ]);
        expect(shape(ours.query)).toEqual(shape(happn.query));
        // No status code from either client; a browser's WebSocket#close() sends none either.
        expect(ours.code).toBe(happn.code);
      },
      TIMEOUT,
    );
  });
}
