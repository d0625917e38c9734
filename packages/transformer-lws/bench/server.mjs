// One benchmark server: @primus/core with the lws or the websockets transformer (their built
// dist/), an echo on every spark, and a few commands over IPC from bench/run.mjs.
import http from 'node:http';
import { Primus } from '@primus/core';

const [name, compression] = process.argv.slice(2);
const mod = name === 'lws' ? await import('../dist/index.js') : await import('@primus/transformer-ws');
const transformer = mod.default ?? mod;

const server = http.createServer();
const primus = new Primus(server, { transformer, compression: compression === 'compression' });
primus.on('connection', (spark) => {
  spark.on('data', (data) => spark.write(data));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

const commands = {
  /** Memory after a full collection, and the CPU time used so far. */
  measure() {
    globalThis.gc?.();
    globalThis.gc?.();
    const { rss, heapUsed, external } = process.memoryUsage();
    const { user, system } = process.cpuUsage();
    return { rss, heapUsed, external, cpu: (user + system) / 1e6, connected: primus.connected };
  },
  /** Send `count` messages of `size` characters to every spark. */
  broadcast({ count, size }) {
    const text = 'b'.repeat(size);
    for (let i = 0; i < count; i++) primus.write(`${i}:${text}`);
    return { sent: count };
  },
};

process.on('message', async ({ id, command, args }) => {
  process.send({ id, result: await commands[command](args) });
});
process.send({ ready: true, port: server.address().port });
