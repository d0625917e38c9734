import type { Duplex } from 'node:stream';
import Faye from 'faye-websocket';
import type { ConnectionSink, ConnectionSocket, TransformerContext, TransformerServer } from '@primus/core/contract';
import { toBuffer } from './bytes';
import permessageDeflate from 'permessage-deflate';

type TrackedSocket = Faye & { sink?: ConnectionSink };

const OPEN = 1;

/** The core's handle on one faye-websocket connection. */
class FayeConnectionSocket implements ConnectionSocket {
  constructor(
    private readonly ws: Faye,
    private readonly stream: Duplex,
  ) {}

  send(payload: string | Buffer | Uint8Array): void {
    if (this.ws.readyState !== OPEN) return;
    // faye's own return value is not passed on: it turns false as soon as the TCP socket is over
    // its 16 KiB highWaterMark, far below Primus's.
    this.ws.send(toBuffer(payload));
  }

  /**
   * The TCP socket's write buffer. faye-websocket frames every message at once and its driver
   * writes the frame straight to the socket, so that is where a slow client's bytes wait; faye's
   * own `bufferedAmount` is never updated (always 0). With compression, a message is counted once
   * deflated: the deflate step holds it only for as long as zlib takes.
   */
  get bufferedAmount(): number {
    return this.stream.writableLength;
  }

  close(): void {
    // Close code 1000, as happn-primus's faye transformer sent.
    this.ws.close();
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

  return {
    upgrade(req, socket, head) {
      if (!Faye.isWebSocket(req)) {
        socket.destroy();
        return;
      }
      const ws: TrackedSocket = new Faye(req, socket, head, null, options);
      // The handshake is complete only on `open`; a socket that fails before it never becomes a connection.
      ws.once('open', () => {
        ws.sink = context.connect({ headers: req.headers, address: req.socket, request: req }, new FayeConnectionSocket(ws, socket));
        ws.on('message', onMessage);
        ws.on('error', onError);
        ws.on('drain', onDrain);
        ws.on('close', onClose);
      });
    },
  };
}
