// One server of the benchmark cluster: Primus with @primus/redis, or Socket.IO with its Redis
// adapter. A message from a client asks for a broadcast of that same message to everyone, so the
// load generator can time a broadcast from its trigger to its last delivery.
import http from 'node:http';
import { exitWithParent, load, reply } from './lib.mjs';

const { stack, redisUrl, id } = JSON.parse(process.argv[2]);
exitWithParent();

const server = http.createServer((_req, res) => res.end());
let ready;

if (stack === 'primus' || stack === 'primus-recovery') {
  const { Primus } = load('@primus/core');
  const websockets = load('@primus/transformer-ws').default;
  const { redisCluster } = load('@primus/redis');
  // primus-recovery: connection-state recovery on, its sessions in Redis (the plugin's default).
  const recovery = stack === 'primus-recovery';
  const primus = new Primus(server, { transformer: websockets, recovery, plugin: { cluster: redisCluster({ url: redisUrl, id }) } });
  primus.on('connection', (spark) => spark.on('data', (data) => primus.write(data)));
  ready = () => primus.cluster.ready(10_000);
} else if (stack === 'socket.io') {
  const { Server } = load('socket.io');
  const { createAdapter } = load('@socket.io/redis-adapter');
  const { Redis } = load('ioredis');
  const pub = new Redis(redisUrl);
  const sub = pub.duplicate();
  const io = new Server(server, { transports: ['websocket'] });
  io.adapter(createAdapter(pub, sub));
  io.on('connection', (socket) => socket.on('b', (data) => io.emit('m', data)));
  ready = () => Promise.all([pub, sub].map((c) => (c.status === 'ready' ? null : new Promise((r) => c.once('ready', r)))));
} else {
  throw new Error(`unknown stack "${stack}"`);
}

// The CPU this process has used so far, for the cost per delivery.
process.on('message', (msg) => {
  if (msg?.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    reply({ type: 'cpu', ms: (user + system) / 1000 });
  }
});

server.listen(0, '127.0.0.1', async () => {
  await ready();
  reply({ type: 'listening', port: server.address().port });
});
