// Chat with the demo from a terminal. The client class comes from the server package:
// `Primus.createSocket({ transformer })` builds the same client the page gets, for Node.
//
//   node examples/demo/node-client.mjs [url] [--name <name>] [--say <text> [--exit]] [--transformer <name>]
//
// Lines typed on stdin are sent as chat messages. Without --transformer (or TRANSFORMER), the
// client asks the server's /primus/spec which transformer it runs.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Primus } from '@primus/core';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    name: { type: 'string', short: 'n' },
    say: { type: 'string', short: 's' },
    exit: { type: 'boolean' },
    transformer: { type: 'string', short: 't' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('usage: node node-client.mjs [url] [--name <name>] [--say <text> [--exit]] [--transformer <name>]');
  process.exit(0);
}

const url = positionals[0] ?? process.env.URL ?? `http://localhost:${process.env.PORT ?? 8080}`;
const name = values.name ?? `node-${process.pid}`;

async function serverSpec() {
  try {
    const res = await fetch(new URL('/primus/spec', url));
    return await res.json();
  } catch (err) {
    console.error(`Cannot reach ${url} (${err.cause?.code ?? err.message}). Is the demo running?`);
    process.exit(1);
  }
}

const spec = values.transformer || process.env.TRANSFORMER ? null : await serverSpec();
const transformer = values.transformer ?? process.env.TRANSFORMER ?? spec.transformer;
const Socket = Primus.createSocket({ transformer, pathname: spec?.pathname });
const client = new Socket(url);

const time = (at) => new Date(at).toTimeString().slice(0, 5);
const say = (text) => client.write({ type: 'chat', name, text });
let myId = null;

client.on('open', () => console.log(`* connected to ${url} (${transformer}) as ${name}`));
client.on('reconnect scheduled', (attempt) => console.log(`* reconnecting in ${Math.ceil(attempt.scheduled / 1000)} s`));
client.on('end', () => console.log('* connection ended'));
client.on('error', (err) => console.error(`* ${err.message}`));
client.on('data', (message) => {
  if (!message || typeof message !== 'object') return;
  if (message.type === 'welcome') {
    myId = message.id;
    for (const entry of message.history) console.log(`[${time(entry.at)}] ${entry.name}: ${entry.text}`);
  } else if (message.type === 'clients') {
    console.log(`* ${message.count} client${message.count === 1 ? '' : 's'} connected`);
  } else if (message.type === 'chat') {
    console.log(`[${time(message.at)}] ${message.name}: ${message.text}`);
    if (values.exit && message.from === myId) {
      client.end();
      process.exit(0);
    }
  }
});

// Writes made before the connection opens are buffered and sent once it does.
if (values.say) say(values.say);

if (process.stdin.isTTY || !values.say) {
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim()) say(line.trim());
  });
}
process.on('SIGINT', () => {
  client.end();
  process.exit(0);
});
