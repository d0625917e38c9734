import { defineTransformer } from '@primus/core/contract';
import { browser, client } from './client';
import { createServer } from './server';

/**
 * The faye transformer: faye-websocket on the server and in Node clients, the native WebSocket in
 * browsers. `new Primus(server, { transformer: 'faye' })` loads it by name.
 */
export const faye = defineTransformer({
  name: 'faye',
  server: createServer,
  client,
  browser,
});

export default faye;
