import { PrimusError } from './errors';
import type { ClientTransport, TransportConnection, TransportEvents, TransportHost } from './transport';

/**
 * The parts of a WebSocket (browser or `ws`) the transport uses. The handlers take `any` so that
 * both classes fit without a cast: each types its events its own way.
 */
interface SocketLike {
  readyState: number;
  binaryType: string;
  onopen: ((ev: any) => void) | null;
  onclose: ((ev: any) => void) | null;
  onerror: ((ev: any) => void) | null;
  onmessage: ((ev: any) => void) | null;
  send(data: unknown): void;
  close(code?: number, reason?: string): void;
}

/** Builds a socket for a URL; lets Node pass `ws` options while browsers use the native class. */
export type WebSocketFactory = (url: string, host: TransportHost) => SocketLike;

const OPEN = 1;
const noop = (): void => {};

function browserFactory(url: string): SocketLike {
  const Ctor = (globalThis as { WebSocket?: new (url: string) => SocketLike }).WebSocket;
  if (typeof Ctor !== 'function') {
    throw new PrimusError('PRIMUS_ERR_NO_WEBSOCKET', 'Primus: no global WebSocket (in Node, use primus.Socket)');
  }
  return new Ctor(url);
}

/**
 * The WebSocket client transport shared by the websockets, faye and lws transformers: the wire is
 * plain WebSocket for all three. By default it uses the global `WebSocket` (browsers, Node 22+).
 */
export function websocketTransport(factory: WebSocketFactory = browserFactory, name = 'websockets'): ClientTransport {
  return {
    name,
    connect(host: TransportHost, events: TransportEvents): TransportConnection {
      const url = host.uri({ protocol: 'ws:', query: true }) as string;
      // A factory that throws (no WebSocket, a URL the browser refuses) makes connect() throw: the
      // client reports that as a connection error on the next tick.
      const socket = factory(url, host);
      socket.binaryType = 'arraybuffer';
      socket.onopen = () => events.open();
      // ws's error event carries the Error; a browser's carries nothing, and the client reports it as
      // PRIMUS_ERR_CONNECTION with the event as the `cause`.
      socket.onerror = (ev) => events.error((ev && ev.error) || ev);
      socket.onclose = () => events.end();
      socket.onmessage = (ev) => events.data(ev.data);
      return {
        socket,
        send(payload) {
          if (socket.readyState !== OPEN) return;
          try {
            socket.send(payload);
          } catch (err) {
            events.error(err);
          }
        },
        close() {
          socket.onopen = socket.onerror = socket.onclose = socket.onmessage = noop;
          try {
            socket.close();
          } catch {
            // Closing a socket that never connected may throw in some browsers; it is gone either way.
          }
        },
      };
    },
  };
}
