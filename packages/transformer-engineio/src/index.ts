import { defineTransformer } from '@primus/core/contract';
import { browser, client } from './client';
import { createServer } from './server';

import type { EngineIoConnectionSocket } from './server';

export { DRAIN_TIMEOUT, EngineIoConnectionSocket } from './server';
/** @deprecated Renamed `EngineIoConnectionSocket`. */
export type EngineIoSparkSocket = EngineIoConnectionSocket;
export { engineioTransport, type EngineSocketClass } from './transport';

/**
 * The engine.io transformer: engine.io 6 on the server (long-polling with an upgrade to
 * WebSocket, and protocol 3 clients such as happn-primus's), engine.io-client 6 in Node and in
 * browsers. `new Primus(server, { transformer: 'engine.io' })` loads it by name.
 */
export const engineio = defineTransformer({
  name: 'engine.io',
  server: createServer,
  client,
  browser,
});

export default engineio;
