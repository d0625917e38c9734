import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { compactListeners, type Spark, type SparkSocket, type TransformerContext, type TransformerServer } from '@primus/core';

type TrackedSocket = WebSocket & { spark?: Spark };

/** The spark's handle on one `ws` connection. */
class WsSparkSocket implements SparkSocket {
  constructor(private readonly ws: WebSocket) {}

  send(payload: string | Buffer | Uint8Array): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(payload, { binary: typeof payload !== 'string' });
  }

  /** What `ws` holds for a slow client: its own queue plus the TCP socket's write buffer. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  close(): void {
    // happn-primus's ws (< 3) always sent 1000; ws 8 sends no status, which peers read as 1005.
    this.ws.close(1000);
  }
}

// Shared listeners (called with `this` = the socket) instead of closures per connection.
function onMessage(this: TrackedSocket, data: RawData, isBinary: boolean): void {
  this.spark?.incomingData(isBinary ? data : data.toString());
}
function onPing(this: TrackedSocket): void {
  this.spark?.incomingPing();
}
function onError(this: TrackedSocket, err: Error): void {
  this.spark?.incomingError(err);
}
// The TCP socket's `drain`: its write buffer emptied, so the spark may resume a paused writer.
function onDrain(this: Duplex & { ws?: TrackedSocket }): void {
  this.ws?.spark?.incomingDrain();
}
function onClose(this: TrackedSocket): void {
  const spark = this.spark;
  this.spark = undefined;
  spark?.incomingEnd();
}

/** The server half: `ws` in noServer mode behind Primus's HTTP handling. */
export function createServer(context: TransformerContext): TransformerServer {
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: context.options.compression,
    maxPayload: context.options.maxLength,
  });

  return {
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
      wss.handleUpgrade(req, socket, head, (ws: TrackedSocket) => {
        // Four listeners would grow ws's listener hash table to ~330 bytes per connection.
        compactListeners(ws);
        ws.spark = context.connect({ headers: req.headers, address: req.socket, query: (req as { query?: Record<string, unknown> }).query ?? '', request: req }, new WsSparkSocket(ws));
        ws.on('message', onMessage);
        ws.on('ping', onPing);
        ws.on('error', onError);
        ws.on('close', onClose);
        (socket as Duplex & { ws?: TrackedSocket }).ws = ws;
        socket.on('drain', onDrain);
      });
    },
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
