import { defineTransformer } from '@primus/core/contract';
import { browser, client } from './client';
import { createServer } from './server';

/**
 * The BrowserChannel transformer: browserchannel 2.x's server middleware, its Node client and its
 * browser client, long polling only. `new Primus(server, { transformer: 'browserchannel' })` loads
 * it by name.
 */
export const browserchannel = defineTransformer({
  name: 'browserchannel',
  // The framework carries text only: the core sends strings and decodes bytes, and refuses binary parsers.
  textOnly: true,
  server: createServer,
  client,
  browser,
});

export default browserchannel;
