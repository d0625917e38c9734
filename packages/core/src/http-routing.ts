import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TransformerServer } from './contract';
import { callTaken, giveBack, takeListeners, type TakenListener } from './http-listeners';
import { prepareRequest, requestPath, runLayers } from './middleware';
import type { Primus } from './primus';

/**
 * The HTTP server's `request` and `upgrade` events while Primus is attached: requests under the
 * pathname go through the middleware to the transformer, everything else to the listeners the
 * server had before, which get the events back when Primus lets go.
 */
export class HttpRouting {
  private previous: { request: TakenListener[]; upgrade: TakenListener[] } = { request: [], upgrade: [] };
  private readonly handleRequest = (req: IncomingMessage, res: ServerResponse): void => this.request(req, res);
  private readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => this.upgrade(req, socket, head);

  constructor(
    private readonly primus: Primus,
    private readonly server: HttpServer,
    private readonly service: TransformerServer,
    /** The server closed on its own. */
    private readonly handleClose: () => void,
  ) {}

  /** Take the server's events over. */
  hook(): void {
    const server = this.server;
    this.previous = { request: takeListeners(server, 'request'), upgrade: takeListeners(server, 'upgrade') };
    server.on('request', this.handleRequest);
    if (this.service.upgrade || this.previous.upgrade.length) server.on('upgrade', this.handleUpgrade);
    server.on('close', this.handleClose);
  }

  /** Give the server back its original request and upgrade listeners. */
  unhook(): void {
    const server = this.server;
    server.removeListener('request', this.handleRequest);
    server.removeListener('upgrade', this.handleUpgrade);
    server.removeListener('close', this.handleClose);
    giveBack(server, 'request', this.previous.request);
    giveBack(server, 'upgrade', this.previous.upgrade);
  }

  private request(req: IncomingMessage, res: ServerResponse): void {
    // The URL is read once here: middleware and the transformer find it parsed on the request.
    const path = requestPath(req.url);
    if (!path.startsWith(this.primus.pathname)) {
      callTaken(this.previous.request, this.server, [req, res]);
      return;
    }
    const request = prepareRequest(req, path);
    runLayers(this.primus, 'http', request, res, () => {
      if (this.service.request) this.service.request(request, res);
      else {
        // An upgrade-only transformer: the answer every one of them would give.
        res.statusCode = 426;
        res.setHeader('Content-Type', 'text/plain');
        res.end('Upgrade Required');
      }
    });
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = requestPath(req.url);
    if (!path.startsWith(this.primus.pathname) || !this.service.upgrade) {
      if (this.previous.upgrade.length) {
        callTaken(this.previous.upgrade, this.server, [req, socket, head]);
      } else if (this.server.listenerCount('upgrade') === 1) {
        // Nobody else will answer this upgrade; leaving it open would leak the socket.
        socket.destroy();
      }
      return;
    }
    // A socket error before the transformer takes over must not crash the process.
    socket.on('error', noop);
    const request = prepareRequest(req, path);
    const copy = Buffer.from(head);
    runLayers(this.primus, 'upgrade', request, socket, () => this.service.upgrade!(request, socket, copy));
  }
}

function noop(): void {}
