import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { ConnectionSink, ConnectionSocket, PrimusRequest, TransformerContext, TransformerServer } from '@primus/core/contract';

// The stand-in framework here is `ws`. Replace it with yours; the shape stays the same: accept
// connections in the handlers below, hand each to the core with `context.connect()`, and report
// what the connection does to the sink it returns.

type Connection = WebSocket & { sink?: ConnectionSink };

/** How the core sends, measures the connection's buffer and closes: one encoded message per frame. */
function connectionSocket(connection: WebSocket): ConnectionSocket {
  return {
    send(payload) {
      // Sending to a closed connection is dropped silently; the core knows it has ended.
      if (connection.readyState !== WebSocket.OPEN) return;
      connection.send(payload, { binary: typeof payload !== 'string' });
    },
    // Back-pressure: what the framework holds for a slow client (`ws` counts its own queue and the
    // TCP socket's buffer). The core compares it with `highWaterMark` after every send; report the
    // way back with the sink's drain() (see the socket's `drain` listener below).
    get bufferedAmount() {
      return connection.bufferedAmount;
    },
    close() {
      connection.close();
    },
  };
}

// Listeners shared by every connection; `this` is the connection.
function onMessage(this: Connection, data: RawData, isBinary: boolean): void {
  this.sink?.data(isBinary ? data : data.toString());
}
function onPing(this: Connection): void {
  this.sink?.ping();
}
function onError(this: Connection, err: Error): void {
  this.sink?.error(err);
}
// The TCP socket's `drain`: its buffer emptied after a write past its own mark, so a writer the
// core told to wait may resume.
function onDrain(this: Duplex & { connection?: Connection }): void {
  this.connection?.sink?.drain();
}
function onClose(this: Connection): void {
  const sink = this.sink;
  this.sink = undefined;
  sink?.end();
}

/** The server half: called once per Primus server. */
export function createServer(context: TransformerContext): TransformerServer {
  const { options } = context;
  // The framework must not listen or attach to the HTTP server itself: Primus hands over the
  // requests under its pathname once the middleware has passed them.
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: options.compression,
    maxPayload: options.maxLength,
  });

  return {
    upgrade(req: PrimusRequest, socket: Duplex, head: Buffer) {
      wss.handleUpgrade(req, socket, head, (connection: Connection) => {
        // The connect query is taken from the request, which the core has parsed.
        connection.sink = context.connect({ headers: req.headers, address: req.socket, request: req }, connectionSocket(connection));
        connection.on('message', onMessage);
        connection.on('ping', onPing);
        connection.on('error', onError);
        connection.on('close', onClose);
        (socket as Duplex & { connection?: Connection }).connection = connection;
        socket.on('drain', onDrain);
      });
    },
    // No `request`: a WebSocket-only framework has nothing to say to plain HTTP requests, and the
    // core answers them with 426 Upgrade Required. Polling frameworks handle them here instead.
    close() {
      return new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
