import { Socket } from 'engine.io-client';
import type { ClientTransport } from '@primus/client';
import { source } from './generated/browser';
import { engineioTransport, type EngineSocketClass } from './transport';

/** The Node client half: engine.io-client 6 (XMLHttpRequest polling and `ws`); `options.transport` goes to its `Socket`. */
export const client: ClientTransport = engineioTransport(Socket as unknown as EngineSocketClass);

/** The browser client half: the same transport over engine.io-client's browser build, bundled into `primus.js`. */
export const browser = (): string => `(${source}).transport`;
