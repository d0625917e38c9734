import { createRequire } from 'node:module';
import { compile } from '@primus/client';
import json from '@primus/parser-json';
import { happnInterop } from '@primus/transformer-test-suite';
import socketio from '../src';
import { client as socketioClient } from '../src/client';

// happn-primus ships no types and is CommonJS only; it brings its own socket.io 0.9 and
// primus-socket.io-client 2.0.
const HappnPrimus = require('happn-primus') as happnInterop.HappnPrimusModule;
const happnRequire = createRequire(require.resolve('happn-primus'));

/** primus-socket.io-client as happn-primus's client finds it. */
export const happnIo = happnRequire('primus-socket.io-client') as { transports: string[] };

/**
 * happn-primus's own Node client for socket.io, handed primus-socket.io-client as the `io` global:
 * the package is not installed where the sandbox's own `require` would look.
 */
export const HappnSocket = happnInterop.compileHappnClient(HappnPrimus, happnRequire('load') as happnInterop.LoadModule, 'socket.io', { io: happnIo });

/**
 * Make happn-primus's Node client use only `transport` until `restore()` is called. Its client
 * ignores `transport.transports` and always passes socket.io's shared default list (`io.transports`),
 * so the list itself is changed; our client passes its own list and is not affected.
 */
export function pinHappnClient(transport: string): () => void {
  const saved = [...happnIo.transports];
  happnIo.transports.splice(0, happnIo.transports.length, transport);
  return () => void happnIo.transports.splice(0, happnIo.transports.length, ...saved);
}

/** Our Node client for a foreign server at `/primus` that speaks JSON. */
export const OurSocket = compile({ transport: socketioClient, parser: json, pathname: '/primus' }) as unknown as happnInterop.ClientClass;

/** Start happn-primus 6.0.1 with the socket.io transformer (socket.io 0.9) on a random port. */
export const startHappn = (options: happnInterop.ServerOptions = {}) => happnInterop.startHappn(HappnPrimus, { transformer: 'socket.io', ...options });

/** Start our server with the socket.io transformer on a random port. */
export const startOurs = (options: happnInterop.ServerOptions = {}) => happnInterop.startOurs(socketio, options);

/** Both implementations' servers and clients, as the interop suite takes them. */
export const implementations = { startOurs, startHappn, HappnClient: HappnSocket, OurClient: OurSocket };
