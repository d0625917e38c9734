import type { ClientTransport, TransportConnection, TransportEvents, TransportHost, UriOptions } from '@primus/client';

/** A socket.io 0.9 namespace (`socket.of('')`): where messages and lifecycle events arrive. */
export interface IoNamespace {
  /** The connection to the server that the namespace lives on. */
  readonly socket: IoSocket;
  on(event: string, listener: (...args: any[]) => void): unknown;
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
  send(data: string): unknown;
}

/** A socket.io 0.9 connection (`io.Socket`), the parts the transport drives. */
export interface IoSocket {
  options: Record<string, unknown>;
  /** The session id from the handshake, which the server also uses as `spark.id`. */
  sessionid?: string;
  connected: boolean;
  connecting: boolean;
  transport?: { name: string };
  connectTimeoutTimer?: ReturnType<typeof setTimeout>;
  heartbeatTimeoutTimer?: ReturnType<typeof setTimeout>;
  of(name: string): IoNamespace;
  /** Route a decoded packet to its namespace. */
  onPacket(packet: { endpoint?: unknown }): unknown;
  connect(): unknown;
  disconnect(): unknown;
}

/** A socket.io 0.9 client: `primus-socket.io-client` in Node, its browser build in pages. */
export interface IoClient {
  Socket: new (options: Record<string, unknown>) => IoSocket;
}

/**
 * The transports a client tries, in order, unless `transport.transports` says otherwise. They are
 * the two that work in Node and in current browsers (flashsocket, htmlfile and jsonp-polling need
 * Flash, ActiveX or a global `io`).
 */
export const DEFAULT_TRANSPORTS: readonly string[] = ['websocket', 'xhr-polling'];

const noop = (): void => {};
let decoder: TextDecoder | undefined;

/** socket.io 0.9 carries text only: bytes travel as their UTF-8 text. */
function asText(payload: string | ArrayBuffer | Uint8Array): string {
  if (typeof payload === 'string') return payload;
  decoder ??= new TextDecoder();
  return decoder.decode(payload);
}

/**
 * Turn what socket.io reports as an error into an Error. A refused handshake is reported with the
 * response body, which for a Primus refusal is `{"error": "<message>"}`.
 */
function ioError(reason: unknown): Error {
  if (reason instanceof Error) return reason;
  if (typeof reason === 'string' && reason) {
    try {
      const body = JSON.parse(reason) as { error?: unknown } | null;
      if (body && typeof body.error === 'string') return Object.assign(new Error(body.error), { body: reason });
    } catch {
      // Not JSON: the text itself (socket.io's own reasons, or a network error) is the message.
    }
    return new Error(reason);
  }
  const inner = (reason as { error?: unknown; message?: unknown } | null | undefined) ?? undefined;
  if (inner?.error instanceof Error) return inner.error;
  return new Error(typeof inner?.message === 'string' && inner.message ? inner.message : 'socket.io connection error');
}

/**
 * The socket.io 0.9 client transport, shared by the Node client and the browser bundle: each passes
 * the socket.io client it can use. `options.transport` goes to `io.Socket` as its options
 * (`transports`, `connect timeout`, `try multiple transports`, ...).
 */
export function socketioTransport(io: IoClient): ClientTransport {
  return {
    name: 'socket.io',
    connect(host: TransportHost, events: TransportEvents): TransportConnection {
      const target = host.uri({ protocol: 'http:', query: true, object: true }) as UriOptions;
      const { transports: pinned, ...rest } = host.transportOptions;
      let transports = Array.isArray(pinned) ? pinned.map(String) : [...DEFAULT_TRANSPORTS];
      if (host.avoidWebsockets && !Array.isArray(pinned)) transports = transports.filter((name) => name !== 'websocket');
      const options: Record<string, unknown> = {
        ...rest,
        host: host.url.hostname,
        port: target.port,
        secure: !!target.secure,
        query: typeof target.query === 'string' ? target.query : '',
        resource: String(target.pathname ?? host.pathname).replace(/^\/+|\/+$/g, ''),
        transports,
        'force new connection': true,
        // Reconnecting is the Primus client's job, with its own back-off.
        reconnect: false,
        'auto connect': false,
      };

      let manager: IoSocket;
      try {
        // Options are assigned after construction: io.Socket merges its options into its defaults
        // in depth, which writes an array option such as `transports` into the shared default
        // array (`io.transports`) of every later socket.
        manager = new io.Socket({ 'auto connect': false });
        Object.assign(manager.options, options);
      } catch (err) {
        // Report on the next tick so the client has finished opening before it hears of failure.
        setTimeout(() => events.error(err), 0);
        return { send: noop, close: noop };
      }
      const socket = manager.of('');
      // socket.io looks a packet's endpoint up in a plain object and opens a namespace for any it
      // does not know: a server could name `constructor` and make the client throw. Only the
      // default namespace carries Primus messages.
      const onPacket = manager.onPacket;
      manager.onPacket = function (this: IoSocket, packet) {
        if (packet?.endpoint === '') return onPacket.call(this, packet);
      };
      const onConnect = (): void => events.open();
      const onMessage = (data: unknown): void => events.data(data);
      const onError = (reason: unknown): void => events.error(ioError(reason));
      const onFailed = (): void => events.error(new Error(`socket.io could not connect with any of its transports (${transports.join(', ')})`));
      const onDisconnect = (): void => events.end();
      socket.on('connect', onConnect);
      socket.on('message', onMessage);
      socket.on('error', onError);
      socket.on('connect_failed', onFailed);
      socket.on('disconnect', onDisconnect);

      let closed = false;
      const shutdown = (): void => {
        // Left armed, the connect timer would open the next transport after this one was closed.
        clearTimeout(manager.connectTimeoutTimer);
        try {
          manager.disconnect();
        } catch {
          // socket.io throws when the handshake never completed (there is no transport to close).
        }
        clearTimeout(manager.heartbeatTimeoutTimer);
      };
      // In WebKit browsers socket.io defers opening a polling transport by 100 ms after the
      // handshake; a close in that window would be undone when the deferred open runs.
      socket.on('connecting', () => {
        if (closed) setTimeout(shutdown, 0);
      });
      manager.connect();

      return {
        socket,
        get id() {
          return manager.sessionid || undefined;
        },
        send(payload) {
          try {
            socket.send(asText(payload));
          } catch (err) {
            events.error(err);
          }
        },
        close() {
          if (closed) return;
          closed = true;
          socket.removeListener('connect', onConnect);
          socket.removeListener('message', onMessage);
          socket.removeListener('error', onError);
          socket.removeListener('connect_failed', onFailed);
          socket.removeListener('disconnect', onDisconnect);
          shutdown();
        },
      };
    },
  };
}
