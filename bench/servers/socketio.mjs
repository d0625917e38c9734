// Socket.IO 4 limited to its WebSocket transport (no long-polling handshake), default options.
import http from 'node:http';
import { Server } from 'socket.io';
import { listen, serve } from './common.mjs';

serve(async () => {
  const server = http.createServer();
  const io = new Server(server, { transports: ['websocket'], serveClient: false });
  io.on('connection', (socket) => {
    socket.on('m', (data) => socket.emit('m', data));
  });
  return {
    port: await listen(server),
    // io.emit encodes once for all sockets, like primus.write in @primus/core.
    broadcast: (message) => io.emit('m', message),
  };
});
