import io from 'primus-socket.io-client';
import type { ClientTransport } from '@primus/client';
import { source } from '../generated/browser';
import { ioClientSource } from '../generated/io-client';
import { socketioTransport, type IoClient } from './transport';

/**
 * The Node client half: primus-socket.io-client, whose Node build connects with `ws` and polls with
 * `xmlhttprequest`. `options.transport` is passed to its `io.Socket` as options.
 */
export const client: ClientTransport = socketioTransport(io as unknown as IoClient);

/**
 * The browser client half: the shared transport over primus-socket.io-client's browser build
 * (WebSocket and XHR polling), both bundled, without a global `io`.
 */
export const browser = (): string => `(${source}).socketioTransport(${ioClientSource})`;
