import { createRequire } from 'node:module';
import { compile } from '@primus/client';
import json from '@primus/parser-json';
import { happnInterop } from '@primus/transformer-test-suite';
import engineio from '../src';
import { client as engineioClient } from '../src/client';

/** The engine.io 1.6 server behind happn-primus's transformer, as far as these tests reach into it. */
interface Engine16 {
  pingInterval: number;
  pingTimeout: number;
  clients: Record<string, { onClose(reason: string): void; transport: { shouldClose?: (() => void) | null } }>;
}

/** happn-primus's server, as far as these tests reach into it. */
export interface HappnServer extends happnInterop.Server {
  /** The engine.io 1.6 server behind its transformer. */
  engine: Engine16;
}

// happn-primus ships no types and is CommonJS only.
const HappnPrimus = require('happn-primus') as happnInterop.HappnPrimusModule;
const happnRequire = createRequire(require.resolve('happn-primus'));

/**
 * happn-primus's own Node client for engine.io, handed engine.io-client 1.6 (protocol 3) as the
 * `eio` global: the sandbox's own `require('engine.io-client')` would find engine.io-client 6 in
 * this repository.
 */
export const HappnSocket = happnInterop.compileHappnClient(HappnPrimus, happnRequire('load') as happnInterop.LoadModule, 'engine.io', {
  eio: happnRequire('engine.io-client'),
});

/** Our Node client, compiled for a foreign server at `/primus` that speaks JSON. */
export const OurSocket = compile({ transport: engineioClient, parser: json, pathname: '/primus' }) as unknown as happnInterop.ClientClass;

/** Start happn-primus 6.0.1 with the engine.io transformer (engine.io 1.6) on a random port. */
export async function startHappn(options: happnInterop.ServerOptions = {}): Promise<HappnServer> {
  let engine!: Engine16;
  const started = await happnInterop.startHappn(HappnPrimus, { transformer: 'engine.io', ...options }, (primus) => {
    engine = primus.transformer.service as Engine16;
    // A session that never polls again (our client cannot read protocol 3 polling) stays in
    // engine.io 1.6 until its ping timeout, and closing its polling transport arms a 30 s wait
    // for the next poll. Finish both so no timer outlives the test.
    return () => {
      for (const client of Object.values(engine.clients)) {
        client.onClose('forced close');
        const pending = client.transport.shouldClose;
        client.transport.shouldClose = null;
        pending?.();
      }
    };
  });
  return { ...started, engine };
}

/** Start our server with the engine.io transformer on a random port. */
export const startOurs = (options: happnInterop.ServerOptions = {}) => happnInterop.startOurs(engineio, options);

/** Both implementations' servers and clients, as the interop suite takes them. */
export const implementations = { startOurs, startHappn, HappnClient: HappnSocket, OurClient: OurSocket };
