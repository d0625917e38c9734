import { defineTransformer } from '@primus/core/contract';
import { browser, client } from './client';
import { createServer } from './server';

/**
 * The SockJS transformer: sockjs 0.3 on the server, sockjs-client 1.6 in Node clients and
 * browsers, with WebSocket, streaming and polling transports. `new Primus(server, { transformer:
 * 'sockjs' })` loads it by name.
 */
export const sockjs = defineTransformer({
  name: 'sockjs',
  // The framework carries text only: the core sends strings and decodes bytes, and refuses binary parsers.
  textOnly: true,
  server: createServer,
  client,
  browser,
});

export default sockjs;
