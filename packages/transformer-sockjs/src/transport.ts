import type { ClientTransport, TransportConnection, TransportEvents, TransportHost } from '@primus/client';

/** The parts of a SockJS client (sockjs-client's Node or browser build) the transport uses. */
export interface SockJSLike {
  readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code?: number; reason?: string } | undefined) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** sockjs-client's constructor: `new SockJS(url, protocols, options)`. */
export type SockJSConstructor = new (url: string, protocols?: null, options?: Record<string, unknown>) => SockJSLike;

const OPEN = 1;
const noop = (): void => {};

/**
 * Every transport sockjs-client knows except `websocket`, in its own order of preference: the
 * whitelist used when the client is told to avoid WebSockets.
 */
export const TRANSPORTS_WITHOUT_WEBSOCKET: readonly string[] = [
  'xhr-streaming',
  'xdr-streaming',
  'eventsource',
  'iframe-eventsource',
  'htmlfile',
  'iframe-htmlfile',
  'xhr-polling',
  'xdr-polling',
  'iframe-xhr-polling',
  'jsonp-polling',
];

let decoder: TextDecoder | undefined;

/** SockJS carries text only: bytes travel as their UTF-8 text (sockjs itself would send "1,2,3"). */
function asText(payload: string | ArrayBuffer | Uint8Array): string {
  if (typeof payload === 'string') return payload;
  decoder ??= new TextDecoder();
  return decoder.decode(payload);
}

/**
 * The SockJS client transport, shared by the Node client and the browser bundle: each passes the
 * sockjs-client build it can use.
 */
export function sockjsTransport(SockJS: SockJSConstructor): ClientTransport {
  return {
    name: 'sockjs',
    connect(host: TransportHost, events: TransportEvents): TransportConnection {
      // SockJS wants an http(s) URL and adds its own `/<server>/<session>/<transport>` segments
      // in front of the query, so the query reaches the server on every transport.
      const url = host.uri({ protocol: 'http:', query: true }) as string;
      const options: Record<string, unknown> = {
        ...(host.avoidWebsockets ? { transports: [...TRANSPORTS_WITHOUT_WEBSOCKET] } : {}),
        ...host.transportOptions,
      };
      let socket: SockJSLike;
      try {
        socket = new SockJS(url, null, options);
      } catch (err) {
        // Report on the next tick so the client has finished opening before it hears of failure.
        setTimeout(() => events.error(err), 0);
        return { send: noop, close: noop };
      }
      socket.onopen = () => events.open();
      socket.onmessage = (ev) => events.data(ev.data);
      socket.onerror = () => events.error(new Error('SockJS connection error'));
      socket.onclose = (ev) => {
        // 1000 is a normal close; anything above (1002 when /info failed, 1006 when the server
        // lost the session, 2000 when every transport failed, 3000+ when an application chose a
        // code) is reported as an error first, as happn-primus's client did.
        if (ev && typeof ev.code === 'number' && ev.code > 1000) events.error(ev);
        events.end();
      };
      return {
        socket,
        send(payload) {
          // sockjs-client throws while connecting; the client only sends once open anyway.
          if (socket.readyState !== OPEN) return;
          try {
            socket.send(asText(payload));
          } catch (err) {
            events.error(err);
          }
        },
        close() {
          socket.onopen = socket.onerror = noop;
          socket.onmessage = noop;
          socket.onclose = noop;
          try {
            socket.close();
          } catch {
            // sockjs-client throws when it already closed itself; it is gone either way.
          }
        },
      };
    },
  };
}
