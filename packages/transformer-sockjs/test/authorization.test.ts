import { expect } from '@jest/globals';
import type { Spark } from '@primus/core';
import { AUTHORISED, authorizationSuite, expectRefused, rawRequest, startServer, waitFor, type SessionCheck } from '@primus/transformer-test-suite';
import sockjs from '../src';
import { framework, sessions } from './framework';

const SECRET = 'for the authorised client only';
const form = { 'Content-Type': 'application/x-www-form-urlencoded' };

/** A streaming or JSONP receive with a victim's session id and no credentials leaks nothing. */
const receiveWith =
  (transport: string): SessionCheck =>
  async (g, v) => {
    v.spark.write(SECRET);
    const [path, search = ''] = transport.split('?');
    const method = path === 'xhr_streaming' ? 'POST' : 'GET';
    const stolen = await rawRequest(g.server.port, { method, path: `/primus/000/${v.vars.session}/${path}?${search}` }, 3000);
    const outcome = expectRefused(stolen);
    const rightful = await rawRequest(g.server.port, sessions.receive(v.vars, `${AUTHORISED}&ping=false`), 5000);
    expect(rightful.body).toContain(JSON.stringify(SECRET).slice(1, -1));
    return outcome;
  };

authorizationSuite({
  transformer: sockjs,
  capabilities: { polling: true },
  client: { websockets: false },
  unauthorisedClient: { transport: { timeout: 3000 } },
  requests: {
    info: { method: 'GET', path: '/primus/info' },
    'iframe page': { method: 'GET', path: '/primus/iframe.html' },
    'chunking test': { method: 'POST', path: '/primus/chunking_test' },
    'xhr polling (new session)': { method: 'POST', path: '/primus/000/newsess1/xhr' },
    'xhr-streaming (new session)': { method: 'POST', path: '/primus/000/newsess2/xhr_streaming' },
    'eventsource (new session)': { method: 'GET', path: '/primus/000/newsess3/eventsource' },
    'htmlfile (new session)': { method: 'GET', path: '/primus/000/newsess4/htmlfile?c=cb' },
    'jsonp (new session)': { method: 'GET', path: '/primus/000/newsess5/jsonp?c=cb' },
  },
  upgrades: {
    'WebSocket upgrade (session URL)': '/primus/000/newsess6/websocket',
    'raw WebSocket upgrade': '/primus/websocket',
  },
  sessions,
  sessionChecks: {
    "xhr_streaming with an authorised client's session id": receiveWith('xhr_streaming'),
    "eventsource with an authorised client's session id": receiveWith('eventsource'),
    "htmlfile with an authorised client's session id": receiveWith('htmlfile?c=cb'),
    "jsonp with an authorised client's session id": receiveWith('jsonp?c=cb'),
    "jsonp_send with an authorised client's session id": async (g, v) => {
      const outcome = expectRefused(
        await rawRequest(g.server.port, {
          method: 'POST',
          path: `/primus/000/${v.vars.session}/jsonp_send`,
          headers: form,
          body: `d=${encodeURIComponent(JSON.stringify(['"injected"']))}`,
        }),
      );
      expect(v.heard).toEqual([]);
      return outcome;
    },
  },
  checks: {
    'send whose path is written with backslashes (hook that refuses sends by path)': async () => {
      // sockjs reads backslashes in a path as slashes; the hook must see the path that way too.
      const server = await startServer({
        transformer: sockjs,
        authorization: (req, done) => (req.uri.pathname.endsWith('/xhr_send') ? done(Object.assign(new Error('read only'), { statusCode: 403 })) : done()),
      });
      try {
        const heard: unknown[] = [];
        server.primus.on('connection', (spark: Spark) => spark.on('data', (data: unknown) => heard.push(data)));
        const { session } = await framework.open(server.port, 'default', 'ping=false');
        await waitFor(() => server.primus.connected === 1, 5000, 'the session');
        for (const path of [`/primus/000/${session}/xhr_send`, `/primus\\000\\${session}\\xhr_send`]) {
          const res = await rawRequest(server.port, { method: 'POST', path, body: '["\\"sneaked in\\""]' });
          expect({ path, status: res.status, body: res.body }).toEqual({ path, status: 403, body: '{"error":"read only"}' });
        }
        expect(heard).toEqual([]);
        return 'refused: 403 from the hook, backslashes or not';
      } finally {
        await server.close();
      }
    },
  },
});
