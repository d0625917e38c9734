import { expect } from '@jest/globals';
import { answerOf, rawRequest, waitFor, type Framework, type SessionAccess, type WebSocketPath } from '@primus/transformer-test-suite';
import socketio from '../src';

/** socket.io 0.9 sessions by hand, for the framework-input and authorization suites. */
export const framework: Framework = {
  transformer: socketio,
  bystander: { websockets: false },
  async open(port, kind, query) {
    const res = await rawRequest(port, { method: 'GET', path: `/primus/1/?${query}` });
    const sid = answerOf(res, 'a socket.io handshake', /^([\w-]{20}):/)[1]!;
    if (kind !== 'handshake') {
      // The first poll connects the session: socket.io answers it with the connect packet.
      const poll = await rawRequest(port, { method: 'GET', path: `/primus/1/xhr-polling/${sid}?${query}` });
      answerOf(poll, 'a socket.io session', /^1::/);
    }
    return { sid };
  },
  async knows(port, vars, query) {
    const res = await rawRequest(port, { method: 'GET', path: `/primus/1/xhr-polling/${vars.sid}?${query}` }, 1000);
    return !res.body.includes('7:::1+0');
  },
  frame: (message) => `3:::${message}`,
  shortenTimeout(socket) {
    // socket.io ends a polling session whose client has not polled again within its
    // `close timeout` (60 s), read from the Manager's settings when the timer is armed.
    const io = (socket as unknown as { socket: { manager: { set(key: string, value: unknown): void } } }).socket;
    io.manager.set('close timeout', 2);
  },
};

/** Sending and receiving on a socket.io xhr-polling session by hand. */
export const sessions: SessionAccess = {
  framework,
  send: (v, q, m) => ({ method: 'POST', path: `/primus/1/xhr-polling/${v.sid}?${q}`, body: `3:::${JSON.stringify(m)}` }),
  receive: (v, q) => ({ method: 'GET', path: `/primus/1/xhr-polling/${v.sid}?${q}` }),
  foreign(res) {
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: '1' });
    return 'not reachable: answered 200 "1", nothing delivered (transports registry per server)';
  },
};

/** socket.io 0.9's WebSocket: a handshake over HTTP gives the session id, then the WebSocket joins it. */
export const websocket: WebSocketPath = {
  path: async (server, query) => {
    const answer = await rawRequest(server.port, { method: 'GET', path: `/primus/1/?${query}` });
    const sid = /^([\w-]+):/.exec(answer.body)?.[1];
    if (answer.status !== 200 || !sid) throw new Error(`socket.io handshake failed: ${answer.status} ${answer.body}`);
    return `/primus/1/websocket/${sid}?${query}`;
  },
  ready: (ws) => waitFor(() => ws.messages.includes('1::') || ws.isClosed, 10000, 'the socket.io connect packet'),
  wrap: (message) => `3:::${message}`,
  unwrap: (text) => (text.startsWith('3:::') ? text.slice(4) : undefined),
};
