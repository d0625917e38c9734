import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Primus, type Transformer, type Spark } from '@primus/core';
import type { PrimusClient } from '@primus/client';
import { notSupported } from './capability';
import { collect, negotiatedExtensions, nextData, nextSpark, once, request, startServer, startSocketServer, upgrade, waitFor, type TestServer } from './harness';

/** What a transformer can do; the suite adapts its expectations to these flags. */
export interface Capabilities {
  /**
   * Status of a plain HTTP GET under the pathname (426 for WebSocket-only transformers). Leave
   * undefined when the framework answers such requests itself.
   */
  plainHttpStatus?: number;
  /** The framework can connect to an IPv6 literal URL. @default true */
  ipv6?: boolean;
  /**
   * Path (with query) of a raw WebSocket upgrade the server accepts, e.g. `/primus`; when set, the
   * suite checks that `compression: true` negotiates permessage-deflate there and `false` does not.
   */
  websocketPath?: string;
  /**
   * The framework offers permessage-deflate (checked on `websocketPath`). Set false for one that
   * has none: the suite then checks that `compression: true` is ignored rather than refused.
   * @default true
   */
  compression?: boolean;
  /**
   * The Node client reaches a server on a Unix domain socket (`ws+unix:///path/to.sock`). When
   * false the suite checks that the client refuses such a URL with a clear error. @default false
   */
  unixSocket?: boolean;
}

/** Options of the conformance suite. */
export interface SuiteOptions {
  /** The transformer under test. */
  transformer: Transformer;
  /** What it can do. */
  capabilities?: Capabilities;
  /** Per-test timeout in ms. @default 20000 */
  timeout?: number;
}

const unicode = {
  separators: 'line\u2028paragraph\u2029end',
  astral: '😀 𝌆 \u{1F680}',
  mixed: 'pongРУССКИЙ €€€ 中文',
};

/**
 * The conformance suite every transformer runs: connection, messages, heartbeat, ending,
 * reconnect, broadcast, authorization and the HTTP surface, against real clients and servers.
 *
 * ```ts
 * import { transformerSuite } from '@primus/transformer-test-suite';
 * import myTransformer from '../src';
 * transformerSuite({ transformer: myTransformer, capabilities: { plainHttpStatus: 426 } });
 * ```
 */
export function transformerSuite(options: SuiteOptions): void {
  const { transformer } = options;
  const caps: Required<Pick<Capabilities, 'ipv6'>> & Capabilities = { ipv6: true, ...options.capabilities };
  const timeout = options.timeout ?? 20000;
  const servers: TestServer[] = [];

  async function start(extra: Parameters<typeof startServer>[0] = {}, port?: number, host?: string): Promise<TestServer> {
    const server = await startServer({ transformer, ...extra }, port, host);
    servers.push(server);
    return server;
  }

  function echo(server: TestServer): void {
    server.primus.on('connection', (spark: Spark) => {
      spark.on('data', (data: unknown) => {
        const message = data as { echo?: unknown } | null;
        if (message && typeof message === 'object' && 'echo' in message) spark.write(message.echo);
      });
    });
  }

  const directories: string[] = [];

  /** A server on a Unix domain socket in a fresh temporary directory, removed after the test. */
  async function startOnSocket(extra: Parameters<typeof startServer>[0] = {}, socketPath?: string): Promise<TestServer> {
    if (!socketPath) {
      const directory = mkdtempSync(join(tmpdir(), 'primus-'));
      directories.push(directory);
      socketPath = join(directory, 'app.sock');
    }
    const server = await startSocketServer({ transformer, ...extra }, socketPath);
    servers.push(server);
    return server;
  }

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
    for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
  });

  describe(`transformer conformance: ${transformer.name}`, () => {
    describe('connecting', () => {
      it(
        'opens a connection and echoes an object',
        async () => {
          const server = await start();
          echo(server);
          const client = server.client();
          await once(client, 'open');
          expect(client.readyState).toBe(3);
          client.write({ echo: { hello: 'world', list: [1, 2, 3] } });
          const [data, raw] = await once(client, 'data');
          expect(data).toEqual({ hello: 'world', list: [1, 2, 3] });
          expect(typeof raw === 'string' ? raw : new TextDecoder().decode(raw as ArrayBuffer)).toBe(JSON.stringify({ hello: 'world', list: [1, 2, 3] }));
        },
        timeout,
      );

      if (caps.ipv6) {
        it(
          'connects to an IPv6 literal',
          async () => {
            const server = await start({}, 0, '::1');
            const socket = server.client({ url: `http://[::1]:${server.port}` });
            await once(socket, 'open');
            expect(server.primus.connected).toBeLessThanOrEqual(1);
          },
          timeout,
        );
      }

      it(
        'delivers writes made before the connection opened, in order',
        async () => {
          const server = await start();
          const spark = nextSpark(server.primus);
          const client = server.client();
          for (let i = 0; i < 10; i++) client.write(i);
          const received = collect<number>(await spark, 'data', 10);
          expect(await received).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        },
        timeout,
      );

      it(
        'passes the query, ping and pong to the spark',
        async () => {
          const server = await start();
          const spark = nextSpark(server.primus);
          server.client({ query: 'foo=bar&n=1', ping: 12345, pong: 6789 });
          const { query } = await spark;
          expect(query.foo).toBe('bar');
          expect(query.n).toBe('1');
          expect(query.ping).toBe(12345);
          expect(query.pong).toBe(6789);
        },
        timeout,
      );

      it(
        'knows the client address, headers and request',
        async () => {
          const server = await start();
          const spark = nextSpark(server.primus);
          server.client();
          const { address, headers, request: req } = await spark;
          expect(address.ip).toMatch(/127\.0\.0\.1$/);
          expect(address.port).toBeGreaterThan(0);
          expect(address.port).not.toBe(server.port);
          expect(typeof headers).toBe('object');
          expect(headers.host).toBe(`127.0.0.1:${server.port}`);
          expect(req?.headers).toBeDefined();
        },
        timeout,
      );

      it(
        'gives the client the same id as the spark',
        async () => {
          const server = await start();
          const sparkP = nextSpark(server.primus);
          const client = server.client();
          await once(client, 'open');
          const spark = await sparkP;
          const id = await new Promise<string>((resolve) => client.id(resolve));
          expect(id).toBe(spark.id);
        },
        timeout,
      );
    });

    describe('messages', () => {
      it(
        'round-trips unicode, including U+2028/U+2029 and astral characters',
        async () => {
          const server = await start();
          echo(server);
          const client = server.client();
          for (const value of Object.values(unicode)) {
            client.write({ echo: value });
            const [data] = await once(client, 'data');
            expect(data).toBe(value);
          }
        },
        timeout,
      );

      it(
        'escapes U+2028 and U+2029 on the wire',
        async () => {
          const server = await start();
          const sparkP = nextSpark(server.primus);
          server.client();
          const spark = await sparkP;
          const [payload] = await new Promise<unknown[]>((resolve) => {
            spark.once('outgoing::data', (...args: unknown[]) => resolve(args));
            spark.write(['\u2028\u2029']);
          });
          expect(payload).toBe('["\\u2028\\u2029"]');
        },
        timeout,
      );

      it(
        'delivers a 1 MB message intact in both directions',
        async () => {
          const server = await start();
          const sparkP = nextSpark(server.primus);
          const client = server.client();
          const big = 'x'.repeat(1024 * 1024 - 32) + '€😀';
          const spark = await sparkP;
          const atServer = once(spark, 'data', 20000);
          client.write(big);
          expect((await atServer)[0]).toBe(big);
          const atClient = once(client, 'data', 20000);
          spark.write(big);
          expect((await atClient)[0]).toBe(big);
        },
        timeout,
      );

      it(
        'round-trips the number 0, from write and from end',
        async () => {
          const server = await start();
          const sparkP = nextSpark(server.primus);
          const client = server.client();
          const spark = await sparkP;
          const received = collect(client, 'data', 2);
          spark.write(0);
          spark.end(0);
          expect(await received).toEqual([0, 0]);
        },
        timeout,
      );

      it(
        'keeps the connection after a message that cannot be encoded',
        async () => {
          const server = await start();
          echo(server);
          const sparkP = nextSpark(server.primus);
          const client = server.client();
          const spark = await sparkP;
          const circular: Record<string, unknown> = {};
          circular.self = circular;
          const error = once(spark, 'error');
          expect(spark.write(circular)).toBe(true);
          const [err] = await error;
          expect((err as { code?: string }).code).toBe('PRIMUS_ERR_PARSER_ENCODE');
          client.write({ echo: 'still here' });
          expect((await once(client, 'data'))[0]).toBe('still here');
        },
        timeout,
      );

      it(
        'queues data until async connection listeners are done',
        async () => {
          const server = await start();
          const order: string[] = [];
          server.primus.on('connection', (spark: Spark, next?: (err?: Error) => void) => {
            spark.on('data', (data: string) => order.push(data));
            setTimeout(() => next!(), 50);
          });
          const client = server.client();
          client.write('hello');
          client.write('in');
          client.write('order');
          await waitFor(() => order.length === 3, 5000, 'three messages');
          expect(order).toEqual(['hello', 'in', 'order']);
        },
        timeout,
      );

      it(
        'broadcasts to every spark',
        async () => {
          const server = await start();
          const clients = [server.client(), server.client(), server.client()];
          await waitFor(() => server.primus.connected === 3, 5000, 'three connections');
          const received = clients.map((client) => once(client, 'data'));
          server.primus.write({ news: 'flash' });
          for (const [data] of await Promise.all(received)) expect(data).toEqual({ news: 'flash' });
        },
        timeout,
      );
    });

    describe('heartbeat', () => {
      it(
        'answers pings with pongs and measures latency',
        async () => {
          // Replies closer together than pongSkipTime are deduplicated, so keep it below the ping.
          const server = await start({ pongSkipTime: 10 });
          const client = server.client({ ping: 100, pong: 1000 });
          await once(client, 'open');
          const pongs = collect<number>(client, 'incoming::pong', 3);
          const sent = collect<number>(client, 'outgoing::ping', 3);
          const [times, pingTimes] = await Promise.all([pongs, sent]);
          expect(times).toEqual(pingTimes);
          expect(client.latency).toBeGreaterThanOrEqual(0);
          expect(client.readyState).toBe(3);
        },
        timeout,
      );

      it(
        'tolerates skipped heartbeats with unsolicited pongs, then ends the spark for a reconnect',
        async () => {
          const server = await start({ pongSkipTime: 0 });
          const skipped: number[] = [];
          server.primus.on('heartbeat-skipped', (count: number) => skipped.push(count));
          const flatline = once(server.primus, 'flatline');
          const client = server.client({ ping: 100, pong: 1000, reconnect: { min: 1000 } });
          // A client that announced a 100 ms ping but never sends one.
          client.heartbeat = () => client;
          await once(client, 'open');
          const unsolicited = collect(client, 'incoming::pong', 2);
          const scheduled = once(client, 'reconnect scheduled');
          const [count] = await flatline;
          expect(count).toBe(3);
          expect(skipped).toEqual([1, 2]);
          expect(await unsolicited).toHaveLength(2);
          await scheduled;
        },
        timeout,
      );
    });

    describe('ending', () => {
      it(
        'spark.end() ends the client without a reconnect',
        async () => {
          const server = await start();
          const sparkP = nextSpark(server.primus);
          const client = server.client();
          const spark = await sparkP;
          await once(client, 'open');
          let reconnects = 0;
          client.on('reconnect scheduled', () => reconnects++);
          const received = once(client, 'data');
          const ended = once(client, 'end');
          spark.end('bye');
          expect((await received)[0]).toBe('bye');
          await ended;
          expect(reconnects).toBe(0);
          expect(client.readyState).toBe(2);
        },
        timeout,
      );

      it(
        'spark.end(undefined, { reconnect: true }) makes the client reconnect',
        async () => {
          const server = await start();
          const first = nextSpark(server.primus);
          const client = server.client({ reconnect: { min: 20, max: 50 } });
          const spark = await first;
          await once(client, 'open');
          const second = nextSpark(server.primus);
          const reconnected = once(client, 'reconnected');
          spark.end(undefined, { reconnect: true });
          await reconnected;
          const again = await second;
          expect(again.id).not.toBe(spark.id);
          expect(client.readyState).toBe(3);
        },
        timeout,
      );

      it(
        'client.end() ends the spark and emits disconnection',
        async () => {
          const server = await start();
          const sparkP = nextSpark(server.primus);
          const client = server.client();
          const spark = await sparkP;
          await once(client, 'open');
          const disconnection = once(server.primus, 'disconnection');
          const ended = once(spark, 'end');
          client.end();
          await Promise.all([ended, disconnection]);
          expect(server.primus.connected).toBe(0);
          expect(spark.write('late')).toBe(false);
        },
        timeout,
      );

      it(
        'reconnects after the server restarts, and sends writes made during the outage',
        async () => {
          const server = await start();
          // A transport may report the lost server as an error (engine.io's "xhr poll error", as with
          // happn-primus); the reconnect is what matters here.
          const client = server.client({ reconnect: { min: 50, max: 200, retries: 50 } }, { errors: 'expected' });
          await once(client, 'open');
          const scheduled = once(client, 'reconnect scheduled');
          await server.kill();
          await scheduled;
          client.write('during the outage');
          const restarted = await start({}, server.port);
          const first = nextData(restarted.primus, 15000);
          await once(client, 'reconnected', 15000);
          const [data] = await first;
          expect(data).toBe('during the outage');
        },
        timeout,
      );

      it(
        'destroy() tells clients to stop; destroy({ reconnect: true }) lets them reconnect',
        async () => {
          const server = await start();
          const stay = server.client();
          await once(stay, 'open');
          const ended = once(stay, 'end');
          await new Promise<void>((resolve) => server.primus.destroy({ close: false }, () => resolve()));
          await ended;

          const other = await start();
          // Reconnect attempts to a server that is gone may be reported as errors, as above.
          const comeback = other.client({ reconnect: { min: 20, max: 50 } }, { errors: 'expected' });
          await once(comeback, 'open');
          const scheduled = once(comeback, 'reconnect scheduled');
          other.primus.destroy({ reconnect: true });
          await scheduled;
          comeback.end();
        },
        timeout,
      );
    });

    describe('authorization and HTTP', () => {
      it(
        'refuses unauthorised clients on every path and accepts authorised ones',
        async () => {
          const server = await start({
            authorization(req, done) {
              if (req.query.token === 'secret') return done();
              const err = Object.assign(new Error('go away'), { statusCode: 403 });
              done(err);
            },
          });
          let connections = 0;
          server.primus.on('connection', () => connections++);
          // The refusal reaches the client as an error, then an end without a reconnect.
          const refused = server.client({ query: 'token=wrong' }, { errors: 'expected' });
          let reconnects = 0;
          const errors: unknown[] = [];
          refused.on('reconnect scheduled', () => reconnects++);
          refused.on('error', (err: unknown) => errors.push(err));
          await once(refused, 'end');
          expect(reconnects).toBe(0);
          expect(errors.length).toBeGreaterThan(0);
          const accepted = server.client({ query: 'token=secret' });
          await once(accepted, 'open');
          expect(connections).toBe(1);
          const plain = await request(`${server.url}${server.primus.pathname}/anything?token=wrong`);
          expect(plain.status).toBe(403);
          expect(JSON.parse(plain.body)).toEqual({ error: 'go away' });
        },
        timeout,
      );

      it(
        'serves /primus/primus.js and /primus/spec, and leaves other paths to the application',
        async () => {
          const server = await start();
          const library = await request(`${server.url}/primus/primus.js`);
          expect(library.status).toBe(200);
          expect(library.headers['content-type']).toBe('text/javascript; charset=utf-8');
          expect(library.body).toBe(server.primus.library());
          const spec = await request(`${server.url}/primus/spec`);
          expect(JSON.parse(spec.body)).toMatchObject({ transformer: transformer.name, parser: 'json', pathname: '/primus', timeout: 35000 });
          const other = await request(`${server.url}/nothrow`);
          expect(other.body).toBe('original listener');
        },
        timeout,
      );

      if (caps.websocketPath !== undefined && caps.compression === false) {
        const path = caps.websocketPath;
        notSupported(
          'permessage-deflate on a raw WebSocket',
          transformer.name,
          'compression',
          false,
          async () => {
            // The framework has no permessage-deflate: `compression: true` leaves the WebSocket
            // working, without the extension.
            const server = await start({ compression: true });
            expect(await negotiatedExtensions(server.url + path)).toBeUndefined();
          },
          timeout,
        );
      } else if (caps.websocketPath !== undefined) {
        it(
          'negotiates permessage-deflate when compression is on, and not otherwise',
          async () => {
            const on = await start({ compression: true });
            expect(await negotiatedExtensions(on.url + caps.websocketPath)).toMatch(/^permessage-deflate/);
            const off = await start({ compression: false });
            expect(await negotiatedExtensions(off.url + caps.websocketPath)).toBeUndefined();
          },
          timeout,
        );
      } else {
        notSupported(
          'permessage-deflate on a raw WebSocket',
          transformer.name,
          'websocketPath',
          undefined,
          async () => {
            // No WebSocket that a bare upgrade reaches: the pathname does not switch protocols.
            // A refusal, or a connection closed without an answer (status 0).
            const server = await start({ compression: true });
            const status = await upgrade(`${server.url}/primus`).then(
              (res) => {
                res.socket?.destroy();
                return res.status;
              },
              () => 0,
            );
            expect(status).not.toBe(101);
          },
          timeout,
        );
      }

      if (caps.plainHttpStatus !== undefined) {
        it(
          `answers a plain HTTP request under the pathname with ${caps.plainHttpStatus}`,
          async () => {
            const server = await start();
            const res = await request(`${server.url}/primus`);
            expect(res.status).toBe(caps.plainHttpStatus);
          },
          timeout,
        );
      } else {
        notSupported(
          'a fixed status for plain HTTP requests',
          transformer.name,
          'plainHttpStatus',
          undefined,
          async () => {
            // The framework answers plain requests itself (polling): not with 426 Upgrade Required.
            const server = await start();
            const res = await request(`${server.url}/primus`);
            expect(res.status).not.toBe(426);
          },
          timeout,
        );
      }

      it(
        'runs plugins on both sides',
        async () => {
          const server = await start({
            plugin: {
              shout: {
                server(primus) {
                  primus.transform('incoming', function (packet: { data: unknown }) {
                    if (typeof packet.data === 'string') packet.data = packet.data.toUpperCase();
                  });
                },
                client(primus) {
                  (primus as PrimusClient & { shouted?: boolean }).shouted = true;
                },
              },
            },
          });
          const first = nextData(server.primus);
          const client = server.client() as PrimusClient & { shouted?: boolean };
          expect(client.shouted).toBe(true);
          client.write('quiet');
          const [data] = await first;
          expect(data).toBe('QUIET');
        },
        timeout,
      );
    });

    describe('Unix domain sockets', () => {
      if (caps.unixSocket) {
        it(
          'connects over a Unix domain socket with the HTTP path, query and credentials of a ws+unix: url',
          async () => {
            const server = await startOnSocket({ pathname: '/custom' });
            echo(server);
            const seen: Array<string | undefined> = [];
            server.primus.authorize((req, done) => {
              seen.push(req.headers.authorization);
              done();
            });
            // Compiled for another pathname: the one in the url is the one used.
            const Socket = Primus.createSocket({ transformer, pathname: '/elsewhere' });
            const spark = nextSpark(server.primus);
            const client = new Socket(`ws+unix://user:p%40ss@${server.url.slice('ws+unix://'.length)}:/custom?foo=bar`, { reconnect: { retries: 0 } });
            try {
              await once(client, 'open');
              expect((await spark).query.foo).toBe('bar');
              expect(seen.length).toBeGreaterThan(0);
              for (const header of seen) expect(Buffer.from(String(header).replace(/^Basic /, ''), 'base64').toString()).toBe('user:p@ss');
              client.write({ echo: 'over the socket' });
              expect((await once(client, 'data'))[0]).toBe('over the socket');
            } finally {
              client.destroy();
            }
          },
          timeout,
        );

        it(
          'reconnects over a Unix domain socket after the server restarts',
          async () => {
            const server = await startOnSocket();
            const socketPath = server.url.slice('ws+unix://'.length);
            // No HTTP path in the url: the compiled pathname is used.
            // Losing the server is an error on the connection.
            const client = server.client({ reconnect: { min: 50, max: 200, retries: 50 } }, { errors: 'expected' });
            await once(client, 'open');
            const scheduled = once(client, 'reconnect scheduled');
            await server.kill();
            await scheduled;
            client.write('during the outage');
            const restarted = await startOnSocket({}, socketPath);
            const first = nextData(restarted.primus, 15000);
            await once(client, 'reconnected', 15000);
            expect((await first)[0]).toBe('during the outage');
          },
          timeout,
        );
      } else {
        notSupported('a Unix domain socket from the Node client', transformer.name, 'unixSocket', false, async () => {
          // The client refuses a ws+unix: url at construction, with an error that says so.
          const Socket = Primus.createSocket({ transformer });
          expect(() => new Socket('ws+unix:///tmp/app.sock', { manual: true })).toThrow(/cannot connect to a Unix domain socket/);
        });
      }
    });
  });
}
