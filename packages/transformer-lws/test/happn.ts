import { compile } from '@primus/client';
import json from '@primus/parser-json';
import { happnInterop } from '@primus/transformer-test-suite';
import lws from '../src';
import { client as lwsClient } from '../src/client';

// happn-primus ships no types and is CommonJS only.
const HappnPrimus = require('happn-primus') as happnInterop.HappnPrimusModule;

/**
 * happn-primus's own Node client, compiled once: the getter recompiles it in a vm on every
 * access, and the class talks to any server at `/primus` that speaks JSON.
 */
export const HappnSocket = HappnPrimus.createSocket({ transformer: 'websockets', pathname: '/primus' });

/** Our Node client, compiled for a foreign server at `/primus` that speaks JSON. */
export const OurSocket = compile({ transport: lwsClient, parser: json, pathname: '/primus' }) as unknown as happnInterop.ClientClass;

/** Start happn-primus 6.0.1 with the websockets transformer on a random port. */
export const startHappn = (options: happnInterop.ServerOptions = {}) => happnInterop.startHappn(HappnPrimus, { transformer: 'websockets', ...options });

/** Start our server with the lws transformer on a random port. */
export const startOurs = (options: happnInterop.ServerOptions = {}) => happnInterop.startOurs(lws, options);

/** Both implementations' servers and clients, as the interop suite takes them. */
export const implementations = { startOurs, startHappn, HappnClient: HappnSocket, OurClient: OurSocket };
