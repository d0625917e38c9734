import { Agent, type AgentOptions } from 'node:http';
import { Socket, type SocketOptions } from 'engine.io-client';
import type { ClientTransport, TransportHost } from '@primus/client';
import { source } from '../generated/browser';
import { engineioTransport, type EngineSocketClass } from './transport';

/** `user:pass` as written in a URL, percent-decoded. */
function decodeAuth(auth: string): string {
  return auth
    .split(':')
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    })
    .join(':');
}

/**
 * What Node adds to engine.io-client's options: the URL's credentials as an Authorization header
 * (engine.io-client connects by host and port and drops them), and for a `ws+unix:` URL an agent
 * bound to the socket, which its polling requests and its `ws` WebSocket both use.
 */
function nodeOptions(host: TransportHost): Partial<SocketOptions> {
  const user = host.transportOptions as Partial<SocketOptions>;
  const extra: Partial<SocketOptions> = {};
  const { auth, socketPath } = host.url;
  if (auth) extra.extraHeaders = { Authorization: 'Basic ' + Buffer.from(decodeAuth(auth)).toString('base64'), ...user.extraHeaders };
  // An Agent adds its own options to each request it makes; `socketPath` (missing from
  // AgentOptions' type) sends them to the socket.
  if (socketPath && !user.agent) extra.agent = new Agent({ socketPath } as AgentOptions) as unknown as string;
  return extra;
}

/**
 * The Node client half: engine.io-client 6 (XMLHttpRequest polling and `ws`); `options.transport`
 * goes to its `Socket`. It reaches Unix domain sockets (`ws+unix:///path/to.sock`).
 */
export const client: ClientTransport = engineioTransport(Socket as unknown as EngineSocketClass, nodeOptions);

/** The browser client half: the same transport over engine.io-client's browser build, bundled into `primus.js`. */
export const browser = (): string => `(${source}).transport`;
