import type { AddressInfo } from 'node:net';
import type { ClientTransport, TransportConnection, TransportEvents, TransportHost } from '@primus/client';
import type { ConnectionSink, Transformer, TransformerContext } from '@primus/core';

/** What the double needs of the context. */
type Context = Pick<TransformerContext, 'connect' | 'server'>;

/** One server half: the Primus server it belongs to and its open connections. */
interface MemoryServer {
  context: Context;
  connections: Set<() => void>;
}

/** Options of the in-process transformer double. */
export interface MemoryTransformerOptions {
  /** @default 'memory' */
  name?: string;
}

/** Copy bytes, so neither side sees the other change them; strings pass as they are. */
function copy(payload: unknown): unknown {
  if (typeof payload === 'string') return payload;
  if (payload instanceof ArrayBuffer) return payload.slice(0);
  if (ArrayBuffer.isView(payload)) return new Uint8Array(payload.buffer.slice(payload.byteOffset, payload.byteOffset + payload.byteLength));
  return payload;
}

/**
 * An in-process transformer double, written against the transformer contract: its client half
 * connects to the server half of the same double in the same process, found by the port of the
 * client's URL (the HTTP server must be listening, but no byte goes over the network). Messages
 * are delivered asynchronously and in order, each side's `close()` ends the other, and a URL
 * whose port has no server of this double gets an `ECONNREFUSED` error, as a refused TCP
 * connection would.
 *
 * It lets core and client tests run without a real transformer package. It has no HTTP or
 * upgrade handler, so what the core does there (middleware, authorization) does not run for its
 * connections: test those with a real transformer. It has no browser half.
 *
 * ```ts
 * const memory = memoryTransformer();
 * const server = await startServer({ transformer: memory });
 * const client = server.client();
 * ```
 */
export function memoryTransformer(options: MemoryTransformerOptions = {}): Transformer {
  const name = options.name ?? 'memory';
  const servers = new Set<MemoryServer>();
  let nextPort = 1;

  /** The server half whose HTTP server listens on `port`. */
  function find(port: string): MemoryServer | undefined {
    for (const server of servers) {
      const node = server.context.server?.node;
      const address = node?.listening ? (node.address() as AddressInfo | null) : null;
      if (address && String(address.port) === port) return server;
    }
    return undefined;
  }

  const client: ClientTransport = {
    name,
    connect(host: TransportHost, events: TransportEvents): TransportConnection {
      const url = new URL(host.uri({ protocol: 'http:', query: true }) as string);
      // Each side stops sending once it closed or heard the other close; what was sent before
      // still arrives, in order, ahead of the end (setImmediate runs in the order it was called).
      let clientClosed = false;
      let serverClosed = false;
      let sink: ConnectionSink | undefined;
      let forget = (): void => {};
      const toClient = (fn: () => void): void => void setImmediate(() => !clientClosed && fn());

      setImmediate(() => {
        if (clientClosed) return;
        const server = find(url.port);
        if (!server) {
          serverClosed = true;
          events.error(Object.assign(new Error(`connect ECONNREFUSED ${url.host} (no ${name} server listens there)`), { code: 'ECONNREFUSED' }));
          return;
        }
        // The server closes the connection: the client hears its end after what was sent.
        const endClient = (): void => {
          if (serverClosed) return;
          serverClosed = true;
          forget();
          toClient(() => events.end());
        };
        server.connections.add(endClient);
        forget = () => server.connections.delete(endClient);
        // Opened a turn later, as over a network: the core has announced the spark by then. Queued
        // before the core hears of the connection, so a server that closes it at once is heard
        // as an open followed by an end, as a WebSocket whose handshake completed.
        toClient(() => events.open());
        sink = server.context.connect(
          {
            headers: { host: url.host, 'user-agent': `${name} double` },
            address: { remoteAddress: '127.0.0.1', remotePort: nextPort++ },
            query: url.search.slice(1),
          },
          {
            send: (payload) => {
              if (!serverClosed) toClient(() => events.data(copy(payload)));
            },
            close: endClient,
          },
        );
      });

      return {
        send(payload) {
          if (clientClosed || serverClosed) return;
          const copied = copy(payload);
          setImmediate(() => sink?.data(copied));
        },
        close() {
          if (clientClosed) return;
          clientClosed = true;
          if (serverClosed) return;
          serverClosed = true;
          forget();
          // The client closes the connection: the core hears its end after what was sent.
          setImmediate(() => sink?.end());
        },
      };
    },
  };

  return {
    name,
    server(context) {
      const server: MemoryServer = { context, connections: new Set() };
      servers.add(server);
      return {
        close() {
          servers.delete(server);
          for (const end of [...server.connections]) end();
        },
      };
    },
    client,
    browser: () => `function () { throw new Error(${JSON.stringify(`the ${name} transformer double has no browser half`)}); }`,
  };
}
