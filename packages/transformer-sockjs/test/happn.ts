import http from 'node:http';
import { compile } from '@primus/client';
import json from '@primus/parser-json';
import { happnInterop } from '@primus/transformer-test-suite';
import sockjs from '../src';
import { client as sockjsClient } from '../src/client';

/** sockjs 0.3's connection, with its private session. */
interface SockjsConnection extends happnInterop.Emitter {
  _session?: { recv: unknown; readyState: number; didTimeout(): void } | null;
}

// happn-primus ships no types and is CommonJS only; it brings its own sockjs 0.3 and sockjs-client 1.1.
const HappnPrimus = require('happn-primus') as happnInterop.HappnPrimusModule;

/**
 * happn-primus's own Node client for its sockjs transformer (sockjs-client 1.1), for servers at
 * `/primus`. The Socket getter compiles the client in a vm on every access: compile it once, from
 * a server that is never started.
 */
export const HappnSocket = new HappnPrimus(http.createServer(), { transformer: 'sockjs' }).Socket;

/** Our Node client (sockjs-client 1.6) for a foreign server at `/primus` that speaks JSON. */
export const OurSocket = compile({ transport: sockjsClient, parser: json, pathname: '/primus' }) as unknown as happnInterop.ClientClass;

/** Start happn-primus 6.0.1 with the sockjs transformer on a random port. */
export function startHappn(options: happnInterop.ServerOptions = {}): Promise<happnInterop.Server> {
  return happnInterop.startHappn(HappnPrimus, { transformer: 'sockjs', ...options }, (primus) => {
    // happn-primus keeps a polling session its server closed for sockjs's 5 s disconnect_delay,
    // even after destroy(); expire them on close so the test process can exit. (Dropping the
    // sockets first, as close() does, makes sockjs expire the others at once.)
    const sessions = new Set<SockjsConnection>();
    (primus.transformer.service as happnInterop.Emitter).on('connection', (conn: SockjsConnection) => {
      sessions.add(conn);
      conn.once('close', () => sessions.delete(conn));
    });
    return () => {
      for (const conn of sessions) {
        const session = conn._session;
        if (session && !session.recv && session.readyState !== 3) session.didTimeout();
      }
    };
  });
}

/** Start our server with the sockjs transformer on a random port. */
export const startOurs = (options: happnInterop.ServerOptions = {}) => happnInterop.startOurs(sockjs, options);

/** Both implementations' servers and clients, as the interop suite takes them. */
export const implementations = { startOurs, startHappn, HappnClient: HappnSocket, OurClient: OurSocket };
