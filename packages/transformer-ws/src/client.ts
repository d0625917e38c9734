import { Agent, type AgentOptions } from 'node:http';
import { WebSocket } from 'ws';
import { websocketTransport, type ClientTransport, type WebSocketFactory } from '@primus/client';

/** `ws` with `options.transport`; a `ws+unix:` URL connects through an agent bound to its socket. */
const wsSocket: WebSocketFactory = (url, host) => {
  const { socketPath } = host.url;
  // An Agent adds its own options to each request it makes; `socketPath` (missing from
  // AgentOptions' type) sends them to the socket.
  const options = socketPath && !host.transportOptions.agent ? { ...host.transportOptions, agent: new Agent({ socketPath } as AgentOptions) } : host.transportOptions;
  return new WebSocket(url, [], options) as unknown as ReturnType<WebSocketFactory>;
};

/**
 * The Node client half: the shared WebSocket transport on top of `ws`; `options.transport` goes to
 * `ws`. It reaches Unix domain sockets (`ws+unix:///path/to.sock`).
 */
export const client: ClientTransport = { ...websocketTransport(wsSocket), unixSocket: true };

/** The browser client half: the client library's WebSocket transport over the browser's WebSocket. */
export const browser = (): string => '(lib) => lib.websocketTransport()';
