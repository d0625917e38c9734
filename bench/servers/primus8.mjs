// Primus 8.0.9 with one of its own transformers (`--transformer`, websockets by default), default
// options: its server-driven heartbeat stays on, and the load generators answer its pings.
// `--ping-interval <ms>` sets the heartbeat interval instead of Primus 8's 30 s default. The
// frameworks come from the package extensions in pnpm-workspace.yaml: ws 8, and the versions of
// engine.io, sockjs, faye-websocket and browserchannel that Primus 8's own test suite uses.
import http from 'node:http';
import Primus from 'primus';
import { arg, listen, serve } from './common.mjs';

serve(async () => {
  const transformer = arg('transformer', 'websockets');
  const pingInterval = arg('ping-interval');
  const server = http.createServer();
  const primus = new Primus(server, { transformer, ...(pingInterval ? { pingInterval: Number(pingInterval) } : {}) });
  primus.on('connection', (spark) => {
    spark.on('data', (data) => spark.write(data));
  });
  return {
    port: await listen(server),
    broadcast: (message) => primus.write(message),
  };
});
