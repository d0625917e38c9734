import { expect } from '@jest/globals';
import { authorizationSuite, expectRefused, rawRequest } from '@primus/transformer-test-suite';
import browserchannel from '../src';
import { sessions } from './framework';

const form = { 'Content-Type': 'application/x-www-form-urlencoded' };

authorizationSuite({
  transformer: browserchannel,
  capabilities: { polling: true },
  requests: {
    'test request (init)': { method: 'GET', path: '/primus/test?VER=8&MODE=init' },
    'test request (buffering proxy)': { method: 'GET', path: '/primus/test?VER=8&TYPE=xmlhttp' },
    'bind (new session)': { method: 'POST', path: '/primus/bind?VER=8&RID=1000&a=x', headers: form, body: 'count=0' },
  },
  sessions,
  sessionChecks: {
    "terminate with an authorised client's session id": async (g, v) => {
      const outcome = expectRefused(await rawRequest(g.server.port, { method: 'GET', path: `/primus/bind?VER=8&SID=${v.vars.SID}&RID=1001&TYPE=terminate&a=${v.vars.a}` }));
      expect(g.server.primus.spark(v.spark.id)).toBe(v.spark);
      return outcome;
    },
  },
});
