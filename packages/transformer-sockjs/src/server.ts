import { randomBytes } from 'node:crypto';
import { parse as parseUrl } from 'node:url';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import sockjs from 'sockjs';
import type { Connection } from 'sockjs';
import type { ConnectionSink, ConnectionSocket, Logger, PrimusRequest, TransformerContext, TransformerServer } from '@primus/core/contract';
import permessageDeflate from 'permessage-deflate';

/** The listener options sockjs 0.3 understands (its published types miss some). */
interface ListenerOptions {
  prefix: string;
  log(severity: string, line: string): void;
  faye_server_options: Record<string, unknown> | null;
}

/** `server.listener(options).getHandler()`: answers a request or upgrade, or returns false when the path is not its own. */
type Handler = (req: IncomingMessage, resOrSocket: ServerResponse | Duplex, head?: Buffer) => boolean;

interface ListenerServer {
  listener(options: ListenerOptions): { getHandler(): Handler };
}

/** The parts of a sockjs 0.3 receiver (the request or WebSocket a session writes to) used here. */
interface ReceiverLike {
  /** `websocket`, `websocket-raw`, `xhr-streaming`, `xhr-polling`, `eventsource`, ... */
  protocol?: string;
  /** For the WebSocket receivers: the TCP socket under the WebSocket. */
  connection?: Duplex | null;
}

/** The parts of sockjs 0.3's (private) session object that the transformer needs. */
interface SessionLike {
  /** The session id from the URL (namespaced, see `createServer`); undefined for raw WebSockets. */
  session_id?: string | null;
  recv: ReceiverLike | null;
  readyState: number;
  /**
   * Messages waiting for the client's next request (polling and streaming transports). sockjs
   * hands the whole array to a receiver and puts a new, empty one in its place. Raw WebSocket
   * sessions have none.
   */
  send_buffer?: string[];
  didTimeout(): void;
}

type TrackedConnection = Connection & { sink?: ConnectionSink; _session?: SessionLike | null };

/** A WebSocket session's TCP socket, which knows the connection it carries. */
type TrackedSocket = Duplex & { sockjsConnection?: TrackedConnection };

const CLOSED = 3;

/**
 * SockJS copies only a whitelist of request headers onto its connection, and `via` is one of
 * them. Before a request reaches sockjs its `via` header is replaced by one of these, which carries
 * the request and its full headers through to the `connection` event. `toString()` gives the real
 * `via`, so anything that reads the header as text still sees the original value.
 */
class RequestCarrier {
  /** A copy of every header, taken before `via` was replaced. */
  readonly headers: IncomingHttpHeaders;
  private readonly via: string | undefined;

  constructor(readonly request: IncomingMessage) {
    this.headers = { ...request.headers };
    this.via = request.headers.via;
    (request.headers as Record<string, unknown>).via = this;
  }

  /** Put the request's own `via` back. */
  restore(): void {
    const headers = this.request.headers as Record<string, unknown>;
    if (headers.via !== this) return;
    if (this.via === undefined) delete headers.via;
    else headers.via = this.via;
  }

  toString(): string {
    return this.via ?? '';
  }
}

/**
 * The core's handle on one SockJS session. Over WebSocket, sockjs frames every message as it is
 * sent and its faye-websocket writes each frame to the TCP socket on its own: that socket is
 * corked until the core's per-tick flush (`context.flushSoon`), so the frames of one tick leave
 * in one `writev()`, in the order they were written, before the tick ends.
 */
class SockjsConnectionSocket implements ConnectionSocket {
  /** The server half's `context.flushSoon()`, on the prototype of each server's subclass (not a field per connection). */
  declare protected readonly flushSoon: TransformerContext['flushSoon'];
  /** Bytes of this connection's messages in the session's `send_buffer`... */
  private queued = 0;
  /** ...while that buffer holds this many entries; fewer means sockjs flushed it since. */
  private queuedEntries = 0;
  /** The TCP socket corked until the core's per-tick flush, if any. */
  private held: Duplex | undefined = undefined;

  constructor(private readonly conn: TrackedConnection) {}

  /** SockJS carries text only: the transformer is `textOnly`, so the core sends strings. */
  send(text: string): void {
    if (this.held === undefined) this.hold();
    if (!this.conn.write(text)) return;
    // Only this connection adds to the buffer, one entry per write, and a flush swaps it for an empty
    // one: counting entries keeps the byte count exact without adding up the buffer or keeping a
    // reference to it.
    const entries = this.conn._session?.send_buffer?.length ?? 0;
    if (entries === 0) this.queued = 0;
    else if (entries > this.queuedEntries) this.queued += Buffer.byteLength(text);
    else this.queued = Buffer.byteLength(text);
    this.queuedEntries = entries;
  }

  /**
   * What the client has not received yet, as far as sockjs shows it: the messages waiting in the
   * session for the client's next poll or stream, plus, over WebSocket, the TCP socket's write
   * buffer (sockjs's faye-websocket writes every frame straight to it). What was already written
   * to a polling or streaming response is not counted: the client has to read it before it comes
   * back for more, which is what makes the session's buffer grow.
   */
  get bufferedAmount(): number {
    const session = this.conn._session;
    if (!session) return 0;
    const waiting = (session.send_buffer?.length ?? 0) >= this.queuedEntries ? this.queued : 0;
    return waiting + (webSocketOf(session)?.writableLength ?? 0);
  }

  flush(): void {
    const tcp = this.held;
    if (!tcp) return;
    this.held = undefined;
    tcp.uncork();
  }

  close(): void {
    // sockjs's default close frame, 1000 "Normal closure", as happn-primus's server sent.
    this.conn.close();
    this.flush();
  }

  /** Cork the session's TCP socket for the rest of this tick, when the session runs over WebSocket. */
  private hold(): void {
    const session = this.conn._session;
    const tcp = session ? webSocketOf(session) : undefined;
    if (!tcp || !tcp.writable) return;
    this.held = tcp;
    tcp.cork();
    this.flushSoon(this);
  }
}

/** The TCP socket of a session that runs over a WebSocket, or undefined for HTTP transports. */
function webSocketOf(session: SessionLike): Duplex | undefined {
  const recv = session.recv;
  if (!recv || (recv.protocol !== 'websocket' && recv.protocol !== 'websocket-raw')) return undefined;
  return recv.connection ?? undefined;
}

// Shared listeners (called with `this` = the connection) instead of closures per connection.
function onData(this: TrackedConnection, message: string): void {
  this.sink?.data(message);
}
function onError(this: TrackedConnection, err: unknown): void {
  this.sink?.error(err);
}
// A WebSocket session's TCP socket emptied its write buffer.
function onSocketDrain(this: TrackedSocket): void {
  this.sockjsConnection?.sink?.drain();
}
function onClose(this: TrackedConnection): void {
  const sink = this.sink;
  this.sink = undefined;
  this.removeListener('data', onData);
  this.removeListener('error', onError);
  this.removeListener('close', onClose);
  sink?.end();
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The path and query of a request URL exactly as sockjs reads them, with Node's legacy
 * `url.parse` (absolute-form URLs, fragments, backslashes read as slashes): the session id is
 * namespaced in what sockjs will match, not in a spelling of it.
 *
 * An origin-form URL (starting with `/` but not `//` or `/\`, which `url.parse` may read as a
 * host) reads the same with the core's parse, which the request already carries: there `url.parse`
 * only %-escapes characters, never a `/` or a `.`, so the same segments match. Other URLs
 * (absolute-form, `//host` forms) are parsed again.
 */
function asSockjsSees(req: IncomingMessage): { path: string; search: string } {
  const url = req.url ?? '';
  const request = req as Partial<PrimusRequest>;
  if (request.uri && url === request.originalUrl && url.charCodeAt(0) === SLASH && url.charCodeAt(1) !== SLASH && url.charCodeAt(1) !== BACKSLASH) {
    return { path: request.uri.pathname, search: request.uri.search };
  }
  const parsed = parseUrl(url);
  return { path: parsed.pathname ?? '', search: parsed.search ?? '' };
}

const SLASH = 0x2f;
const BACKSLASH = 0x5c;

/** Route sockjs's log lines to the Primus `log` event, at sockjs's own severity. */
function sockjsLog(logger: Logger): (severity: string, line: string) => void {
  return (severity, line) => {
    if (severity === 'error') logger.error(line);
    else if (severity === 'info') logger.info(line);
    else if (severity === 'debug') logger.debug(line);
    else logger.log(severity, line);
  };
}

/** The close code a session gets when one of its requests carries a body over `maxLength`. */
export const TOO_LARGE = 1009;

/** The server half: sockjs 0.3 behind Primus's HTTP handling. */
export function createServer(context: TransformerContext): TransformerServer {
  const { options, logger } = context;
  const { maxLength } = options;
  const prefix = options.pathname === '/' ? '' : escapeRegExp(options.pathname);
  // `<pathname>/<server>/<session>/<transport>`, as sockjs matches it.
  const sessionPath = new RegExp(`^(${prefix}/[^/.]+/)([^/.]+)(/[^/.]+/?)$`);
  /**
   * sockjs 0.3 keeps every session of the process in one module-wide plain object, keyed by the
   * session id the client chose. Without a namespace, a request to one Primus server could reach
   * a session of another server in the same process, one that authorised its own client (read
   * its messages, inject some), and an id such as `constructor` or `__proto__` resolves to
   * Object's own properties and leaves the request hanging. The transformer prefixes every
   * session id it hands to sockjs with a random tag of this server; clients never see it.
   */
  const namespace = randomBytes(6).toString('hex');
  /** Open connections by their (namespaced) session id, to close one whose request is too large. */
  const bySession = new Map<string, TrackedConnection>();
  const faye: Record<string, unknown> = { maxLength: options.maxLength };
  if (options.compression) faye.extensions = [permessageDeflate];

  // Every connection until sockjs reports it closed, which for a polling session is
  // disconnect_delay (5 s) after it was closed: sockjs waits that long for a late poll to hand
  // the close frame to.
  const sessions = new Set<TrackedConnection>();
  class ServerSocket extends SockjsConnectionSocket {}
  Object.defineProperty(ServerSocket.prototype, 'flushSoon', { value: context.flushSoon });
  const service = sockjs.createServer();
  service.on('connection', (conn: TrackedConnection) => {
    sessions.add(conn);
    const key = conn._session?.session_id;
    if (key) bySession.set(key, conn);
    conn.once('close', () => {
      sessions.delete(conn);
      if (key && bySession.get(key) === conn) bySession.delete(key);
    });
    const carrier = conn.headers?.via as unknown;
    let headers: IncomingHttpHeaders = conn.headers;
    let request: IncomingMessage | undefined;
    if (carrier instanceof RequestCarrier) {
      carrier.restore();
      headers = carrier.headers;
      request = carrier.request;
      // sockjs keeps the connection's header copy; it must not hold on to the carrier either.
      if (headers.via === undefined) delete conn.headers.via;
      else conn.headers.via = headers.via;
    }
    const url = conn.url ?? '';
    const q = url.indexOf('?');
    conn.sink = context.connect({ headers, address: conn, query: q === -1 ? '' : url.slice(q + 1), id: conn.id, request }, new ServerSocket(conn));
    // A session opened over WebSocket stays on it; polling and streaming sessions are told in
    // `request` when the client comes back for what waits.
    const socket: TrackedSocket | undefined = conn._session ? webSocketOf(conn._session) : undefined;
    if (socket) {
      socket.sockjsConnection = conn;
      socket.on('drain', onSocketDrain);
    }
    conn.on('data', onData);
    conn.on('error', onError);
    conn.on('close', onClose);
  });

  const handle = (service as unknown as ListenerServer)
    // sockjs matches `^<prefix>/...`, so the root pathname is the empty prefix.
    .listener({ prefix: options.pathname === '/' ? '' : escapeRegExp(options.pathname), log: sockjsLog(logger), faye_server_options: faye })
    .getHandler();

  /**
   * sockjs buffers request bodies (sends, `chunking_test`) without a limit, copying the whole
   * buffer for every chunk. A body over `maxLength`, declared or streamed, is answered 413 and its
   * connection closed; the session it was sent to is closed with 1009, as an oversized frame
   * closes a WebSocket, since its message is lost.
   */
  function limitBody(req: IncomingMessage, res: ServerResponse, key: string | undefined): boolean {
    const tooLarge = (): void => {
      logger.warn(`sockjs: refused a request body larger than maxLength (${maxLength} bytes): ${req.method} ${req.url}`);
      const conn = key ? bySession.get(key) : undefined;
      if (conn) {
        // sockjs writes the code as given; its typings ask for a string, which would arrive quoted.
        (conn.close as unknown as (code: number, reason: string) => boolean).call(conn, TOO_LARGE, 'Request body too large');
        // sockjs reports the close only once the client collected the close frame, or after its
        // disconnect_delay; the message is lost either way, so the spark ends now.
        onClose.call(conn);
      }
      // The rest of the body is not read: close the connection once the answer is out.
      req.pause();
      if (res.headersSent) {
        req.socket.destroy();
        return;
      }
      res.writeHead(413, { 'Content-Type': 'text/plain; charset=UTF-8', Connection: 'close' });
      res.end(`Request body larger than ${maxLength} bytes`, () => req.socket.destroy());
    };
    if (Number(req.headers['content-length']) > maxLength) {
      tooLarge();
      return false;
    }
    let received = 0;
    const count = (chunk: Buffer): void => {
      received += chunk.length;
      if (received <= maxLength) return;
      req.removeListener('data', count);
      tooLarge();
    };
    req.on('data', count);
    return true;
  }

  return {
    request(req, res) {
      const url = req.url ?? '';
      const { path, search } = asSockjsSees(req);
      const [, head = '', id, tail = ''] = sessionPath.exec(path) ?? [];
      const key = id === undefined ? undefined : `${namespace}-${id}`;
      if (req.method === 'POST' && !limitBody(req, res, key)) return;
      const carrier = new RequestCarrier(req);
      res.once('close', () => carrier.restore());
      // sockjs reads the URL (and takes the session id from it) before `handle` returns.
      if (key !== undefined) req.url = head + key + tail + search;
      let handled: boolean;
      try {
        handled = handle(req, res);
      } finally {
        req.url = url;
      }
      if (handled) {
        // A poll or stream of a session took what was waiting (sockjs flushes synchronously as it
        // registers the request): a writer that was told to wait may write again.
        if (key) bySession.get(key)?.sink?.drain();
        return;
      }
      carrier.restore();
      // Primus owns every path that starts with the pathname (`/primusfoo` too), sockjs only the
      // pathname and what lies below it: answer the rest as sockjs answers unknown paths.
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=UTF-8' });
      res.end('404 Error: Page not found\n');
    },
    upgrade(req, socket, head) {
      const carrier = new RequestCarrier(req);
      socket.once('close', () => carrier.restore());
      if (handle(req, socket, head)) return;
      carrier.restore();
      socket.destroy();
    },
    close() {
      // Primus no longer routes requests here, so no poll can come back for a lingering session:
      // expire each one now, as its disconnect_delay timer would, instead of keeping the process
      // alive for it.
      for (const conn of sessions) {
        const session = conn._session;
        if (!session || session.recv || session.readyState === CLOSED) continue;
        try {
          session.didTimeout();
        } catch (err) {
          logger.error('sockjs: could not expire a session on shutdown', err);
        }
      }
      sessions.clear();
    },
  };
}
