// ws 8 with nothing on top: the ceiling for anything built on it. It does the work any JSON
// application does per message (decode, encode), so the gap to it is the framework's own cost.
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { listen, serve } from './common.mjs';

serve(async () => {
  const server = http.createServer((req, res) => {
    res.statusCode = 426;
    res.end();
  });
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    ws.on('message', (data) => ws.send(JSON.stringify(JSON.parse(data))));
  });
  return {
    port: await listen(server),
    // The hand-written broadcast: encode once, send the same string to every client.
    broadcast(message) {
      const payload = JSON.stringify(message);
      for (const ws of wss.clients) ws.send(payload);
    },
  };
});
