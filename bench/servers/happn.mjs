// happn-primus 6.0.1, the implementation @primus/core replaces, with its websockets transformer
// (on ws 2.x, the version it was built for).
import http from 'node:http';
import Primus from 'happn-primus';
import { listen, serve } from './common.mjs';

serve(async () => {
  const server = http.createServer();
  const primus = new Primus(server, { transformer: 'websockets' });
  primus.on('connection', (spark) => {
    spark.on('data', (data) => spark.write(data));
  });
  return {
    port: await listen(server),
    broadcast: (message) => primus.write(message),
  };
});
