import websocket from 'websocket';
import type { IClientConfig } from 'websocket';
import type { ClientRequestArgs } from 'node:http';
import { websocketTransport, type ClientTransport } from '@primus/client';
import { source } from '../generated/browser';

const { w3cwebsocket: W3CWebSocket } = websocket;

/** What the client's `transport` option may hold; each part goes to WebSocket-Node's client. */
export interface TransportOptions {
  /** The `Origin` header. */
  origin?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Options for Node's `http.request()` / `https.request()`. */
  requestOptions?: ClientRequestArgs;
  /** WebSocket-Node client settings; frame and message limits default to 64 MiB here. */
  config?: IClientConfig;
}

// WebSocket-Node's client refuses frames over 64 KiB and messages over 1 MiB by default; a Primus
// client takes whatever its server sends.
const LIMIT = 64 * 1024 * 1024;

type SocketFactory = NonNullable<Parameters<typeof websocketTransport>[0]>;

/** The Node client half: the shared WebSocket transport over WebSocket-Node's W3C-style client. */
export const client: ClientTransport = websocketTransport((url, host) => {
  const options = (host.transportOptions ?? {}) as TransportOptions;
  const config = { maxReceivedFrameSize: LIMIT, maxReceivedMessageSize: LIMIT, ...options.config };
  return new W3CWebSocket(url, undefined, options.origin, options.headers, options.requestOptions, config) as unknown as ReturnType<SocketFactory>;
}, 'websocket-node');

/** The browser half: src/browser.ts, bundled into `source` at build time by primus-bundle-browser. */
export const browser = (): string => `(${source}).transport`;
