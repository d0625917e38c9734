import { WebSocket } from 'ws';
import { websocketTransport, type ClientTransport } from '@primus/client';

/**
 * The Node client half: the wire is plain WebSocket, so the shared WebSocket transport on top of
 * `ws`; `options.transport` goes to `ws`.
 */
export const client: ClientTransport = websocketTransport(
  (url, host) => new WebSocket(url, [], host.transportOptions) as unknown as ReturnType<Parameters<typeof websocketTransport>[0] & {}>,
  'lws',
);

/** The browser client half: the client library's WebSocket transport over the browser's WebSocket. */
export const browser = (): string => "function (lib) { return lib.websocketTransport(undefined, 'lws'); }";
