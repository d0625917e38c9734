// Entry of the browser bundle embedded in `primus.js`: bundled for the browser, engine.io-client
// resolves to its XMLHttpRequest and native WebSocket transports, with nothing from Node.
import { Socket } from 'engine.io-client';
import { engineioTransport, type EngineSocketClass } from './transport';

/** The engine.io client transport for browsers. */
export const transport = engineioTransport(Socket as unknown as EngineSocketClass);
