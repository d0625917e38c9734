// Entry of the browser bundle embedded in primus.js: sockjs-client's browser build (picked through
// its package.json "browser" map) behind the shared SockJS transport.
import SockJS from 'sockjs-client';
import { sockjsTransport, type SockJSConstructor } from './transport';

/** The browser client half. */
export const transport = sockjsTransport(SockJS as unknown as SockJSConstructor);
