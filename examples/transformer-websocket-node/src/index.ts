import { defineTransformer } from '@primus/core/contract';
import { browser, client } from './client';
import { createServer } from './server';

export type { TransportOptions } from './client';

/**
 * The `websocket-node` transformer: WebSocket-Node (the `websocket` package) on the server and in
 * Node clients, the browser's own WebSocket in pages. `new Primus(server, { transformer:
 * 'websocket-node' })` once this package is installed, or pass the object.
 */
export const websocketNode = defineTransformer({
  name: 'websocket-node',
  server: createServer,
  client,
  browser,
});

export default websocketNode;
