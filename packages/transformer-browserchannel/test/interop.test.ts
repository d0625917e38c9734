import { expect, it } from '@jest/globals';
import { happnInterop, interopSuite, once, waitFor } from '@primus/transformer-test-suite';
import { implementations, type ServerOptions } from './happn';

// Wire compatibility with happn-primus 6.0.1's browserchannel transformer: its client (browserchannel
// 2.0's Node BCSocket) against our server, and our client against its server (browserchannel 2.0's
// middleware).

const TIMEOUT = 20000;

interopSuite<ServerOptions>({
  ...implementations,
  capabilities: {
    // happn-primus's client sends no ping/pong with BrowserChannel, so the server falls back to
    // 25000; ours sends them.
    happnClientSendsHeartbeat: false,
    // BrowserChannel's client reports the server's `stop` as an error ("Stopped by server"), as
    // it does against happn-primus's server, which stops its sessions the same way.
    happnClientErrorsOnServerEnd: true,
    // BrowserChannel's session id.
    idPattern: /^[0-9a-z]{1,8}$/,
  },
  tests({ server, connect }) {
    it(
      'ends the spark at once when the client ends, through an authorized terminate request',
      async () => {
        const seen: string[] = [];
        const target = await server({
          authorization(req, done) {
            const url = new URL(req.url ?? '/', 'http://localhost');
            seen.push(`${req.method} ${url.pathname} ${url.searchParams.get('TYPE') ?? url.searchParams.get('MODE') ?? ''}`.trim());
            done(url.searchParams.get('token') === 'secret' ? undefined : Object.assign(new Error('nope'), { statusCode: 403 }));
          },
        });
        const sparkP = happnInterop.nextSpark(target);
        const client = connect(target, {}, 'token=secret');
        await once(client, 'open');
        const spark = await sparkP;
        await waitFor(() => seen.includes('GET /primus/bind xmlhttp'), 5000, 'the back channel');
        const ended = once(spark, 'end', 5000);
        client.end();
        await ended;
        expect(new Set(seen)).toEqual(
          new Set(['GET /primus/test init', 'GET /primus/test xmlhttp', 'POST /primus/bind', 'GET /primus/bind xmlhttp', 'GET /primus/bind terminate']),
        );
      },
      TIMEOUT,
    );
  },
});
