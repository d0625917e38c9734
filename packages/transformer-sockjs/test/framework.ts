import { randomBytes } from 'node:crypto';
import { expect } from '@jest/globals';
import { answerOf, rawRequest, type Framework, type SessionAccess } from '@primus/transformer-test-suite';
import sockjs from '../src';

/** SockJS sessions by hand, for the framework-input and authorization suites. */
export const framework: Framework = {
  transformer: sockjs,
  bystander: { websockets: false },
  async open(port, _kind, query) {
    const session = randomBytes(6).toString('hex');
    const res = await rawRequest(port, { method: 'POST', path: `/primus/000/${session}/xhr?${query}` });
    answerOf(res, 'a sockjs session', /^o\n$/);
    return { session };
  },
  async knows(port, vars, query) {
    const res = await rawRequest(port, { method: 'POST', path: `/primus/000/${vars.session}/xhr_send?${query}`, body: '[]' });
    return res.status !== 404;
  },
  frame: (message) => JSON.stringify([message]),
  // sockjs's disconnect_delay (5 s) is short enough to wait for.
};

/** Sending and receiving on a SockJS xhr session by hand. */
export const sessions: SessionAccess = {
  framework,
  send: (v, q, m) => ({ method: 'POST', path: `/primus/000/${v.session}/xhr_send?${q}`, body: JSON.stringify([JSON.stringify(m)]) }),
  receive: (v, q) => ({ method: 'POST', path: `/primus/000/${v.session}/xhr?${q}` }),
  foreign(res) {
    expect({ status: res.status, body: res.body }).toEqual({ status: 404, body: '404 Error: Page not found\n' });
    return 'not reachable: 404 (session ids are namespaced per server)';
  },
};
