import { randomUUID } from 'node:crypto';
import { maxHeaderSize, STATUS_CODES, type IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { PrimusError, type ConnectionSink, type ConnectionSocket, type PrimusRequest, type TransformerContext, type TransformerServer } from '@primus/core/contract';
import { LwsError, type LwsErrorCode } from './errors';
import { ADOPT, EVENT, loadBinding, type NativeBinding, type NativeHandle } from './native';

/** Options of the lws transformer; see `createLwsTransformer()`. */
export interface LwsOptions {
  /**
   * Bytes queued for one connection above which the server stops reading from it until the
   * queue has drained to half of this: a client that sends faster than it reads is slowed down.
   * @default 1048576
   */
  highWaterMark?: number;
  /**
   * Bytes queued for one connection above which it is dropped with `LWS_ERR_BUFFER_FULL`: a
   * client that stopped reading cannot make the server buffer without bound. One message larger
   * than this is still accepted into an empty queue.
   * @default 67108864
   */
  maxBufferedAmount?: number;
  /**
   * How long the server's shutdown waits for close handshakes still in progress before it drops
   * what is left, in ms.
   * @default 2000
   */
  closeTimeout?: number;
}

/** Defaults of `LwsOptions`. */
export const DEFAULTS: Required<LwsOptions> = Object.freeze({
  highWaterMark: 1024 * 1024,
  maxBufferedAmount: 64 * 1024 * 1024,
  closeTimeout: 2000,
});

/** The libuv stream handle behind a net.Socket; Node does not expose its descriptor otherwise. */
type StreamHandle = { fd?: number; reading?: boolean; readStop?(): number; close?(): void };
/** The addresses Node reads from a socket's handle (`remoteAddress`, `localPort`, ...). */
type SocketName = { address?: string; port?: number; family?: string };
/** On a socket libwebsockets took over: the connection it stands for. */
const CONNECTION = Symbol('lwsConnection');
type AdoptedSocket = Socket & {
  _handle?: StreamHandle | null;
  _read(size: number): void;
  _final(cb: (err?: Error | null) => void): void;
  _destroy(err: Error | null, cb: (err?: Error | null) => void): void;
  _getpeername?(): SocketName;
  _getsockname?(): SocketName;
  _sockname?: SocketName;
  encrypted?: boolean;
  [CONNECTION]?: Connection;
};

/** One upgraded connection, from adoption until libwebsockets has let go of it. */
class Connection {
  sink: ConnectionSink | undefined;
  /** libwebsockets reported the end; the Node socket is being released. */
  ended = false;

  constructor(
    readonly service: LwsService,
    readonly id: number,
    readonly socket: AdoptedSocket,
    readonly request: IncomingMessage,
    readonly address: { remoteAddress?: string; remotePort?: number },
  ) {}
}

function noop(): void {}

// Methods of a socket libwebsockets took over, shared by all of them rather than closures per
// connection (they run on `this`, the Node socket).

function destroyAdopted(this: AdoptedSocket, err: Error | null, cb: (err?: Error | null) => void): void {
  // Synchronously: whoever destroys the socket (code that tracks the server's sockets to close
  // them, a crash simulation) may write to the spark next, and nothing may reach the client after
  // this.
  const connection = this[CONNECTION];
  connection?.service.terminateConnection(connection.id);
  Socket.prototype._destroy.call(this, err, cb);
}

/**
 * socket.end(): without a handle Node would wait for a 'connect' that never comes. Ending the
 * socket used to shut the connection down under libwebsockets: drop the WebSocket instead.
 */
function finalAdopted(this: AdoptedSocket, cb: (err?: Error | null) => void): void {
  const connection = this[CONNECTION];
  connection?.service.terminateConnection(connection.id);
  cb();
}

/** What Node read from the kernel before the handle went (`localAddress`, `localPort`). */
function cachedSockname(this: AdoptedSocket): SocketName {
  return this._sockname ?? {};
}

/** Headers libwebsockets must not see as sent: it picks the vhost by Host and refuses subprotocols other than its own. */
const REWRITTEN = new Set(['host', 'sec-websocket-protocol']);

/**
 * The request line and headers as the client sent them, for libwebsockets to parse again, except
 * that Host names our vhost and the subprotocol offer is left out (the chosen one is added to the
 * response by the binding). The spark sees Node's parse of the original headers.
 */
function requestHead(req: PrimusRequest, vhost: string): Buffer {
  const url = req.originalUrl ?? req.url ?? '/';
  let head = `${req.method} ${url} HTTP/${req.httpVersion}\r\nHost: ${vhost}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (REWRITTEN.has(raw[i]!.toLowerCase())) continue;
    head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  // Node decodes header bytes as latin1, so latin1 gives back the original bytes.
  return Buffer.from(`${head}\r\n`, 'latin1');
}

const KEY = /^[+/0-9A-Za-z]{22}==$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Check an upgrade request. Returns `[status, message]` when it is no WebSocket handshake, else
 * the subprotocol to confirm: like ws, the first one the client offers.
 */
function checkUpgrade(req: IncomingMessage): [number, string] | { protocol?: string } {
  if (req.method !== 'GET') return [405, 'Invalid HTTP method'];
  if (String(req.headers.upgrade).toLowerCase() !== 'websocket') return [400, 'Invalid Upgrade header'];
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !KEY.test(key)) return [400, 'Missing or invalid Sec-WebSocket-Key header'];
  const version = req.headers['sec-websocket-version'];
  if (version !== '8' && version !== '13') return [400, 'Missing or invalid Sec-WebSocket-Version header'];
  const offer = req.headers['sec-websocket-protocol'];
  if (offer === undefined) return {};
  const protocols = offer.split(',').map((protocol) => protocol.trim());
  if (!protocols.every((protocol) => TOKEN.test(protocol))) return [400, 'Invalid Sec-WebSocket-Protocol header'];
  return { protocol: protocols[0] };
}

/** Answer an upgrade with an HTTP error and close once it is out. */
function refuse(socket: Socket, status: number, message: string): void {
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`);
}

/** The core's handle on one libwebsockets connection. */
class LwsConnectionSocket implements ConnectionSocket {
  /**
   * Bytes queued for the connection in the binding, as it last reported them. Never below the
   * truth: the queue only shrinks while JavaScript does not run, and only grows through `write()`,
   * which reports it again.
   */
  known = 0;
  /** UTF-8 bytes of the messages held in the service's batch for this tick, at most. */
  heldBound = 0;
  /** Their length (UTF-16 units for strings): what `bufferedAmount` counts for them. */
  heldLength = 0;
  /** This connection's result slot in the service's batch, -1 while it holds nothing. */
  slot = -1;

  constructor(
    private readonly service: LwsService,
    readonly id: number,
  ) {}

  /**
   * Held in the service's batch until the core's per-tick flush, which writes every connection's
   * messages of the tick in one native call (and each connection's in one system call). False
   * once the queue is above the server's `highWaterMark`: a DRAIN event follows.
   */
  send(payload: string | Buffer | Uint8Array): boolean {
    return this.service.send(this, payload);
  }

  /** A broadcast: the same payload object for every connection, converted once per batch. */
  sendFrame(_frame: unknown, payload: string | Buffer | Uint8Array): boolean {
    return this.service.send(this, payload);
  }

  flush(): void {
    this.service.flush();
  }

  /**
   * Bytes queued for the client that libwebsockets has not yet handed to the kernel, messages held
   * for this tick's write included (counted by their length).
   */
  get bufferedAmount(): number {
    if (this.slot >= 0) return this.known + this.heldLength;
    return (this.known = this.service.buffered(this.id));
  }

  close(): void {
    this.service.flush();
    // happn-primus's servers closed with 1000; a bare close would reach peers as 1005.
    this.service.closeConnection(this.id, 1000);
  }
}

/** Triples [connection id, payload index, result slot] in `LwsService.ops`. */
const OP = 3;

/** The server half for one Primus server: libwebsockets behind Node's HTTP upgrade handling. */
export class LwsService implements TransformerServer {
  private binding: NativeBinding | undefined;
  private handle: NativeHandle | null = null;
  private readonly connections = new Map<number, Connection>();
  /**
   * The messages of this tick, for every connection, written in one native call by `flush()`:
   * `ops` holds [connection id, index in `payloads`, the connection's slot in `held`] for each.
   * A broadcast's payload is one entry of `payloads` for all of its messages.
   */
  private ops = new Float64Array(OP * 256);
  private count = 0;
  private payloads: (string | Buffer | Uint8Array)[] = [];
  private held: LwsConnectionSocket[] = [];
  private results = new Float64Array(256);
  /** What the core calls at the end of the tick (`context.flushSoon`): this service's batch. */
  private readonly flusher: ConnectionSocket = { send: () => true, close: noop, flush: () => this.flush() };
  /** Queued and held bytes up to which `send()` holds without asking the binding. */
  private readonly holdMark: number;
  private closing = false;
  /** This server's vhost name, unique in the process. */
  private readonly name = `primus-${randomUUID()}`;
  private closed: Promise<void> | undefined;
  private drained: (() => void) | null = null;

  constructor(
    private readonly context: TransformerContext,
    private readonly options: Required<LwsOptions>,
  ) {
    const server = context.server;
    if (server?.secure) {
      throw new PrimusError(
        'PRIMUS_ERR_INVALID_SERVER',
        'Primus: the lws transformer needs a plain http.Server: libwebsockets takes over the TCP socket, which an HTTPS server has wrapped in TLS. Terminate TLS in front of Node, or use the websockets transformer.',
      );
    }
    // Load the binding now so a missing libwebsockets shows at `new Primus()`. Primus.createSocket
    // builds a server around a bare EventEmitter that never upgrades: it needs no binding.
    if (server) this.binding = loadBinding();
    this.holdMark = Math.min(context.options.highWaterMark, options.maxBufferedAmount);
  }

  /**
   * Whether new connections are welcome. Once the HTTP server stops listening (server.close(),
   * primus.destroy()), connections still in their handshake get no spark: Primus has already ended
   * the sparks it knows, and server.close() would otherwise wait for them.
   */
  private get accepting(): boolean {
    return !this.closing && this.context.server?.listening !== false;
  }

  private native(): NativeBinding {
    this.binding ??= loadBinding();
    return this.binding;
  }

  /** The libwebsockets context, created on the first upgrade. */
  private ensureHandle(): NativeHandle {
    if (this.handle) return this.handle;
    const { compression, maxLength } = this.context.options;
    const { highWaterMark, maxBufferedAmount } = this.options;
    // Node has parsed the request headers under its own limit already: accept what it accepted.
    const writeMark = this.writeMark;
    this.handle = this.native().create({ name: this.name, compression, maxLength, highWaterMark, maxBufferedAmount, writeMark, maxHeaderSize }, this.dispatch);
    return this.handle;
  }

  upgrade(req: PrimusRequest, duplex: Duplex, head: Buffer): void {
    const socket = duplex as AdoptedSocket;
    if (!this.accepting || socket.destroyed) {
      socket.destroy();
      return;
    }
    const streamHandle = socket._handle;
    const fd = streamHandle?.fd;
    if (socket.encrypted || !streamHandle || typeof fd !== 'number' || fd < 0) {
      this.context.logger.error('lws transformer: an upgrade arrived on a socket without a file descriptor (TLS or a wrapped stream); it was refused');
      refuse(socket, 501, 'The lws transformer serves plain TCP connections only');
      return;
    }
    // The checks and answers ws makes: libwebsockets would take any version, close without a word
    // on a bad key, and try HTTP/2 for an h2c upgrade.
    const checked = checkUpgrade(req);
    if (Array.isArray(checked)) {
      refuse(socket, checked[0], checked[1]);
      return;
    }
    const binding = this.native();
    const handle = this.ensureHandle();

    // From here libwebsockets owns the byte stream: Node must not read another byte. Its socket
    // object stays (without a descriptor once libwebsockets has its own, see detach()), so Node's
    // bookkeeping (server.close(), connection counts) still sees the connection, and destroying
    // it drops the WebSocket.
    streamHandle.readStop?.();
    streamHandle.reading = false;
    socket._read = noop;
    const parts = [requestHead(req, this.name), head];
    // Bytes Node read past the request while the middleware ran.
    if (socket.readableLength > 0) {
      const buffered = socket.read() as Buffer | null;
      if (buffered) parts.push(buffered);
    }
    const address = { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort };
    const id = binding.adopt(handle, fd, Buffer.concat(parts), checked.protocol);
    if (id < 0) {
      this.notAdopted(socket, id);
      return;
    }
    const connection = new Connection(this, id, socket, req, address);
    this.connections.set(id, connection);
    this.detach(connection, streamHandle);
  }

  /**
   * libwebsockets holds a descriptor of its own for the connection now: close Node's, so that a
   * connection costs one descriptor instead of two (with a limit of 20000, 10000 connections
   * would otherwise exhaust it). Closing one of two descriptors of the same socket sends nothing
   * to the peer (libuv closes without shutdown(), and removes the descriptor from its epoll set
   * first). Node's socket object stays, without a handle, so the HTTP server still counts the
   * connection, server.close() still waits for it, and destroying it still drops the WebSocket.
   */
  private detach(connection: Connection, streamHandle: StreamHandle): void {
    const { socket } = connection;
    // Without a handle Node cannot ask the kernel for the addresses: have it read and cache them
    // now (it answers from its cache for the remote end, and cachedSockname for the local one).
    socket._getpeername?.();
    socket._getsockname?.();
    socket[CONNECTION] = connection;
    socket._getsockname = cachedSockname;
    socket._destroy = destroyAdopted;
    socket._final = finalAdopted;
    streamHandle.close?.();
    socket._handle = null;
  }

  /** Drop a connection at once, without a close handshake, unless libwebsockets is done with it. */
  terminateConnection(id: number): void {
    if (this.handle && this.connections.has(id)) this.binding!.terminate(this.handle, id);
  }

  /** libwebsockets did not take the connection over: say why, to the client and in the log. */
  private notAdopted(socket: AdoptedSocket, result: number): void {
    if (result === ADOPT.NO_DESCRIPTOR) {
      this.context.logger.error(
        'lws transformer: a WebSocket upgrade was answered with 503: the process is out of file descriptors (EMFILE or ENFILE). Each connection holds one; raise the limit (ulimit -n) above the number of connections.',
      );
      refuse(socket, 503, 'The server has too many open connections (out of file descriptors)');
    } else if (result === ADOPT.NO_MEMORY) {
      this.context.logger.error('lws transformer: out of memory, a WebSocket upgrade was answered with 503');
      refuse(socket, 503, 'The server is out of memory');
    } else {
      socket.destroy();
    }
  }

  /**
   * Hold a message for `socket` until the end of the tick. Returns false when the connection's
   * queue is now above the write mark. While the queue as last reported plus an upper bound of
   * what is held stays under the mark (and under `maxBufferedAmount`), the answer is known without
   * asking the binding; past it, the batch is written at once and the binding's count decides, so
   * `write()` turns false with the kernel's buffer as full as it gets and the queue then holds
   * still while the client does not read.
   */
  send(socket: LwsConnectionSocket, payload: string | Buffer | Uint8Array): boolean {
    if (!this.handle) return true;
    const length = typeof payload === 'string' ? payload.length : payload.byteLength;
    const bound = typeof payload === 'string' ? 3 * length : length;
    let slot = socket.slot;
    if (slot < 0) {
      slot = socket.slot = this.held.length;
      this.held.push(socket);
    }
    socket.heldBound += bound;
    socket.heldLength += length;
    const payloads = this.payloads;
    let index = payloads.length - 1;
    if (index < 0 || payloads[index] !== payload) index = payloads.push(payload) - 1;
    let at = this.count * OP;
    if (at === this.ops.length) {
      const grown = new Float64Array(2 * at);
      grown.set(this.ops);
      this.ops = grown;
    }
    const ops = this.ops;
    ops[at] = socket.id;
    ops[at + 1] = index;
    ops[at + 2] = slot;
    if (this.count++ === 0) this.context.flushSoon(this.flusher);
    if (socket.known + socket.heldBound <= this.holdMark) return true;
    this.flush();
    return socket.known <= this.writeMark;
  }

  /** Write every connection's messages of this tick: one native call. */
  flush(): void {
    const count = this.count;
    if (count === 0) return;
    const held = this.held;
    const payloads = this.payloads;
    this.count = 0;
    this.held = [];
    this.payloads = [];
    if (this.results.length < held.length) this.results = new Float64Array(2 * held.length);
    const results = this.results;
    try {
      if (this.handle) this.binding!.write(this.handle, this.ops, count, payloads, results);
      else results.fill(-1, 0, held.length);
    } finally {
      for (let i = 0; i < held.length; i++) {
        const socket = held[i]!;
        const queued = results[i]!;
        socket.known = queued > 0 ? queued : 0;
        socket.heldBound = socket.heldLength = 0;
        socket.slot = -1;
      }
    }
  }

  /** Bytes queued for one connection. */
  buffered(id: number): number {
    return this.handle ? this.binding!.buffered(this.handle, id) : 0;
  }

  /** Queued bytes above which a connection's `send()` returns false (the server's `highWaterMark`). */
  get writeMark(): number {
    return this.context.options.highWaterMark;
  }

  /** Close one connection after what is queued for it. */
  closeConnection(id: number, code: number): void {
    if (this.handle) this.binding!.close(this.handle, id, code);
  }

  /** Everything the binding reports, once per loop iteration (see `NativeDispatch`). */
  private readonly dispatch = (events: Float64Array, count: number, values: unknown[]): void => {
    let failed = false;
    let failure: unknown;
    for (let i = 0, at = 0, next = 0; i < count; i++, at += 2) {
      const type = events[at]!;
      try {
        this.event(type, events[at + 1]!, type === EVENT.TEXT || type === EVENT.BINARY || type === EVENT.ERROR ? values[next++] : undefined);
      } catch (err) {
        // One listener's exception must not cost other connections their events; it is rethrown
        // once the batch is done, as an uncaught exception like any listener's.
        if (!failed) {
          failed = true;
          failure = err;
        }
      }
    }
    if (failed) throw failure;
  };

  private event(type: number, id: number, data: unknown): void {
    const connection = this.connections.get(id);
    if (!connection) return;
    switch (type) {
      case EVENT.OPEN: {
        if (!this.accepting) {
          this.closeConnection(id, 1001);
          return;
        }
        const req = connection.request;
        connection.sink = this.context.connect({ headers: req.headers, address: connection.address, request: req }, new LwsConnectionSocket(this, id));
        return;
      }
      case EVENT.TEXT:
      case EVENT.BINARY:
        connection.sink?.data(data);
        return;
      case EVENT.ERROR:
        connection.sink?.error(new LwsError(data as LwsErrorCode));
        return;
      case EVENT.PING:
        connection.sink?.ping();
        return;
      case EVENT.DRAIN:
        connection.sink?.drain();
        return;
      case EVENT.CLOSE:
        this.release(connection);
        return;
    }
  }

  /** libwebsockets let go of the connection: release Node's socket and end the spark. */
  private release(connection: Connection): void {
    if (connection.ended) return;
    connection.ended = true;
    this.connections.delete(connection.id);
    connection.socket.destroy();
    const sink = connection.sink;
    connection.sink = undefined;
    try {
      sink?.end();
    } finally {
      if (this.connections.size === 0) this.drained?.();
    }
  }

  /** Shut down; called when Primus is destroyed and when the HTTP server closes, maybe both. */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    const handle = this.handle;
    if (!handle) return;
    // Never inside a dispatch: the binding is still on the stack there.
    await new Promise<void>((resolve) => setImmediate(resolve));
    // Sparks were ended by Primus already; these are connections still in their handshake.
    for (const id of this.connections.keys()) this.binding!.close(handle, id, 1001);
    if (this.connections.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.closeTimeout);
        this.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.drained = null;
    this.binding!.destroy(handle);
    this.handle = null;
    // destroy() reported every connection it closed; anything left is released here.
    for (const connection of [...this.connections.values()]) this.release(connection);
  }

  /** Counters for tests and monitoring: open connections, bytes queued, connections paused. */
  stats(): { connections: number; queuedBytes: number; paused: number } {
    return this.handle ? this.binding!.stats(this.handle) : { connections: 0, queuedBytes: 0, paused: 0 };
  }
}

/** The transformer's `server()`: one `LwsService` per Primus server. */
export function createServer(context: TransformerContext, options: Required<LwsOptions> = DEFAULTS): LwsService {
  return new LwsService(context, options);
}
