import { expect } from '@jest/globals';
import { answerOf, rawRequest, waitFor, type Framework, type SessionAccess, type WebSocketPath } from '@primus/transformer-test-suite';
import engineio from '../src';

/** engine.io sessions by hand, for the framework-input and authorization suites. */
export const framework: Framework = {
  transformer: engineio,
  bystander: { websockets: false },
  async open(port, kind, query) {
    const eio = kind === 'eio3' ? 'EIO=3&transport=polling&b64=1' : 'EIO=4&transport=polling';
    const res = await rawRequest(port, { method: 'GET', path: `/primus/?${eio}&${query}` });
    return { sid: answerOf(res, 'an engine.io session', /"sid":"([^"]+)"/)[1]! };
  },
  async knows(port, vars, query) {
    const res = await rawRequest(port, { method: 'GET', path: `/primus/?EIO=4&transport=polling&sid=${vars.sid}&${query}` }, 1000);
    return !res.body.includes('Session ID unknown');
  },
  frame: (message) => `4${message}`,
  shortenTimeout(socket) {
    // engine.io pings protocol 4 clients every pingInterval and drops those that do not answer
    // within pingTimeout (25 s + 20 s by default), reading both when it schedules them.
    const eio = (socket as unknown as { socket: { server: { opts: { pingInterval: number; pingTimeout: number } } } }).socket;
    eio.server.opts.pingInterval = 1000;
    eio.server.opts.pingTimeout = 3000;
  },
};

/** Sending and receiving on an engine.io polling session by hand. */
export const sessions: SessionAccess = {
  framework,
  send: (v, q, m) => ({ method: 'POST', path: `/primus/?EIO=4&transport=polling&sid=${v.sid}&${q}`, body: `4${JSON.stringify(m)}` }),
  receive: (v, q) => ({ method: 'GET', path: `/primus/?EIO=4&transport=polling&sid=${v.sid}&${q}` }),
  foreign(res) {
    expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: '{"code":1,"message":"Session ID unknown"}' });
    return 'not reachable: 400 Session ID unknown (sessions are per server)';
  },
};

/** engine.io's WebSocket: a session may start on it without a polling handshake. */
export const websocket: WebSocketPath = {
  path: async (_server, query) => `/primus/?EIO=4&transport=websocket&${query}`,
  ready: (ws) => waitFor(() => ws.messages.some((m) => m.startsWith('0{')) || ws.isClosed, 10000, 'the engine.io open packet'),
  wrap: (message) => `4${message}`,
  unwrap: (text) => (text.startsWith('4') ? text.slice(1) : undefined),
};
