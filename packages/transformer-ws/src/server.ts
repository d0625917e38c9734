import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import {
  compactListeners,
  websocketFrame,
  type ConnectionSink,
  type ConnectionSocket,
  type PrimusRequest,
  type TransformerContext,
  type TransformerServer,
} from '@primus/core/contract';

type TrackedSocket = WebSocket & { sink?: ConnectionSink };
type TcpSocket = Duplex & { ws?: TrackedSocket };

/** Payloads up to this size are framed into one buffer with their header; larger ones go through `ws`. */
const MAX_OWN_FRAME = 64 * 1024;

// WsConnectionSocket.state bits.
/** No extension (permessage-deflate) was negotiated: frames may be written to the TCP socket as built here. */
const PLAIN = 1;
/** The TCP socket is corked until the core's per-tick flush. */
const HELD = 2;

/**
 * The core's handle on one `ws` connection. Writes of one tick are held in the corked TCP socket
 * and leave in one `writev()` when the core flushes (`context.flushSoon`), before the tick ends.
 * On a connection without extensions, messages are framed here in one buffer and written to the
 * TCP socket directly: `ws` itself then never queues anything (it does only for compression), so
 * the order of frames is the order of writes, pongs and close frames from `ws` included.
 */
class WsConnectionSocket implements ConnectionSocket {
  /** The server half's context, on the prototype of each server's subclass (not a field per connection). */
  declare protected readonly context: TransformerContext;
  /** The server half's count of broadcasts framed in this tick, on the same prototype. */
  declare protected readonly burst: Burst;
  private state: number;

  constructor(
    private readonly ws: TrackedSocket,
    private readonly tcp: TcpSocket,
  ) {
    this.state = ws.extensions === '' ? PLAIN : 0;
  }

  send(payload: string | Buffer | Uint8Array): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.hold();
    if (this.state & PLAIN && (typeof payload === 'string' ? payload.length : payload.byteLength) <= MAX_OWN_FRAME) {
      this.tcp.write(websocketFrame(payload));
    } else {
      this.ws.send(payload, { binary: typeof payload !== 'string' });
    }
  }

  /** A broadcast: the frame the server half built once (see `frame()` below). */
  sendFrame(frame: unknown, payload: string | Buffer | Uint8Array): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (!(this.state & PLAIN)) return this.send(payload);
    // A lone broadcast is written at once: holding it would cost every connection a cork and a
    // flush, with nothing else to wait for. From a tick's second broadcast on, the connection
    // holds its writes for the tick, so a burst of n broadcasts takes two system calls, not n.
    if (this.burst.framed > 1) this.hold();
    this.tcp.write(frame as Buffer);
  }

  flush(): void {
    if (!(this.state & HELD)) return;
    this.state &= ~HELD;
    this.tcp.uncork();
  }

  private hold(): void {
    if (this.state & HELD) return;
    this.state |= HELD;
    this.tcp.cork();
    this.context.flushSoon(this);
  }

  /** What `ws` holds for a slow client: its own queue plus the TCP socket's write buffer (held frames included). */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  close(): void {
    // happn-primus's ws (< 3) always sent 1000; ws 8 sends no status, which peers read as 1005.
    this.ws.close(1000);
    this.flush();
  }
}

/** Broadcasts framed in the current tick, counted by `frame()` and reset once the tick ends. */
interface Burst {
  framed: number;
}

function endBurst(burst: Burst): void {
  burst.framed = 0;
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
function onDrain(this: TcpSocket): void {
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

  const burst: Burst = { framed: 0 };
  class ServerSocket extends WsConnectionSocket {}
  Object.defineProperty(ServerSocket.prototype, 'context', { value: context });
  Object.defineProperty(ServerSocket.prototype, 'burst', { value: burst });

  return {
    upgrade(req: PrimusRequest, socket: Duplex, head: Buffer) {
      wss.handleUpgrade(req, socket, head, (ws: TrackedSocket) => {
        // Four listeners would grow ws's listener hash table to ~330 bytes per connection.
        compactListeners(ws);
        ws.sink = context.connect({ headers: req.headers, address: req.socket, request: req }, new ServerSocket(ws, socket));
        ws.on('message', onMessage);
        ws.on('ping', onPing);
        ws.on('error', onError);
        ws.on('close', onClose);
        (socket as TcpSocket).ws = ws;
        socket.on('drain', onDrain);
      });
    },
    // A broadcast's frame, built once and written as is to every connection without extensions.
    frame(payload: string | Buffer | Uint8Array) {
      if (burst.framed++ === 0) process.nextTick(endBurst, burst);
      return (typeof payload === 'string' ? payload.length : payload.byteLength) <= MAX_OWN_FRAME ? websocketFrame(payload) : undefined;
    },
    close() {
      return new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
