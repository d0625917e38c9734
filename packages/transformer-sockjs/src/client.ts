import SockJS from 'sockjs-client';
import type { ClientTransport } from '@primus/client';
import { source } from '../generated/browser';
import { sockjsTransport, type SockJSConstructor } from './transport';

/**
 * The Node client half: sockjs-client's Node build, which brings its own HTTP, EventSource and
 * WebSocket (faye-websocket) implementations and needs no browser globals. `options.transport` is
 * passed to sockjs-client as its options (`transports`, `timeout`, `transportOptions`, ...).
 */
export const client: ClientTransport = sockjsTransport(SockJS as unknown as SockJSConstructor);

/** The browser client half: sockjs-client's browser build, bundled. */
export const browser = (): string => `(${source}).transport`;
