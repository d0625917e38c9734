// The clients of broadcast-ab.mjs: `count` raw WebSocket connections to each of the given URLs,
// reading and discarding every frame. Reports 'ready' over IPC once all are open.
import WebSocket from 'ws';

const count = Number(process.argv[2]);
const urls = process.argv.slice(3);
let open = 0;
const sockets = [];
for (const url of urls) {
  for (let i = 0; i < count; i++) {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.on('open', () => {
      if (++open === count * urls.length) process.send('ready');
    });
    ws.on('message', () => {});
    ws.on('error', (err) => {
      console.error(`client ${url}: ${err.message}`);
      process.exit(1);
    });
    sockets.push(ws);
  }
}
