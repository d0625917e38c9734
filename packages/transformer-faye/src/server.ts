import type { Duplex } from 'node:stream';
import Faye from 'faye-websocket';
import type { PrimusRequest, Spark, SparkSocket, TransformerContext, TransformerServer } from '@primus/core';
import { toBuffer } from './bytes';
import permessageDeflate from 'permessage-deflate';

type TrackedSocket = Faye & { spark?: Spark };

const OPEN = 1;

/** The spark's handle on one faye-websocket connection. */
class FayeSparkSocket implements SparkSocket {
  constructor(
    private readonly ws: Faye,
    private readonly stream: Duplex,
  ) {}

  send(payload: string | Buffer | Uint8Array): void {
    if (this.ws.readyState !== OPEN) return;
    // faye's own return value is not passed on: it turns false as soon as the TCP socket is over
    // its 16 KiB highWaterMark, far below the spark's.
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
  this.spark?.incomingData(event.data);
}
function onError(this: TrackedSocket, event: Faye.ErrorEvent): void {
  this.spark?.incomingError(new Error(event.message));
}
// faye re-emits the TCP socket's `drain` (its driver's output resumes): the buffer emptied.
function onDrain(this: TrackedSocket): void {
  this.spark?.incomingDrain();
}
function onClose(this: TrackedSocket): void {
  const spark = this.spark;
  this.spark = undefined;
  this.removeListener('message', onMessage);
  this.removeListener('error', onError);
  this.removeListener('drain', onDrain);
  this.removeListener('close', onClose);
  spark?.incomingEnd();
}

/** The server half: faye-websocket on the upgrades Primus hands over, 426 for anything else. */
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
      // The handshake is complete only on `open`; a socket that fails before it never becomes a spark.
      ws.once('open', () => {
        ws.spark = context.connect(
          { headers: req.headers, address: req.socket, query: (req as PrimusRequest).query ?? '', request: req },
          new FayeSparkSocket(ws, socket),
        );
        ws.on('message', onMessage);
        ws.on('error', onError);
        ws.on('drain', onDrain);
        ws.on('close', onClose);
      });
    },
    request(_req, res) {
      res.statusCode = 426;
      res.setHeader('Content-Type', 'text/plain');
      res.end('Upgrade Required');
    },
  };
}
