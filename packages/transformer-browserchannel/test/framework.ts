import { randomBytes } from 'node:crypto';
import { expect } from '@jest/globals';
import { answerOf, rawRequest, type Framework, type SessionAccess } from '@primus/transformer-test-suite';
import browserchannel from '../src';

const form = { 'Content-Type': 'application/x-www-form-urlencoded' };

/** BrowserChannel sessions by hand, for the framework-input and authorization suites. */
export const framework: Framework = {
  transformer: browserchannel,
  bystander: {},
  async open(port, _kind, query) {
    const a = randomBytes(8).toString('hex');
    const res = await rawRequest(port, { method: 'POST', path: `/primus/bind?VER=8&RID=1000&CVER=1&a=${a}&${query}`, headers: form, body: 'count=0' });
    return { SID: answerOf(res, 'a BrowserChannel session', /\["c","([^"]+)"/)[1]!, a };
  },
  async knows(port, vars, query) {
    const res = await rawRequest(port, { method: 'POST', path: `/primus/bind?VER=8&SID=${vars.SID}&RID=1001&a=${vars.a}&${query}`, headers: form, body: 'count=0' });
    return !res.body.includes('Unknown SID');
  },
  // BrowserChannel has no WebSocket.
  frame: (message) => message,
  shortenTimeout(socket) {
    // browserchannel closes a session that has had no back channel for sessionTimeoutInterval
    // (30 s), read from its options object whenever the timer is armed.
    const session = (socket as unknown as { session: { options: { sessionTimeoutInterval: number } } }).session;
    session.options.sessionTimeoutInterval = 2000;
  },
};

/** Sending and receiving on a BrowserChannel session by hand. */
export const sessions: SessionAccess = {
  framework,
  send: (v, q, m) => ({
    method: 'POST',
    path: `/primus/bind?VER=8&SID=${v.SID}&RID=1001&AID=0&a=${v.a}&${q}`,
    headers: form,
    body: `count=1&ofs=0&req0__S=${encodeURIComponent(JSON.stringify(m))}`,
  }),
  receive: (v, q) => ({ method: 'GET', path: `/primus/bind?VER=8&SID=${v.SID}&RID=rpc&CI=1&AID=0&TYPE=xmlhttp&a=${v.a}&${q}` }),
  foreign(res) {
    expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: '<html><body><h1>Unknown SID</h1></body></html>' });
    return 'not reachable: 400 Unknown SID (sessions are per server)';
  },
};
