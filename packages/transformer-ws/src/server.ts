import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { compactListeners, type ConnectionSink, type ConnectionSocket, type PrimusRequest, type TransformerContext, type TransformerServer } from '@primus/core/contract';

type TrackedSocket = WebSocket & { sink?: ConnectionSink };

/** The core's handle on one `ws` connection. */
class WsConnectionSocket implements ConnectionSocket {
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
  this.sink?.data(isBinary ? data : data.toString());
}
function onPing(this: TrackedSocket): void {
  this.sink?.ping();
}
function onError(this: TrackedSocket, err: Error): void {
  this.sink?.error(err);
}
// The TCP socket's `drain`: its write buffer emptied, so a paused writer may resume.
function onDrain(this: Duplex & { ws?: TrackedSocket }): void {
  this.ws?.sink?.drain();
}
function onClose(this: TrackedSocket): void {
  const sink = this.sink;
  this.sink = undefined;
  sink?.end();
}

/** The server half: `ws` in noServer mode behind Primus's HTTP handling (the core answers plain requests with 426). */
export function createServer(context: TransformerContext): TransformerServer {
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: context.options.compression,
    maxPayload: context.options.maxLength,
  });

  return {
    upgrade(req: PrimusRequest, socket: Duplex, head: Buffer) {
      wss.handleUpgrade(req, socket, head, (ws: TrackedSocket) => {
        // Four listeners would grow ws's listener hash table to ~330 bytes per connection.
        compactListeners(ws);
        ws.sink = context.connect({ headers: req.headers, address: req.socket, request: req }, new WsConnectionSocket(ws));
        ws.on('message', onMessage);
        ws.on('ping', onPing);
        ws.on('error', onError);
        ws.on('close', onClose);
        (socket as Duplex & { ws?: TrackedSocket }).ws = ws;
        socket.on('drain', onDrain);
      });
    },
    close() {
      return new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
