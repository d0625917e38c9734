import { defineTransformer } from '@primus/core/contract';
import { browser, client } from './client';
import { createServer } from './server';

/** The myframework transformer: `new Primus(server, { transformer: myframework })`. */
export const myframework = defineTransformer({
  name: 'myframework',
  server: createServer,
  client,
  browser,
});

export default myframework;
