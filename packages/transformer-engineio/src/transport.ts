import type { ClientTransport, TransportConnection, TransportEvents, TransportHost, UriOptions } from '@primus/client';
import type { HandshakeData, Socket, SocketOptions } from 'engine.io-client';

/** engine.io-client's `Socket` class: the Node build in Node, the browser build in `primus.js`. */
export type EngineSocketClass = new (options: Partial<SocketOptions>) => Socket;

// The longest delay a timer accepts (2^31 - 1 ms); a longer one fires at once.
const MAX_TIMER = 2147483647;

const noop = (): void => {};

/** `[::1]` is how URLs write an IPv6 host; engine.io-client adds the brackets itself. */
function bareHostname(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/** Normalise what engine.io-client reports as an error, and explain the protocol-3 case. */
function toError(err: unknown, opened: boolean): Error {
  const error = err instanceof Error ? err : new Error(typeof err === 'string' && err ? err : 'engine.io connection error');
  const code = (error as { code?: unknown }).code;
  if (!opened && code === 'parser error') {
    // An engine.io < 4 server (protocol 3, as in happn-primus) frames polling payloads as
    // `<length>:<packet>`, which engine.io-client 6 cannot parse.
    return Object.assign(
      new Error(
        "engine.io could not parse the server's handshake: the server probably speaks engine.io protocol 3 " +
          '(engine.io < 4, e.g. happn-primus), which this client can only reach over WebSocket. ' +
          "Connect with { transport: { transports: ['websocket'] } }",
        { cause: error },
      ),
      { code },
    );
  }
  return error;
}

/**
 * The engine.io client transport, shared by Node and browsers: it opens an engine.io-client
 * `Socket` at the Primus pathname, long-polling first and upgrading to WebSocket (polling only
 * with `websockets: false`). `options.transport` is passed to engine.io-client, so it may set
 * `transports`, `extraHeaders`, `agent`, `withCredentials` and so on. `nodeOptions`, given by the
 * Node client only, adds what Node can do beyond a browser (credentials, Unix domain sockets).
 */
export function engineioTransport(EngineSocket: EngineSocketClass, nodeOptions?: (host: TransportHost) => Partial<SocketOptions>): ClientTransport {
  return {
    name: 'engine.io',
    unixSocket: !!nodeOptions,
    connect(host: TransportHost, events: TransportEvents): TransportConnection {
      const target = host.uri({ protocol: 'http:', query: true, object: true }) as UriOptions;
      const user = host.transportOptions as Partial<SocketOptions>;
      let transports = (user.transports as string[] | undefined) ?? ['polling', 'websocket'];
      if (host.avoidWebsockets) transports = transports.filter((name) => name === 'polling');
      if (transports.length === 0) transports = ['polling'];

      let socket: Socket;
      try {
        socket = new EngineSocket({
          // happn-primus's engine.io client sent cookies cross-origin; Primus's CORS allows it.
          withCredentials: true,
          // A cache buster on WebSocket requests too, as happn-primus asked for.
          timestampRequests: true,
          ...user,
          ...(nodeOptions && nodeOptions(host)),
          transports: transports as SocketOptions['transports'],
          // engine.io-client appends a slash; the request is still under the Primus pathname.
          path: String(target.pathname),
          hostname: bareHostname(host.url.hostname),
          port: String(target.port),
          secure: !!target.secure,
          // The query Primus built: the user's keys, `_primuscb`, `ping` and `pong`.
          query: target.query as unknown as SocketOptions['query'],
        });
      } catch (err) {
        // Report on the next tick so the client has finished opening before it hears of failure.
        setTimeout(() => events.error(err), 0);
        return { send: noop, close: noop };
      }

      let opened = false;
      const onHandshake = (data: HandshakeData): void => {
        // Quirk of engine.io < 4 (protocol 3, happn-primus's server): the client is meant to
        // ping and the server never does, but engine.io-client 6 waits for server pings and
        // closes after pingInterval + pingTimeout. Such servers send no `maxPayload`; push
        // the timeout out of reach so Primus's own heartbeat watches the connection instead.
        if (data && typeof (data as { maxPayload?: unknown }).maxPayload !== 'number') {
          data.pingTimeout = MAX_TIMER - (Number(data.pingInterval) || 0);
        }
      };
      const onOpen = (): void => {
        opened = true;
        events.open();
      };
      const onMessage = (data: unknown): void => events.data(data);
      const onError = (err: unknown): void => events.error(toError(err, opened));
      const onClose = (): void => events.end();
      socket.on('handshake', onHandshake);
      socket.on('open', onOpen);
      socket.on('message', onMessage);
      socket.on('error', onError);
      socket.on('close', onClose);

      return {
        socket,
        get id() {
          // Known once the handshake is done; it is the spark id on the server.
          return socket.id || undefined;
        },
        send(payload) {
          try {
            socket.send(payload as string);
          } catch (err) {
            events.error(err);
          }
        },
        close() {
          socket.off('handshake', onHandshake);
          socket.off('open', onOpen);
          socket.off('message', onMessage);
          socket.off('error', onError);
          socket.off('close', onClose);
          socket.close();
        },
      };
    },
  };
}
