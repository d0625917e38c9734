import Faye from 'faye-websocket';
import type { PrimusRequest, Spark, SparkSocket, TransformerContext, TransformerServer } from '@primus/core';
import { toBuffer } from './bytes';
import permessageDeflate from 'permessage-deflate';

type TrackedSocket = Faye & { spark?: Spark };

const OPEN = 1;

/** The spark's handle on one faye-websocket connection. */
class FayeSparkSocket implements SparkSocket {
  constructor(private readonly ws: Faye) {}

  send(payload: string | Buffer | Uint8Array): void {
    if (this.ws.readyState !== OPEN) return;
    this.ws.send(toBuffer(payload));
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
function onClose(this: TrackedSocket): void {
  const spark = this.spark;
  this.spark = undefined;
  this.removeListener('message', onMessage);
  this.removeListener('error', onError);
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
          new FayeSparkSocket(ws),
        );
        ws.on('message', onMessage);
        ws.on('error', onError);
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
