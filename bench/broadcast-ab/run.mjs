// One broadcast, two ways, over the same sockets: `primus.write()` and the frame-once loop of
// ws/frame-once (the message encoded once, framed once with ws's Sender.frame(), the bytes written
// to every socket), alternated in random order in one process. What it isolates: the server code's
// CPU per delivery, with the sockets, their TCP state and the reading process held equal. A third
// way writes the frame-once loop to sockets of a plain ws server in the same process, read by the
// same client process: how much the sockets alone move the figure.
//
//   node broadcast-ab/run.mjs [--clients 1000] [--rounds 150] [--burst 1]
//
// `--burst n` makes n broadcasts in one tick, as an application that broadcasts several updates
// at once does: the frame-once loop writes each one to every socket, while the websockets
// transformer corks its sockets for the tick and writes the n frames in one system call.
//
// Prints CPU time (user + system, this process) per delivery for each way, from the call to the
// next check phase (so writes and callbacks deferred to the same tick are included): median and
// quartiles over the rounds, and the ratio of the medians.
import { fork } from 'node:child_process';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { Primus } from '@primus/core';
import websockets from '@primus/transformer-ws';
import { Sender, WebSocketServer } from 'ws';

const { values } = parseArgs({
  options: { clients: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '150' }, burst: { type: 'string', default: '1' } },
});
const clients = Number(values.clients);
const rounds = Number(values.rounds);
const burst = Number(values.burst);
if (!(Number.isInteger(burst) && burst >= 1)) throw new Error(`--burst must be a whole number of at least 1, got ${values.burst}`);

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));

const primusServer = http.createServer();
const primus = new Primus(primusServer, { transformer: websockets });
const primusPort = await listen(primusServer);
const plainServer = http.createServer();
const wss = new WebSocketServer({ server: plainServer, perMessageDeflate: false });
const plainPort = await listen(plainServer);

// A long heartbeat, as in the bench, so that no ping lands in a measurement.
const load = fork(new URL('./clients.mjs', import.meta.url), [String(clients), `ws://127.0.0.1:${primusPort}/primus?ping=600000&pong=60000`, `ws://127.0.0.1:${plainPort}/`]);
await new Promise((resolve, reject) => {
  load.once('message', resolve);
  load.once('exit', (code) => reject(new Error(`the client process exited with ${code}`)));
});

const frameOnce = (message) => Buffer.concat(Sender.frame(Buffer.from(JSON.stringify(message)), { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }));
const ways = {
  'primus.write()': (message) => primus.write(message),
  'frame-once loop, same sockets': (message) => {
    const frame = frameOnce(message);
    for (const id in primus.connections) primus.connections[id].socket.tcp.write(frame);
  },
  'frame-once loop, plain ws sockets': (message) => {
    const frame = frameOnce(message);
    for (const ws of wss.clients) ws._socket.write(frame);
  },
};

const perDelivery = Object.fromEntries(Object.keys(ways).map((way) => [way, []]));
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
for (let round = 0; round < rounds; round++) {
  for (const way of Object.keys(ways).sort(() => Math.random() - 0.5)) {
    const messages = Array.from({ length: burst }, (_, i) => ({ s: round, i, t: Date.now(), p: 'x'.repeat(64) }));
    const before = process.cpuUsage();
    for (const message of messages) ways[way](message);
    await new Promise((resolve) => setImmediate(resolve));
    const used = process.cpuUsage(before);
    perDelivery[way].push((used.user + used.system) / (clients * burst));
    await settle();
  }
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const medians = {};
console.log(`${clients} clients, ${rounds} rounds, ${burst} broadcast(s) per tick; CPU µs per delivery (median [p25, p75])`);
for (const [way, samples] of Object.entries(perDelivery)) {
  samples.sort((a, b) => a - b);
  medians[way] = quantile(samples, 0.5);
  console.log(`  ${way.padEnd(34)} ${medians[way].toFixed(2)} [${quantile(samples, 0.25).toFixed(2)}, ${quantile(samples, 0.75).toFixed(2)}]`);
}
const ours = medians['primus.write()'];
console.log(`  deliveries per CPU-second, primus.write() ÷ frame-once loop on the same sockets: ${(medians['frame-once loop, same sockets'] / ours).toFixed(3)}×`);
console.log(
  `  frame-once loop, plain ws sockets ÷ same sockets (CPU per delivery): ${(medians['frame-once loop, plain ws sockets'] / medians['frame-once loop, same sockets']).toFixed(3)}×`,
);
load.kill();
primus.destroy({ close: false });
process.exit(0);
