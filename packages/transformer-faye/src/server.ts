import type { Duplex } from 'node:stream';
import Faye from 'faye-websocket';
import { websocketFrame, type ConnectionSink, type ConnectionSocket, type TransformerContext, type TransformerServer } from '@primus/core/contract';
import { toBuffer } from './bytes';
import permessageDeflate from 'permessage-deflate';

type TrackedSocket = Faye & { sink?: ConnectionSink };

const OPEN = 1;

/** Payloads up to this size are framed here in one buffer; larger ones go through faye's driver. */
const MAX_OWN_FRAME = 64 * 1024;

function sizeOf(payload: string | Uint8Array): number {
  return typeof payload === 'string' ? payload.length : payload.byteLength;
}

/** The part of faye's private state read here: whether the handshake settled on any extension. */
interface FayeInternals {
  _driver?: { _extensions?: { _sessions?: unknown[] } };
}

/**
 * Whether faye's driver frames this connection's messages synchronously and as sent: no extension
 * (permessage-deflate) was negotiated. Its driver then writes every frame, pings, pongs and the
 * close frame included, straight to the TCP socket in the call that made it, so a frame written
 * to the socket here takes its place in the same order. Unknown internals count as "no".
 */
function framesPlain(ws: Faye): boolean {
  return (ws as unknown as FayeInternals)._driver?._extensions?._sessions?.length === 0;
}

// FayeConnectionSocket.state bits.
/** Messages may be framed here and written to the TCP socket directly (see `framesPlain`). */
const PLAIN = 1;
/** The TCP socket is corked until the core's per-tick flush. */
const HELD = 2;

/**
 * The core's handle on one faye-websocket connection. Writes of one tick are held in the corked
 * TCP socket and leave in one `writev()` when the core flushes (`context.flushSoon`), before the
 * tick ends.
 */
class FayeConnectionSocket implements ConnectionSocket {
  /** The server half's context, on the prototype of each server's subclass (not a field per connection). */
  declare protected readonly context: TransformerContext;
  private state: number;

  constructor(
    private readonly ws: Faye,
    private readonly stream: Duplex,
  ) {
    this.state = framesPlain(ws) ? PLAIN : 0;
  }

  send(payload: string | Buffer | Uint8Array): void {
    if (this.ws.readyState !== OPEN) return;
    this.hold();
    // faye's own return value is not passed on: it turns false as soon as the TCP socket is over
    // its 16 KiB highWaterMark, far below Primus's.
    if (this.state & PLAIN && sizeOf(payload) <= MAX_OWN_FRAME) this.stream.write(websocketFrame(payload));
    else this.ws.send(toBuffer(payload));
  }

  /** A broadcast: the frame the server half built once (see `frame()` below). */
  sendFrame(frame: unknown, payload: string | Buffer | Uint8Array): void {
    if (this.ws.readyState !== OPEN) return;
    if (!(this.state & PLAIN)) return this.send(payload);
    this.hold();
    this.stream.write(frame as Buffer);
  }

  flush(): void {
    if (!(this.state & HELD)) return;
    this.state &= ~HELD;
    this.stream.uncork();
  }

  private hold(): void {
    if (this.state & HELD) return;
    this.state |= HELD;
    this.stream.cork();
    this.context.flushSoon(this);
  }

  /**
   * The TCP socket's write buffer, held frames included. faye-websocket frames every message at
   * once and its driver writes the frame straight to the socket, so that is where a slow client's
   * bytes wait; faye's own `bufferedAmount` is never updated (always 0). With compression, a
   * message is counted once deflated: the deflate step holds it only for as long as zlib takes.
   */
  get bufferedAmount(): number {
    return this.stream.writableLength;
  }

  close(): void {
    // Close code 1000, as happn-primus's faye transformer sent.
    this.ws.close();
    this.flush();
  }
}

// Shared listeners (called with `this` = the socket) instead of closures per connection.
function onMessage(this: TrackedSocket, event: Faye.MessageEvent): void {
  this.sink?.data(event.data);
}
function onError(this: TrackedSocket, event: Faye.ErrorEvent): void {
  this.sink?.error(new Error(event.message));
}
// faye re-emits the TCP socket's `drain` (its driver's output resumes): the buffer emptied.
function onDrain(this: TrackedSocket): void {
  this.sink?.drain();
}
function onClose(this: TrackedSocket): void {
  const sink = this.sink;
  this.sink = undefined;
  this.removeListener('message', onMessage);
  this.removeListener('error', onError);
  this.removeListener('drain', onDrain);
  this.removeListener('close', onClose);
  sink?.end();
}

/** The server half: faye-websocket on the upgrades Primus hands over (the core answers plain requests with 426). */
export function createServer(context: TransformerContext): TransformerServer {
  const options: Faye.Options = {
    maxLength: context.options.maxLength,
    extensions: context.options.compression ? [permessageDeflate] : [],
  };

  class ServerSocket extends FayeConnectionSocket {}
  Object.defineProperty(ServerSocket.prototype, 'context', { value: context });

  return {
    upgrade(req, socket, head) {
      if (!Faye.isWebSocket(req)) {
        socket.destroy();
        return;
      }
      const ws: TrackedSocket = new Faye(req, socket, head, null, options);
      // The handshake is complete only on `open`; a socket that fails before it never becomes a connection.
      ws.once('open', () => {
        ws.sink = context.connect({ headers: req.headers, address: req.socket, request: req }, new ServerSocket(ws, socket));
        ws.on('message', onMessage);
        ws.on('error', onError);
        ws.on('drain', onDrain);
        ws.on('close', onClose);
      });
    },
    // A broadcast's frame, built once and written as is to every connection without extensions.
    frame(payload: string | Buffer | Uint8Array) {
      return sizeOf(payload) <= MAX_OWN_FRAME ? websocketFrame(payload) : undefined;
    },
  };
}
