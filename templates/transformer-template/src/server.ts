import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Spark, SparkSocket, TransformerContext, TransformerServer } from '@primus/core';

// The stand-in framework here is `ws`. Replace it with yours; the shape stays the same: accept
// connections in the handlers below, create a spark for each with `context.connect()`, and report
// what the connection does through the spark.

type Connection = WebSocket & { spark?: Spark };

/** How the spark sends and closes: one encoded message per frame. */
function sparkSocket(connection: WebSocket): SparkSocket {
  return {
    send(payload) {
      // Sending to a closed connection is dropped silently; the spark knows it has ended.
      if (connection.readyState !== WebSocket.OPEN) return;
      connection.send(payload, { binary: typeof payload !== 'string' });
    },
    close() {
      connection.close();
    },
  };
}

// Listeners shared by every connection; `this` is the connection.
function onMessage(this: Connection, data: RawData, isBinary: boolean): void {
  this.spark?.incomingData(isBinary ? data : data.toString());
}
function onPing(this: Connection): void {
  this.spark?.incomingPing();
}
function onError(this: Connection, err: Error): void {
  this.spark?.incomingError(err);
}
function onClose(this: Connection): void {
  const spark = this.spark;
  this.spark = undefined;
  spark?.incomingEnd();
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
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
      wss.handleUpgrade(req, socket, head, (connection: Connection) => {
        connection.spark = context.connect(
          { headers: req.headers, address: req.socket, query: (req as { query?: Record<string, unknown> }).query ?? '', request: req },
          sparkSocket(connection),
        );
        connection.on('message', onMessage);
        connection.on('ping', onPing);
        connection.on('error', onError);
        connection.on('close', onClose);
      });
    },
    // A WebSocket-only framework has nothing to say to plain HTTP requests; without this handler
    // the core would answer 426 as well. Polling frameworks route the request here instead.
    request(_req, res) {
      res.statusCode = 426;
      res.setHeader('Content-Type', 'text/plain');
      res.end('Upgrade Required');
    },
    close() {
      return new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
