import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Server, type Socket } from 'engine.io';
import type { ConnectionSink, ConnectionSocket, DrainOptions, PrimusRequest, RemoteLike, TransformerContext, TransformerServer } from '@primus/core/contract';

type TrackedSocket = Socket & { sink?: ConnectionSink; handshakeTransport?: Socket['transport']; handle?: EngineIoConnectionSocket };

/**
 * How long `primus.destroy()` waits for long-polling clients to collect what their sparks sent
 * last (`primus::server::close` above all) before engine.io is closed.
 */
export const DRAIN_TIMEOUT = 2000;

/** The core's handle on one engine.io connection; `socket` is the engine.io `Socket` itself. */
export class EngineIoConnectionSocket implements ConnectionSocket {
  /**
   * Bytes of messages waiting in engine.io's `writeBuffer` for the transport: over long-polling,
   * for the client's next poll; over WebSocket, for the previous batch to be written out. A
   * shared `flush` listener on the server sets it back to 0 when the buffer goes to the transport.
   */
  queued = 0;
  /** The TCP socket corked until the core's per-tick flush, if any. */
  private held: Duplex | undefined = undefined;

  /** The server half's `context.flushSoon()`, on the prototype of each server's subclass (not a field per connection). */
  declare protected readonly flushSoon: TransformerContext['flushSoon'];

  constructor(readonly socket: Socket) {}

  send(payload: string | Buffer | Uint8Array): void {
    const state = this.socket.readyState;
    // engine.io buffers while an upgrade is in flight and drops writes once the socket is closing.
    if (state !== 'closing' && state !== 'closed') this.queued += typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
    this.socket.send(payload as string | Buffer);
  }

  /** A broadcast: the same message, with the WebSocket frame `createServer().frame()` built once for every connection. */
  sendFrame(frame: unknown, payload: string | Buffer | Uint8Array): void {
    const { options, bytes } = frame as BroadcastFrame;
    const state = this.socket.readyState;
    if (state !== 'closing' && state !== 'closed') this.queued += bytes;
    // engine.io writes the frame as it is over WebSocket, and encodes the payload as usual over
    // long-polling (or with permessage-deflate, which is never framed here).
    // engine.io's typings leave `wsPreEncodedFrame` out of its send options.
    this.socket.send(payload as string, options as Parameters<Socket['send']>[1]);
  }

  /**
   * What the client has not received yet, as far as engine.io shows it: the messages waiting in
   * `writeBuffer`, plus, over WebSocket, what `ws` still holds (its queue and the TCP socket's
   * write buffer). A poll response already written is not counted: the client takes it with the
   * request it is answering, and only comes back for more once it has read it.
   */
  get bufferedAmount(): number {
    const transport = this.socket.transport as WatchedTransport;
    return this.queued + (transport.name === 'websocket' ? (transport.socket?.bufferedAmount ?? 0) : 0);
  }

  /**
   * engine.io is about to write packets to `tcp`, the connection under its WebSocket transport:
   * cork it, so that every frame `ws` writes for this connection during this tick leaves in one
   * `writev()` when the core flushes, before the tick ends.
   */
  hold(tcp: Duplex): void {
    if (this.held) return;
    this.held = tcp;
    tcp.cork();
    this.flushSoon(this);
  }

  flush(): void {
    const tcp = this.held;
    if (!tcp) return;
    this.held = undefined;
    tcp.uncork();
  }

  close(): void {
    // Closes once the buffered packets are flushed: over long-polling, with the client's next poll.
    this.socket.close();
    this.flush();
  }
}

/** What `frame()` builds for one broadcast: engine.io's send options carrying the frame, and the message's size. */
interface BroadcastFrame {
  readonly options: { wsPreEncodedFrame: Buffer[] };
  readonly bytes: number;
}

/**
 * The WebSocket frame engine.io would write for a text message (an Engine.IO `message` packet,
 * `4` and the text, in one unmasked final text frame), built once for a broadcast. engine.io's
 * WebSocket transport writes a packet's `wsPreEncodedFrame` as it is, as Socket.IO's broadcasts
 * use it, instead of encoding and framing the packet for each connection.
 */
function broadcastFrame(text: string): BroadcastFrame {
  const bytes = Buffer.byteLength(text);
  const length = bytes + 1;
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81;
  if (header === 2) frame[1] = length;
  else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 0x100000000), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  frame[header] = 0x34; // '4', the message packet type
  frame.write(text, header + 1, 'utf8');
  return { options: { wsPreEncodedFrame: [frame] }, bytes };
}

/** An engine.io transport; the WebSocket one keeps its `ws` socket as `socket`, and `ws` its TCP socket as `_socket`. */
type WatchedTransport = Socket['transport'] & { socket?: { bufferedAmount?: number; _socket?: unknown }; owner?: TrackedSocket };

/** The TCP socket under a WebSocket transport, when it can be corked. */
function tcpSocketOf(transport: WatchedTransport): Duplex | undefined {
  const tcp = transport.socket?._socket as Partial<Duplex> | undefined;
  return tcp && typeof tcp.cork === 'function' && typeof tcp.uncork === 'function' && tcp.writable ? (tcp as Duplex) : undefined;
}

/**
 * Quirk of engine.io's polling transport: closing it while no poll is pending arms a 30 s timer
 * (`closeTimeout`) that waits for the client's next poll. Nothing clears that timer when the
 * socket closes another way (the client left, an upgrade finished, `engine.close()`), and it
 * keeps the process alive. Run the pending close now; the timer goes with it. Only the handshake
 * transport can be polling: upgrades go to WebSocket.
 */
function finishOrderlyClose(socket: TrackedSocket): void {
  for (const transport of new Set([socket.handshakeTransport, socket.transport])) {
    const polling = transport as { shouldClose?: (() => void) | null } | undefined;
    const pending = polling?.shouldClose;
    if (!polling || typeof pending !== 'function') continue;
    polling.shouldClose = null;
    pending();
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * engine.io-client 1.x (protocol 3, the client happn-primus ships) UTF-8-encodes every text packet
 * it sends by polling, one byte per code unit, and engine.io 6's protocol 3 parser does not undo
 * it: without this, "😀" would arrive as "ð\u009f\u0098\u0080".
 */
function decodePolling3(text: string): string {
  if (!/[\u0080-\u00ff]/.test(text) || /[^\u0000-\u00ff]/.test(text)) return text;
  try {
    return strictUtf8.decode(Buffer.from(text, 'latin1'));
  } catch {
    return text;
  }
}

/**
 * Give engine.io the query Primus parsed, which the authorization hook and the middleware judged.
 * engine.io takes a request's `_query` when one is set (as Connect's is); left to parse the URL
 * itself it keeps the last of repeated keys, where the hook sees all of them:
 * `transport=polling&transport=websocket` would pass a hook that refuses WebSocket upgrades and
 * still upgrade. With the same object, a repeated key is an array, which engine.io refuses.
 */
function shareQuery(req: PrimusRequest): void {
  (req as PrimusRequest & { _query?: unknown })._query = req.query;
}

// Shared listeners (called with `this` = the engine.io socket) instead of closures per connection.
function onMessage(this: TrackedSocket, data: string | Buffer): void {
  if (typeof data === 'string' && this.protocol === 3 && this.transport?.name === 'polling') data = decodePolling3(data);
  this.sink?.data(data);
}
function onError(this: TrackedSocket, err: Error): void {
  this.sink?.error(err);
}
/**
 * engine.io is handing a socket's `writeBuffer` to its transport (a server-wide event, emitted
 * just before, so no listener per connection): those bytes are no longer waiting. A WebSocket
 * transport that carries data is watched from here on, so the core hears when `ws` has written a
 * batch out, and its TCP socket is corked until the core's per-tick flush: engine.io hands `ws`
 * one frame per packet, and `ws` writes each frame on its own.
 */
function onFlush(socket: TrackedSocket): void {
  const handle = socket.handle;
  if (handle) handle.queued = 0;
  const transport = socket.transport as WatchedTransport;
  if (transport.name !== 'websocket') return;
  if (!transport.owner) {
    transport.owner = socket;
    transport.on('drain', onTransportDrain);
  }
  const tcp = handle && tcpSocketOf(transport);
  if (tcp) handle.hold(tcp);
}
// After a flush (server-wide `drain`): over long-polling the waiting messages just went out with
// a poll, so the buffer is empty.
function onEngineDrain(socket: TrackedSocket): void {
  socket.sink?.drain();
}
// The WebSocket transport's `drain`: `ws` has written out the last batch (its send callback ran).
function onTransportDrain(this: WatchedTransport): void {
  this.owner?.sink?.drain();
}
function onClose(this: TrackedSocket): void {
  finishOrderlyClose(this);
  const sink = this.sink;
  this.sink = undefined;
  this.removeListener('message', onMessage);
  this.removeListener('error', onError);
  sink?.end();
}

/**
 * The server half: an engine.io 6 server that is never attached to the HTTP server. Primus runs
 * its middleware (CORS, authorization, ...) on every request and upgrade under the pathname, so
 * each long-poll is authorised, and only then hands it to engine.io.
 */
export function createServer(context: TransformerContext): TransformerServer {
  const { options } = context;
  const sockets = new Set<TrackedSocket>();
  let shuttingDown = false;

  const engine = new Server({
    // happn-primus's clients speak engine.io protocol 3; engine.io 6 refuses it unless told.
    allowEIO3: true,
    // engine.io applies its 1 KB threshold to `perMessageDeflate: true` but not to
    // `httpCompression: true`, which would gzip even tiny polling responses.
    perMessageDeflate: options.compression,
    httpCompression: options.compression ? { threshold: 1024 } : false,
    maxHttpBufferSize: options.maxLength,
    // Called for handshakes only: no new sessions while the server drains for shutdown.
    allowRequest: (_req, fn) => (shuttingDown ? fn('Server is shutting down', false) : fn(null, true)),
    // No `path`: it is an `attach()` option. `handleRequest`/`handleUpgrade` serve whatever
    // Primus routes to them, every path that starts with the pathname (the client asks for
    // `<pathname>/`). No `cors` either (engine.io's default: off): Primus's CORS layer has
    // already answered preflights and set the headers.
  });

  // engine.io answers (and may close) the handshake request before it emits `connection`, so the
  // peer is read from the request's socket while it is certainly still there.
  const remotes = new WeakMap<IncomingMessage, RemoteLike>();
  const remember = (req: IncomingMessage): void => {
    const socket = req.socket;
    if (!socket) return;
    remotes.set(req, {
      remoteAddress: socket.remoteAddress,
      remotePort: socket.remotePort,
      encrypted: (socket as { encrypted?: boolean }).encrypted ?? false,
    });
  };

  class ServerSocket extends EngineIoConnectionSocket {}
  Object.defineProperty(ServerSocket.prototype, 'flushSoon', { value: context.flushSoon });

  engine.on('flush', onFlush);
  engine.on('drain', onEngineDrain);
  engine.on('connection', (socket: TrackedSocket) => {
    const req = socket.request;
    socket.handshakeTransport = socket.transport;
    socket.handle = new ServerSocket(socket);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.sink = context.connect(
      {
        headers: req.headers,
        address: remotes.get(req) ?? { remoteAddress: socket.remoteAddress },
        // No `query`: the core takes the one it parsed for its middleware from the request (the
        // user's keys, `_primuscb`, `ping`, `pong`, and engine.io's own `EIO`, `transport` and `t`).
        // The engine.io session id, which the client also knows; engine.io's typings call it private.
        id: (socket as unknown as { id: string }).id,
        request: req,
      },
      socket.handle,
    );
    socket.on('message', onMessage);
    socket.on('error', onError);
    socket.once('close', onClose);
  });

  return {
    // Text broadcasts are framed once; engine.io does not use the frame with permessage-deflate.
    frame: options.compression ? undefined : (payload) => (typeof payload === 'string' ? broadcastFrame(payload) : undefined),
    request(req, res) {
      remember(req);
      shareQuery(req);
      engine.handleRequest(req, res);
    },
    upgrade(req, socket, head) {
      remember(req);
      shareQuery(req);
      engine.handleUpgrade(req, socket, head);
    },
    /**
     * `destroy({ close: false })` ends every spark first, but a long-polling client only receives
     * the last packets (the goodbye and `primus::server::close`) with its next poll: wait until
     * those sockets have closed, for at most DRAIN_TIMEOUT. With `close: true` the HTTP server has
     * already dropped every connection, so there is nothing to wait for.
     */
    drain(drainOptions: DrainOptions) {
      shuttingDown = true;
      if (drainOptions.close) return undefined;
      const closing = [...sockets].filter((socket) => socket.readyState === 'closing');
      if (closing.length === 0) return undefined;
      return new Promise<void>((resolve) => {
        let left = closing.length;
        const timer = setTimeout(resolve, DRAIN_TIMEOUT);
        const closed = (): void => {
          if (--left > 0) return;
          clearTimeout(timer);
          resolve();
        };
        for (const socket of closing) socket.once('close', closed);
      });
    },
    close() {
      shuttingDown = true;
      // Closes every engine.io socket and the internal `ws` server.
      engine.close();
      for (const socket of sockets) finishOrderlyClose(socket);
    },
  };
}
