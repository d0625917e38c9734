import { WebSocket } from 'ws';
import { websocketTransport, type ClientTransport } from '@primus/client';
import { source } from '../generated/browser';

// The client half for Node. A framework that is plain WebSocket underneath only needs a socket
// factory; others implement `ClientTransport.connect(host, events)` themselves: build the URL
// with `host.uri({ protocol, query: true })`, pass `host.transportOptions` to the framework's
// client, turn off its own reconnect, and report open/data/error/end through `events`.

/** The Node client half. */
export const client: ClientTransport = websocketTransport(
  (url, host) => new WebSocket(url, [], host.transportOptions) as unknown as ReturnType<Parameters<typeof websocketTransport>[0] & {}>,
  'myframework',
);

/**
 * The browser half: source of an expression that `primus.js` embeds. It evaluates to a function
 * that receives the client library's helpers and returns a ClientTransport; src/browser.ts is
 * bundled into `source` at build time.
 */
export const browser = (): string => `(${source}).transport`;
