import { defineTransformer } from '@primus/core/contract';
import { browser, client } from './client';
import { createServer } from './server';

/**
 * The socket.io transformer: a socket.io 0.9 server, primus-socket.io-client in Node clients and
 * browsers, with WebSocket and XHR long-polling transports. `new Primus(server, { transformer:
 * 'socket.io' })` loads it by name.
 */
export const socketio = defineTransformer({
  name: 'socket.io',
  // The framework carries text only: the core sends strings and decodes bytes, and refuses binary parsers.
  textOnly: true,
  server: createServer,
  client,
  browser,
});

export default socketio;
