// ws 8 with nothing on top: the ceiling for anything built on it. It does the work any JSON
// application does per message (decode, encode), so the gap to it is the framework's own cost.
// `--frame-once true` broadcasts the way a hand-tuned ws application would: encode once, build
// the WebSocket frame once (ws's own `Sender.frame`) and write those bytes to every socket.
import http from 'node:http';
import { Sender, WebSocketServer } from 'ws';
import { arg, busyWait, listen, serve } from './common.mjs';

const FRAME_ONCE = arg('frame-once', 'false') === 'true';

serve(async () => {
  const server = http.createServer((req, res) => {
    res.statusCode = 426;
    res.end();
  });
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  const busy = busyWait();
  wss.on('connection', (ws) => {
    if (busy) {
      ws.on('message', (data) => {
        busy();
        ws.send(JSON.stringify(JSON.parse(data)));
      });
      return;
    }
    ws.on('message', (data) => ws.send(JSON.stringify(JSON.parse(data))));
  });
  return {
    port: await listen(server),
    broadcast: FRAME_ONCE
      ? (message) => {
          // Header and payload built once into one buffer that every socket writes as it is: valid
          // because permessage-deflate is off and ws writes nothing else to these sockets meanwhile.
          const frame = Buffer.concat(Sender.frame(Buffer.from(JSON.stringify(message)), { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }));
          for (const ws of wss.clients) ws._socket.write(frame);
        }
      : // The hand-written broadcast: encode once, send the same string to every client.
        (message) => {
          const payload = JSON.stringify(message);
          for (const ws of wss.clients) ws.send(payload);
        },
  };
});
