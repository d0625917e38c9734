import { unwatchFile } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery, type ParsedUrlQuery } from 'node:querystring';
import browserChannel from 'browserchannel/dist/server.js';
import type { SparkSocket, TransformerContext, TransformerServer } from '@primus/core';

type Session = browserChannel.Session;

// Outside production, browserchannel's server polls its bundled client file every 5 s so it can
// serve a rebuilt copy while browserchannel itself is being developed. Nothing here changes that
// file; stop the polling.
try {
  unwatchFile(require.resolve('browserchannel/dist/bcsocket.js'));
} catch {
  // A browserchannel without that file does not watch it either.
}

/**
 * How long a shutdown that keeps the HTTP server (`destroy({ close: false })`) waits for clients
 * to collect their `stop`. A client between two polls reopens its back channel at once.
 */
const DRAIN_MS = 1000;

/** The headers browserchannel sends with its own error answers. */
const ERROR_HEADERS = {
  'Content-Type': 'text/plain',
  'Cache-Control': 'no-cache, no-store, max-age=0, must-revalidate',
  Pragma: 'no-cache',
  'X-Content-Type-Options': 'nosniff',
};

/** The spark's handle on one BrowserChannel session. */
class BrowserChannelSparkSocket implements SparkSocket {
  constructor(
    private readonly session: Session,
    private readonly stopping: () => void,
  ) {}

  send(payload: string | Buffer | Uint8Array): void {
    // BrowserChannel carries JSON values; bytes travel as their UTF-8 text.
    this.session.send(typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  }

  close(): void {
    const session = this.session;
    this.stopping();
    // `stop` tells the client not to come back. It is written with the queued messages on the
    // client's next back channel; closing the session before that would drop them all.
    session.stop(() => session.close());
  }
}

const last = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[value.length - 1] : value);

/** The query of a request, parsed as browserchannel parses it. */
function queryOf(req: IncomingMessage): ParsedUrlQuery {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return q === -1 ? {} : parseQuery(url.slice(q + 1));
}

function answer(res: ServerResponse, status: number, reason: string, body: string): void {
  res.writeHead(status, reason, ERROR_HEADERS);
  res.end(body);
}

function tooLarge(req: IncomingMessage, res: ServerResponse, maxLength: number): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // The rest of the body is not read: close the connection once the answer is out.
  req.pause();
  res.writeHead(413, { ...ERROR_HEADERS, Connection: 'close' });
  res.end(`Request body larger than ${maxLength} bytes`, () => req.socket.destroy());
}

/** What the transformer remembers about a session until browserchannel closes it. */
interface Entry {
  session: Session;
  /** The affinity token (`a`) the session was opened with, as JSON. */
  token: string;
  /** The spark ended; the session waits for its client to collect the `stop`. */
  stopping: boolean;
}

/** The server half: browserchannel's middleware behind Primus's HTTP handling. */
export function createServer(context: TransformerContext): TransformerServer {
  const { options, logger, primus } = context;
  const maxLength = options.maxLength;
  const sessions = new Map<string, Entry>();
  const opened = new WeakMap<IncomingMessage, Session>();
  let closing = false;
  let drained: (() => void) | undefined;

  const stoppingCount = (): number => {
    let count = 0;
    for (const entry of sessions.values()) if (entry.stopping) count++;
    return count;
  };

  const middleware = browserChannel({ base: options.pathname }, (session, req) => {
    opened.set(req, session);
    const entry: Entry = { session, token: JSON.stringify(session.query.a ?? null), stopping: false };
    const spark = context.connect(
      {
        headers: session.headers,
        // The request's socket, not `session.address`: it knows the port too.
        address: req.socket,
        // The opening request's query: the client's extraParams (its query, `_primuscb`, `ping`,
        // `pong`) and BrowserChannel's own parameters.
        query: { ...session.query },
        id: session.id,
        request: req,
      },
      new BrowserChannelSparkSocket(session, () => {
        entry.stopping = true;
        session.removeListener('message', onMessage);
      }),
    );
    const onMessage = (message: unknown): void => {
      // Primus clients send strings; a BrowserChannel client that sent an object (sendMap JSON)
      // is heard as that object's JSON text.
      spark.incomingData(typeof message === 'string' ? message : JSON.stringify(message));
    };
    const onClose = (reason?: string): void => {
      sessions.delete(session.id);
      session.removeListener('message', onMessage);
      session.removeListener('close', onClose);
      logger.debug(`browserchannel: session ${session.id} closed: ${reason ?? 'closed by the server'}`);
      // Nothing happens when the spark itself ended the session.
      spark.incomingEnd();
      if (drained && stoppingCount() === 0) drained();
    };
    sessions.set(session.id, entry);
    session.on('message', onMessage);
    session.on('close', onClose);
  });

  // Primus runs `close` listeners before it stops routing requests here. With the HTTP server
  // still listening, let clients between two polls come back for their `stop` first.
  primus.on('close', () => {
    closing = true;
    if (!primus.server?.listening || stoppingCount() === 0) return undefined;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => drained?.(), DRAIN_MS);
      drained = () => {
        clearTimeout(timer);
        drained = undefined;
        resolve();
      };
    });
  });

  /** Whether a request that names a session carries the token that session was opened with. */
  function sameClient(query: ParsedUrlQuery): boolean {
    const token = JSON.stringify(query.a ?? null);
    for (const key of ['SID', 'OSID']) {
      const id = last(query[key]);
      const entry = id === undefined ? undefined : sessions.get(id);
      if (entry && entry.token !== token) return false;
    }
    return true;
  }

  return {
    request(req, res) {
      const query = queryOf(req);
      // browserchannel's session ids come from Math.random; a request that names a session must
      // also carry the random token its client opened it with, or it is treated as a stranger.
      if (!sameClient(query)) {
        answer(res, 400, 'Unknown SID', '<html><body><h1>Unknown SID</h1></body></html>');
        return;
      }
      if (closing && !sessions.has(last(query.SID) ?? '')) {
        answer(res, 503, 'Service Unavailable', 'Shutting down');
        return;
      }
      if (req.method === 'POST') {
        // browserchannel buffers forward-channel bodies without a limit. An oversized one closes
        // its session, as an oversized frame closes a WebSocket.
        const reject = (): void => {
          (sessions.get(last(query.SID) ?? '')?.session ?? opened.get(req))?.close('Request body too large');
          tooLarge(req, res, maxLength);
        };
        if (Number(req.headers['content-length']) > maxLength) {
          reject();
          return;
        }
        let received = 0;
        req.on('data', (chunk: Buffer | string) => {
          received += chunk.length;
          if (received > maxLength && received - chunk.length <= maxLength) reject();
        });
      }
      try {
        middleware(req, res, () => {
          res.writeHead(404, { 'Content-Type': 'text/plain' });
          res.end('Not Found');
        });
      } catch (err) {
        // browserchannel throws on some malformed requests (a back-channel request without a
        // session id, for one); answer it instead of letting the server crash.
        logger.warn('browserchannel: rejected a malformed request', req.method, req.url, err);
        if (!res.headersSent) answer(res, 400, 'Bad Request', 'Bad Request');
        else res.destroy();
      }
    },
    close() {
      // Sparks ended by the shutdown queued a `stop` that browserchannel writes on the next tick;
      // close what is left only after that, or clients with an open back channel would miss it.
      return new Promise<void>((resolve) =>
        setImmediate(() => {
          // Each session's `close` ends its spark if that is still open.
          middleware.close();
          resolve();
        }),
      );
    },
  };
}
