// The Primus demo server: serves index.html, attaches Primus, keeps a live count of connected
// clients and relays a small chat.
//
//   node examples/demo/server.mjs                          # websockets on port 8080
//   PORT=3000 node examples/demo/server.mjs --transformer websockets
//   TRANSFORMER=engine.io node examples/demo/server.mjs     # needs @primus/transformer-engineio
//   node examples/demo/server.mjs --transformer primus-transformer-websocket-node   # a third-party package
//
// Other scripts can `import { start } from './server.mjs'`; `start({ port: 0 })` listens on a free
// port and resolves with the URL it bound.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Primus, TRANSFORMER_PACKAGES } from '@primus/core';

const page = readFileSync(new URL('./index.html', import.meta.url));

/** Longest chat message and name the server relays, in characters. */
const MAX_TEXT = 500;
const MAX_NAME = 32;
/** Messages replayed to a client when it connects. */
const HISTORY = 20;

function clean(value, max) {
  return typeof value === 'string' ? value.replace(/\s+/g, ' ').trim().slice(0, max) : '';
}

/**
 * The transformer for one of our names, imported from this file's location so that `start()` works
 * whichever script imports it. Other names (a third-party package such as
 * `primus-transformer-websocket-node`, or `websocket-node` by the naming convention) and missing
 * packages are left to the core, which looks them up from the working directory and the entry
 * script; its error names the package to install.
 */
async function loadTransformer(name) {
  const pkg = TRANSFORMER_PACKAGES[name.trim().toLowerCase()];
  if (!pkg) return name;
  try {
    return (await import(pkg)).default;
  } catch (err) {
    if (err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(pkg)) return name;
    throw err;
  }
}

/** Answers everything outside /primus: the page, and 404 for the rest. */
function app(req, res) {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/' || path === '/index.html') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': page.length });
    res.end(req.method === 'HEAD' ? undefined : page);
    return;
  }
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end('Not found\n');
}

/**
 * Start the demo. Resolves with `{ url, port, primus, server, close }` once listening.
 *
 * @param {{ port?: number, host?: string, transformer?: string, quiet?: boolean }} [options]
 */
export async function start({ port = 8080, host = '0.0.0.0', transformer = 'websockets', quiet = false } = {}) {
  // The page handler must be on the server before Primus is attached: Primus takes the listeners
  // it finds and calls them for every request outside its pathname.
  const server = http.createServer(app);
  const primus = new Primus(server, { transformer: await loadTransformer(transformer) });
  const history = [];

  const announceCount = () => primus.write({ type: 'clients', count: primus.connected });

  primus.on('connection', (spark) => {
    spark.write({ type: 'welcome', id: spark.id, history });
    announceCount();

    spark.on('data', (message) => {
      if (!message || typeof message !== 'object' || message.type !== 'chat') return;
      const text = clean(message.text, MAX_TEXT);
      if (!text) return;
      const entry = { type: 'chat', from: spark.id, name: clean(message.name, MAX_NAME) || 'anonymous', text, at: Date.now() };
      history.push(entry);
      if (history.length > HISTORY) history.shift();
      primus.write(entry);
    });
  });
  primus.on('disconnection', announceCount);
  // Parser errors and the like arrive here; a demo only needs to see them.
  primus.on('log', (level, ...args) => {
    if (level === 'error' && !quiet) console.error('primus:', ...args.filter((arg) => typeof arg !== 'object' || arg instanceof Error));
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address().port;
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shown}:${bound}`;

  /** Stop; with `reconnect: true` the pages keep trying, so a restarted server gets them back. */
  const close = (options = {}) =>
    new Promise((resolve) => {
      primus.destroy({ close: true, reconnect: !!options.reconnect }, () => resolve());
      server.closeAllConnections();
    });

  return { url, port: bound, primus, server, transformer: primus.spec.transformer, close };
}

function cli() {
  const { values } = parseArgs({
    options: {
      transformer: { type: 'string', short: 't' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('usage: node server.mjs [--transformer <name>] [--port <n>] [--host <addr>]');
    console.log('environment: TRANSFORMER (default websockets), PORT (default 8080), HOST (default 0.0.0.0)');
    return;
  }
  const port = Number(values.port ?? process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`The port must be a number from 0 to 65535, got ${values.port ?? process.env.PORT}`);
    process.exit(1);
  }
  const options = {
    port,
    host: values.host ?? process.env.HOST ?? '0.0.0.0',
    transformer: values.transformer ?? process.env.TRANSFORMER ?? 'websockets',
  };

  start(options).then(
    (demo) => {
      console.log(`Primus demo (${demo.transformer}) listening on ${demo.url}`);
      console.log(`Open ${demo.url} in a browser, or chat from a terminal: node examples/demo/node-client.mjs ${demo.url}`);
      let stopping = false;
      const stop = () => {
        if (stopping) process.exit(1);
        stopping = true;
        // Open pages reconnect on their own when the server comes back.
        demo.close({ reconnect: true }).then(() => process.exit(0));
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    },
    (err) => {
      // Missing transformer packages and busy ports end up here, with a message that says what to do.
      console.error(err.code === 'EADDRINUSE' ? `Port ${options.port} is in use; set PORT to another one (0 picks a free port)` : err.message);
      process.exit(1);
    },
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) cli();
