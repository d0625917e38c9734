// Primus 8.0.9 with its websockets transformer (on ws 8), default options: its server-driven
// heartbeat stays on, and the load generators answer its pings.
import http from 'node:http';
import Primus from 'primus';
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
