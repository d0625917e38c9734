import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import websocket from 'websocket';
import type { connection as Connection, Message } from 'websocket';
import type { ConnectionSink, ConnectionSocket, PrimusRequest, TransformerContext, TransformerServer } from '@primus/core/contract';

const { server: WebSocketServer } = websocket;

type Tracked = Connection & { sink?: ConnectionSink };

/** The core's handle on one WebSocket-Node connection. */
class WebSocketNodeSocket implements ConnectionSocket {
  constructor(
    private readonly connection: Connection,
    private readonly highWaterMark: number,
  ) {}

  send(payload: string | Buffer | Uint8Array): boolean {
    const { connection } = this;
    // Sending on a closing connection is dropped: the sink has ended or is about to.
    if (!connection.connected) return true;
    if (typeof payload === 'string') connection.sendUTF(payload);
    // sendBytes() insists on a Buffer; wrap the bytes without copying them.
    else connection.sendBytes(Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
    return this.bufferedAmount < this.highWaterMark;
  }

  /** WebSocket-Node writes every frame straight to the TCP socket: its write buffer is all there is. */
  get bufferedAmount(): number {
    return this.connection.socket.writableLength;
  }

  close(): void {
    const { connection } = this;
    // Already closing (the client asked first, or the connection dropped): nothing to hold.
    if (!connection.connected) {
      connection.close();
      return;
    }
    const tcp = connection.socket;
    // WebSocket-Node ends the TCP socket right after its close frame. Its own client parses one
    // frame per event-loop turn and, when that end arrives first, reports an abnormal close and
    // drops the frames it had not parsed yet: the last messages before a close
    // (theturtle32/WebSocket-Node#256). So that end waits for the client's answer (the first bytes
    // it sends after the close frame, or its own end), which the client sends once it has parsed
    // everything before the close frame; WebSocket-Node's close timer still ends the socket if
    // no answer comes.
    const end = tcp.end;
    tcp.end = function holdUntilAnswered(this: typeof tcp) {
      tcp.end = end;
      const answered = (): void => {
        tcp.off('data', answered);
        tcp.off('end', answered);
        if (!tcp.writableEnded) tcp.end();
      };
      if (tcp.readableEnded) answered();
      else tcp.on('data', answered).on('end', answered);
      return this;
    } as typeof tcp.end;
    connection.close();
  }
}

// Listeners shared by every connection; `this` is the connection.
function onMessage(this: Tracked, message: Message): void {
  this.sink?.data(message.type === 'utf8' ? message.utf8Data : message.binaryData);
}
function onPing(this: Tracked): void {
  this.sink?.ping();
}
// WebSocket-Node re-emits the TCP socket's `drain` once the buffer that made send() return false has emptied.
function onDrain(this: Tracked): void {
  this.sink?.drain();
}
function onError(this: Tracked, err: Error): void {
  this.sink?.error(err);
}
function onClose(this: Tracked): void {
  const sink = this.sink;
  this.sink = undefined;
  sink?.end();
}

/** The server half: WebSocket-Node's request handling behind Primus's HTTP routing. */
export function createServer(context: TransformerContext): TransformerServer {
  const { options } = context;
  const server = new WebSocketServer({
    // WebSocket-Node insists on an HTTP server to listen to. Primus routes the upgrades itself, so
    // it gets a stand-in that never emits, and upgrade() below hands requests over.
    httpServer: new EventEmitter() as never,
    maxReceivedFrameSize: options.maxLength,
    maxReceivedMessageSize: options.maxLength,
    // Primus runs its own heartbeat; WebSocket-Node's would close idle connections on its own terms.
    keepalive: false,
    autoAcceptConnections: false,
  });

  server.on('request', (request) => {
    const req = request.httpRequest as PrimusRequest;
    // No subprotocol and any origin: Primus's own authorization and middleware have already run.
    const connection = request.accept(null, request.origin) as Tracked;
    connection.sink = context.connect({ headers: req.headers, address: req.socket, request: req }, new WebSocketNodeSocket(connection, options.highWaterMark));
    connection.on('message', onMessage);
    connection.on('ping', onPing);
    connection.on('drain', onDrain);
    connection.on('error', onError);
    connection.on('close', onClose);
  });

  return {
    upgrade(req: PrimusRequest, socket: Duplex, head: Buffer) {
      // WebSocket-Node reads the socket from here on and ignores bytes that arrived with the
      // request; give them back to the socket.
      if (head.length) socket.unshift(head);
      server.handleUpgrade(req, socket as never);
    },
    close() {
      server.shutDown();
    },
  };
}
