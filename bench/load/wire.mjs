// How a load generator talks to each kind of server. Every connection exposes the same small
// surface: `send(json)` sends one application message (a JSON text), `onmessage(json)` receives
// one, `onclose(reason)` reports a close the scenario did not ask for.
//
// Raw `ws` clients speak each server's wire format directly so that the client side costs the
// same for every server and a slow client library does not decide the result:
// - "json":   Primus (and the raw ws server): one JSON text per frame. Primus 8's server-driven
//             heartbeat (`"primus::ping::<t>"`) is answered; other `primus::` control frames are
//             not application data.
// - "eio":    Socket.IO 4 over Engine.IO v4 WebSocket framing: `40` connects the namespace, `2`/`3`
//             is the heartbeat, an event is `42["m",<json>]`.
// - "client": any other @primus/core transformer, through the client that transformer ships
//             (its own framing is the transformer's business, not the benchmark's).
// - "primus8-client": Primus 8 with a transformer other than websockets, through Primus 8's own
//             Node client (`Primus.createSocket`), which runs over the same framework client
//             library as ours (engine.io-client, sockjs-client, faye-websocket, browserchannel)
//             and speaks Primus 8's heartbeat (it answers `primus::ping` by itself).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';

const require = createRequire(import.meta.url);

const EVENT_PREFIX = '42["m",';
const CONNECT_TIMEOUT_MS = 15_000;

/**
 * Connect query for Primus-family servers: happn-primus and @primus/core learn the heartbeat from
 * it. A long interval keeps the heartbeat timer that a real connection has (so idle memory is
 * honest) without a ping landing inside a measurement.
 */
const PRIMUS_QUERY = '?ping=600000&pong=60000';

class RawConnection {
  constructor(ws) {
    this.ws = ws;
    this.onmessage = null;
    this.onclose = null;
    this.closing = false;
  }

  close() {
    this.closing = true;
    this.ws.close();
  }

  /** Drop the connection without a closing handshake (fast teardown of thousands). */
  terminate() {
    this.closing = true;
    this.ws.terminate();
  }
}

class JsonConnection extends RawConnection {
  send(json) {
    this.ws.send(json);
  }
}

class EioConnection extends RawConnection {
  send(json) {
    this.ws.send(EVENT_PREFIX + json + ']');
  }
}

function rawSocket(url) {
  // No permessage-deflate: none of the servers enables it by default.
  return new WebSocket(url, { perMessageDeflate: false });
}

function watchClose(conn, ws, reject) {
  ws.on('error', (err) => reject(err));
  ws.on('close', (code) => {
    reject(new Error(`closed during the handshake (${code})`));
    if (!conn.closing) conn.onclose?.(`connection closed unexpectedly (${code})`);
  });
}

/** Acknowledge after this many messages, as the server's recovery answer asks by default. */
const ACK_EVERY = 256;

/**
 * `recovery`: announce connection-state recovery and acknowledge what arrives, as a client with
 * recovery does (docs/protocol.md section 9), so the server trims its buffers as in real use.
 */
function openJson(base, path, recovery = false) {
  return new Promise((resolve, reject) => {
    const ws = rawSocket(base + path + (recovery ? '&_primusrecovery=1' : ''));
    const conn = new JsonConnection(ws);
    let received = 0;
    watchClose(conn, ws, reject);
    ws.on('open', () => resolve(conn));
    ws.on('message', (data) => {
      const text = data.toString();
      // A JSON string starting with "primus:: is a control message, never application data.
      if (text.charCodeAt(1) === 112 && text.startsWith('"primus::')) {
        if (text.startsWith('"primus::ping::')) ws.send(JSON.stringify('primus::pong::' + JSON.parse(text).slice(14)));
        return;
      }
      if (recovery && ++received % ACK_EVERY === 0) ws.send(JSON.stringify('primus::ack::' + received));
      conn.onmessage(text);
    });
  });
}

function openEio(base) {
  return new Promise((resolve, reject) => {
    const ws = rawSocket(base + '/socket.io/?EIO=4&transport=websocket');
    const conn = new EioConnection(ws);
    watchClose(conn, ws, reject);
    ws.on('message', (data) => {
      const text = data.toString();
      switch (text.charCodeAt(0)) {
        case 52 /* '4' message */:
          if (text.startsWith(EVENT_PREFIX)) conn.onmessage(text.slice(EVENT_PREFIX.length, -1));
          else if (text.startsWith('40')) resolve(conn);
          else if (text.startsWith('44')) reject(new Error(`connect error ${text}`));
          else conn.onclose?.(`unexpected Socket.IO packet ${text.slice(0, 40)}`);
          break;
        case 48 /* '0' open */:
          ws.send('40');
          break;
        case 50 /* '2' ping */:
          ws.send('3');
          break;
        default:
          conn.onclose?.(`unexpected Engine.IO packet ${text.slice(0, 40)}`);
      }
    });
  });
}

/** A connection through a Primus client (ours or Primus 8's): both have `write`, `end` and the same events. */
class ClientConnection {
  constructor(socket) {
    this.socket = socket;
    this.onmessage = null;
    this.onclose = null;
    this.closing = false;
  }

  send(json) {
    this.socket.write(JSON.parse(json));
  }

  close() {
    this.closing = true;
    this.socket.end();
  }

  terminate() {
    this.close();
  }
}

/**
 * Open a Primus client socket and resolve once it is open. Messages arrive decoded; they are
 * encoded again so the scenarios compare the exact text, the same work for every client.
 */
function openClient(Socket, url, options) {
  return new Promise((resolve, reject) => {
    const socket = new Socket(url, options);
    const conn = new ClientConnection(socket);
    socket.on('open', () => resolve(conn));
    socket.on('data', (data) => conn.onmessage(JSON.stringify(data)));
    socket.on('error', (err) => reject(err));
    socket.on('end', () => {
      reject(new Error('ended during the handshake'));
      if (!conn.closing) conn.onclose?.('connection ended unexpectedly');
    });
  });
}

async function clientFactory(transformerDir) {
  const { Primus } = await import('@primus/core');
  const mod = await import(pathToFileURL(join(transformerDir, 'dist/index.js')).href);
  const Socket = Primus.createSocket({ transformer: mod.default ?? mod });
  // The same heartbeat as PRIMUS_QUERY; no reconnects, a lost connection is a failure.
  const options = { ping: 600000, pong: 60000, strategy: false, timeout: CONNECT_TIMEOUT_MS };
  return (url) => openClient(Socket, url, options);
}

/**
 * The framework client each Primus 8 transformer is expected to run on, resolved from Primus 8's
 * own dependencies. Its client looks for browser globals first (faye takes a global `WebSocket`
 * when there is one), so the first connection checks which library it really got.
 */
function primus8Framework(transformer) {
  const fromPrimus = createRequire(require.resolve('primus'));
  switch (transformer) {
    case 'engine.io':
      return fromPrimus('engine.io-client').Socket;
    case 'sockjs':
      return fromPrimus('sockjs-client');
    case 'faye':
      return fromPrimus('faye-websocket').Client;
    case 'browserchannel':
      return fromPrimus('browserchannel').BCSocket;
    default:
      throw new Error(`no Primus 8 client for the ${transformer} transformer in this benchmark`);
  }
}

function primus8ClientFactory(transformer) {
  const Primus = require('primus');
  const Socket = Primus.createSocket({ transformer, parser: 'json' });
  const Framework = primus8Framework(transformer);
  // Default client options otherwise. No reconnects: a lost connection is a failure. The server
  // pings every 10 minutes (see run.mjs); the client waits 1.5 times that for a ping, as Primus 8
  // sets it in the library it serves to browsers (createSocket leaves it at 45 s).
  const options = { strategy: false, timeout: CONNECT_TIMEOUT_MS, pingTimeout: 900_000 };
  let checked = false;
  return async (url) => {
    const conn = await openClient(Socket, url, options);
    if (!checked) {
      checked = true;
      if (!(conn.socket.socket instanceof Framework)) {
        conn.terminate();
        throw new Error(`Primus 8's ${transformer} client is not running on the expected framework client (${conn.socket.socket?.constructor?.name})`);
      }
    }
    return conn;
  };
}

/**
 * A function that opens one connection to the server described by `target`
 * (`{ port, wire, path, transformerDir, transformer }`).
 */
export async function connector(target) {
  const base = `ws://127.0.0.1:${target.port}`;
  switch (target.wire) {
    case 'json': {
      const path = target.path === '/primus' ? '/primus' + PRIMUS_QUERY : target.path;
      return () => openJson(base, path);
    }
    case 'json-recovery':
      return () => openJson(base, '/primus' + PRIMUS_QUERY, true);
    case 'eio':
      return () => openEio(base);
    case 'client': {
      const open = await clientFactory(target.transformerDir);
      return () => open(`http://127.0.0.1:${target.port}`);
    }
    case 'primus8-client': {
      const open = primus8ClientFactory(target.transformer);
      return () => open(`http://127.0.0.1:${target.port}`);
    }
    default:
      throw new Error(`unknown wire format ${target.wire}`);
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
    }),
  ]);
}

/** Open one connection and prove it works with one verified echo before it counts. */
export async function openVerified(open, index) {
  const conn = await withTimeout(open(), CONNECT_TIMEOUT_MS, 'connecting');
  const hello = `{"c":${index},"s":0,"p":"hello"}`;
  await withTimeout(
    new Promise((resolve, reject) => {
      conn.onmessage = (json) => (json === hello ? resolve() : reject(new Error(`connection ${index}: first echo corrupted: ${json.slice(0, 80)}`)));
      conn.onclose = (reason) => reject(new Error(`connection ${index}: ${reason}`));
      conn.send(hello);
    }),
    CONNECT_TIMEOUT_MS,
    'the first echo',
  );
  return conn;
}

/** Open `count` verified connections, at most `concurrency` handshakes at a time. */
export async function openMany(open, count, concurrency) {
  const conns = new Array(count);
  let next = 0;
  async function worker() {
    while (next < count) {
      const index = next++;
      conns[index] = await openVerified(open, index);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return conns;
}

/** Close every connection (without the closing handshake, which no scenario measures). */
export function closeAll(conns) {
  for (const conn of conns) conn?.terminate();
}
