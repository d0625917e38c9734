import { defineTransformer } from '@primus/core/contract';
import { browser, client } from './client';
import { createServer } from './server';

/**
 * The websockets transformer: `ws` on the server, `ws` in Node clients and the native WebSocket in
 * browsers. `new Primus(server, { transformer: 'websockets' })` loads it by name.
 */
export const websockets = defineTransformer({
  name: 'websockets',
  server: createServer,
  client,
  browser,
});

export default websockets;
