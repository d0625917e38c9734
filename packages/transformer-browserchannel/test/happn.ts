import type http from 'node:http';
import { compile } from '@primus/client';
import json from '@primus/parser-json';
import { happnInterop } from '@primus/transformer-test-suite';
import browserchannel from '../src';
import { client as browserchannelClient } from '../src/client';

/** Server options both implementations understand. */
export interface ServerOptions extends happnInterop.ServerOptions {
  authorization?: (req: http.IncomingMessage & { query: Record<string, unknown> }, done: (err?: Error) => void) => void;
}

// happn-primus ships no types and is CommonJS only; it brings its own browserchannel 2.0.
const HappnPrimus = require('happn-primus') as happnInterop.HappnPrimusModule;

/**
 * happn-primus's own Node client for its browserchannel transformer (browserchannel 2.0's Node
 * BCSocket), compiled once for servers at `/primus` that speak JSON.
 */
export const HappnSocket = HappnPrimus.createSocket({ transformer: 'browserchannel', pathname: '/primus' });

/** Our Node client for a foreign server at `/primus` that speaks JSON. */
export const OurSocket = compile({ transport: browserchannelClient, parser: json, pathname: '/primus' }) as unknown as happnInterop.ClientClass;

/** Start happn-primus 6.0.1 with the browserchannel transformer on a random port. */
export function startHappn(options: ServerOptions = {}): Promise<happnInterop.Server> {
  return happnInterop.startHappn(HappnPrimus, { transformer: 'browserchannel', ...options }, (primus) => {
    // browserchannel 2.0's middleware, with `close()` for its sessions: happn-primus never closes
    // them, and their 30 s timeouts would outlive the test.
    const service = primus.transformer.service as { close(): void };
    return () => service.close();
  });
}

/** Start our server with the browserchannel transformer on a random port. */
export const startOurs = (options: ServerOptions = {}) => happnInterop.startOurs(browserchannel, options);

/** Both implementations' servers and clients, as the interop suite takes them. */
export const implementations = { startOurs, startHappn, HappnClient: HappnSocket, OurClient: OurSocket };
