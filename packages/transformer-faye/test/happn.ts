import http from 'node:http';
import { compile } from '@primus/client';
import json from '@primus/parser-json';
import { happnInterop } from '@primus/transformer-test-suite';
import faye from '../src';
import { client as fayeClient } from '../src/client';

// happn-primus ships no types and is CommonJS only; it brings its own faye-websocket 0.11.
const HappnPrimus = require('happn-primus') as happnInterop.HappnPrimusModule;

/**
 * happn-primus's own Node client for its faye transformer (faye-websocket's Client, as Node 20 has
 * no global WebSocket), compiled once from a server that is never started: the getter compiles
 * the client in a vm on every access.
 */
export const HappnSocket = new HappnPrimus(http.createServer(), { transformer: 'faye' }).Socket;

/** Our Node client for a foreign server at `/primus` that speaks JSON. */
export const OurSocket = compile({ transport: fayeClient, parser: json, pathname: '/primus' }) as unknown as happnInterop.ClientClass;

/** Start happn-primus 6.0.1 with the faye transformer on a random port. */
export const startHappn = (options: happnInterop.ServerOptions = {}) => happnInterop.startHappn(HappnPrimus, { transformer: 'faye', ...options });

/** Start our server with the faye transformer on a random port. */
export const startOurs = (options: happnInterop.ServerOptions = {}) => happnInterop.startOurs(faye, options);

/** Both implementations' servers and clients, as the interop suite takes them. */
export const implementations = { startOurs, startHappn, HappnClient: HappnSocket, OurClient: OurSocket };
