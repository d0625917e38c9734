import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import io from 'socket.io';
import type { ConnectionSink, ConnectionSocket, Logger, TransformerContext, TransformerServer } from '@primus/core/contract';

/** What socket.io 0.9 records about the request that opened a session (`socket.handshake`). */
interface Handshake {
  headers: IncomingHttpHeaders;
  address?: { address: string; port: number };
  query: Record<string, unknown>;
}

/** A server-side socket.io 0.9 socket of the default namespace. */
interface ServerSocket extends EventEmitter {
  readonly id: string;
  readonly handshake: Handshake | undefined;
  readonly manager: Manager;
  /** Where this transformer reports what the socket does. */
  sink?: ConnectionSink;
  send(data: string): unknown;
  /** Queue or send one packet to the client. */
  packet(packet: { type: string }): unknown;
  disconnect(): unknown;
}

/** socket.io 0.9's WebSocket frame parser (hybi drafts, and hixie-76 which has no `expect`). */
interface FrameParser extends EventEmitter {
  state?: { opcode: number; lastFragment: boolean; activeFragmentedOperation: number | null };
  expect?(what: string, length: number, handler: (data: Buffer) => void): void;
  /** Reads a frame's first two bytes and dispatches on the opcode. */
  processPacket?(data: Buffer): void;
  /** The handler waiting for the next `expect`ed bytes. */
  expectHandler?: ((data: Buffer) => void) | null;
  /** XOR the payload with the mask; returns it as text unless `binary`. */
  unmask?(mask: Buffer | null, buf: Buffer | null, binary?: boolean): string | Buffer;
  /** Reset the parser and emit `error`, which ends the transport. */
  error?(reason: string): unknown;
  add(data: Buffer): void;
  _maxBuffer: number;
  _dataLength: number;
}

/** One request-bound transport of a session (a WebSocket, or the current poll). */
interface SessionTransport {
  readonly name: string;
  readonly open: boolean;
  req?: IncomingMessage;
  /** The request's TCP socket, which a WebSocket transport writes its frames to. */
  socket?: Duplex;
  parser?: FrameParser;
}

/** A WebSocket session's TCP socket, which knows the socket.io socket it carries. */
type TrackedSocket = Duplex & { sioSocket?: ServerSocket };

/** A decoded socket.io packet, as far as this transformer looks at it. */
interface Packet {
  type?: string;
  endpoint?: string;
}

/** What socket.io makes of a request URL (`Manager#checkRequest`), or false when it is not its own. */
type RequestData = false | { transport?: string; id?: string; query: Record<string, unknown> };

/** The parts of socket.io 0.9's Manager this transformer uses. */
interface Manager extends EventEmitter {
  readonly sockets: EventEmitter;
  readonly namespaces: Record<string, unknown>;
  readonly store: EventEmitter & { destroy(): unknown };
  /**
   * Live transports by session id. socket.io keeps them as properties of its
   * `Manager.prototype.transports` method, shared by every Manager; see `createServer`.
   */
  transports: Record<string, SessionTransport | null | undefined> & ((data: unknown) => string[]);
  /**
   * Messages for sessions without an open transport, by session id: what waits for a polling
   * client's next poll. socket.io replaces a session's array with a new, empty one when a poll
   * takes it and whenever a transport closes.
   */
  readonly closed: Record<string, unknown[] | undefined>;
  /** The garbage-collection interval for abandoned handshakes, started on `listening`. */
  gc?: ReturnType<typeof setInterval>;
  checkRequest(req: IncomingMessage): RequestData;
  onClientMessage(id: string, packet: Packet): void;
}

type ManagerConstructor = new (server: EventEmitter, settings: Record<string, unknown>) => Manager;

const noop = (): void => {};
const EMPTY = Buffer.alloc(0);
/**
 * The transports offered. socket.io's `htmlfile` (for old Internet Explorer) and `jsonp-polling`
 * (for browsers without CORS) are left out: current browsers never need them, and crafted requests
 * to either crash the process.
 */
const TRANSPORTS = ['websocket', 'xhr-polling'];
/** Transports whose client comes back with a new request after each response. */
const HTTP_TRANSPORTS = new Set(['xhr-polling']);
/** socket.io's session ids: 15 random bytes in URL-safe base64. */
const SESSION_ID = /^[\w-]{20}$/;

/**
 * Whether socket.io can be trusted with a request. It keeps sessions in plain objects and reads
 * a request's session id from them unchecked, so ids such as `propertyIsEnumerable` resolve to
 * Object's own functions; its upgrade handling assumes a WebSocket without `?disconnect`; and a
 * session request that is neither a poll nor a send is left hanging. Those are refused here.
 */
function acceptable(data: RequestData, req: IncomingMessage, upgrade: boolean): boolean {
  // socket.io compares the raw URL with its resource: an absolute-form URL
  // (`GET http://host/primus/1/`), which Primus routes by its path, is not socket.io's, and
  // socket.io would leave it unanswered.
  if (!data) return false;
  if (data.id !== undefined && !(SESSION_ID.test(data.id) && !(data.id in noop))) return false;
  // An upgrade without a version is a hixie-76 WebSocket (browsers from before 2012), whose
  // parser in socket.io recurses once per message: a chunk of small messages overflows the stack.
  if (upgrade) return data.transport === 'websocket' && data.query.disconnect === undefined && req.headers['sec-websocket-version'] !== undefined;
  const method = req.method;
  if (data.id !== undefined && method !== 'GET' && method !== 'POST') return false;
  return data.transport !== 'websocket';
}

/** The core's handle on one socket.io session. */
class SocketioConnectionSocket implements ConnectionSocket {
  /** Bytes of this connection's messages in socket.io's buffer for the session (`manager.closed`)... */
  private queued = 0;
  /** ...while that buffer holds this many entries; fewer means a poll took them since. */
  private queuedEntries = 0;

  constructor(
    private readonly socket: ServerSocket,
    private readonly end: (socket: ServerSocket) => void,
  ) {}

  /** socket.io 0.9 carries text only: the transformer is `textOnly`, so the core sends strings. */
  send(text: string): void {
    const { manager, id } = this.socket;
    // socket.io writes to an open transport at once and buffers for a closed one (between polls).
    const direct = manager.transports[id]?.open === true;
    this.socket.send(text);
    if (direct) return;
    // The buffer grows by one entry per write and is swapped for an empty one when a poll takes
    // it: counting entries keeps the byte count exact without adding up the buffer or keeping a
    // reference to it.
    const entries = manager.closed[id]?.length ?? 0;
    if (entries === 0) this.queued = 0;
    else if (entries > this.queuedEntries) this.queued += Buffer.byteLength(text);
    else this.queued = Buffer.byteLength(text);
    this.queuedEntries = entries;
  }

  /**
   * What the client has not received yet, as far as socket.io shows it: the messages waiting for
   * a polling client's next poll, plus, over WebSocket, the TCP socket's write buffer (socket.io
   * writes every frame straight to it). A poll response already written is not counted: the
   * client reads it before it comes back for more, which is what makes the buffer grow.
   */
  get bufferedAmount(): number {
    const { manager, id } = this.socket;
    const waiting = (manager.closed[id]?.length ?? 0) >= this.queuedEntries ? this.queued : 0;
    return waiting + (webSocketOf(manager, id)?.writableLength ?? 0);
  }

  close(): void {
    this.end(this.socket);
  }
}

/** The TCP socket of a session's open WebSocket transport, if it has one. */
function webSocketOf(manager: Manager, id: string): Duplex | undefined {
  const transport = manager.transports[id];
  return transport?.open && transport.name === 'websocket' ? transport.socket : undefined;
}

// A WebSocket session's TCP socket emptied its write buffer.
function onSocketDrain(this: TrackedSocket): void {
  this.sioSocket?.sink?.drain();
}

/** Tell the core when a session's WebSocket write buffer empties (once per TCP socket). */
function watchWebSocket(socket: ServerSocket): void {
  const tcp: TrackedSocket | undefined = webSocketOf(socket.manager, socket.id);
  if (!tcp || tcp.sioSocket) return;
  tcp.sioSocket = socket;
  tcp.on('drain', onSocketDrain);
}

/** socket.io's logger interface, routed to the Primus `log` event at socket.io's own level. */
function ioLogger(logger: Logger): Record<string, (...args: unknown[]) => void> {
  return {
    error: (...args) => logger.error(...args),
    warn: (...args) => logger.warn(...args),
    info: (...args) => logger.info(...args),
    debug: (...args) => logger.debug(...args),
  };
}

/** The session id in a socket.io URL: `<resource>/<protocol>/<transport>/<session>`. */
function sessionOf(url: string | undefined, resource: string): string | undefined {
  const path = (url ?? '').split('?')[0]!;
  if (!path.startsWith(resource)) return undefined;
  return path.slice(resource.length).split('/')[3] || undefined;
}

/**
 * Apply `maxLength` to each message of one WebSocket. socket.io 0.9 counts every byte a connection
 * ever received against its single limit (socket.io#1519), which cuts long-lived connections
 * off; here the count starts again with every message.
 */
function limitMessages(parser: FrameParser, maxLength: number, logger: Logger): void {
  const expect = parser.expect;
  if (typeof expect !== 'function') {
    // hixie-76 frames carry no length up front: count the bytes since the last complete message.
    parser._maxBuffer = maxLength;
    parser.on('data', () => (parser._dataLength = 0));
    return;
  }
  Object.defineProperty(parser, '_dataLength', { configurable: true, get: () => 0, set: noop });
  let size = 0;
  parser.expect = function (this: FrameParser, what, length, handler) {
    if (what === 'Data') {
      const opcode = this.state?.opcode;
      // Text and binary fragments add up to one message; control frames stand alone.
      const message = opcode === 1 || opcode === 2;
      const total = message ? size + length : length;
      if (total > maxLength) {
        // Drop the rest of the frame instead of buffering it while the connection closes.
        this.add = noop;
        logger.warn(`socket.io: closing a WebSocket whose message is larger than maxLength (${maxLength} bytes)`);
        this.emit('kick', 'message larger than maxLength');
        return;
      }
      if (message) size = total;
    }
    expect.call(this, what, length, handler);
  };
  const reset = (): void => {
    size = 0;
  };
  parser.on('data', reset);
  parser.on('binary', reset);
}

/**
 * Two flaws of socket.io 0.9's hybi parser that let one connection take the process down:
 *
 * - It parses recursively: each frame's handler asks for the next bytes, and that request parses
 *   what is left of the chunk before it returns. A few thousand small frames in one TCP read
 *   overflow the stack, and the RangeError escapes from the socket's `data` listener. Here a call
 *   made while the parser is busy is queued and run by the outer one, so the stack stays flat.
 * - After a protocol error, a close frame or a kick it only half-closes the socket and keeps
 *   feeding the parser, which then appends everything the peer sends to one buffer. Here the
 *   parser stops for good and the socket is destroyed.
 */
function flattenParser(parser: FrameParser, socket: Duplex): void {
  const add = parser.add;
  const pending: Buffer[] = [];
  let busy = false;
  const feed = function (this: FrameParser, data: Buffer): void {
    if (busy) {
      pending.push(data);
      return;
    }
    busy = true;
    try {
      add.call(this, data);
      // A failure below replaces `add` with noop: what is queued is dropped with it.
      while (pending.length > 0 && this.add === feed) add.call(this, pending.shift()!);
    } finally {
      busy = false;
      pending.length = 0;
    }
  };
  parser.add = feed;
  const stop = (): void => {
    parser.add = noop;
    socket.destroy();
  };
  parser.on('error', stop);
  parser.on('kick', stop);
  parser.on('close', stop);
}

/**
 * Make socket.io 0.9's hybi parser refuse what RFC 6455 says a server must fail the connection for,
 * as the other WebSocket transformers do: it accepted unmasked client frames, control frames over
 * 125 bytes, a new message inside a fragmented one, and invalid UTF-8 in text (which it turned
 * into U+FFFD, and it broke valid characters split between two fragments). socket.io sends no
 * close frame: the connection is dropped.
 */
function enforceRfc6455(parser: FrameParser, logger: Logger): void {
  const processPacket = parser.processPacket;
  const unmask = parser.unmask;
  const fail = parser.error;
  if (typeof processPacket !== 'function' || typeof unmask !== 'function' || typeof fail !== 'function') return;
  const refuse = (reason: string): void => {
    logger.warn(`socket.io: closing a WebSocket that sent ${reason}`);
    fail.call(parser, reason);
  };
  const checked = function (this: FrameParser, data: Buffer): void {
    const opcode = data[0]! & 0x0f;
    const fin = (data[0]! & 0x80) !== 0;
    if ((data[1]! & 0x80) === 0) return refuse('an unmasked frame');
    if (opcode >= 8 && (!fin || (data[1]! & 0x7f) > 125)) return refuse('a fragmented or oversized control frame');
    if ((opcode === 1 || opcode === 2) && this.state?.activeFragmentedOperation != null) return refuse('a new message inside a fragmented one');
    processPacket.call(this, data);
  };
  parser.processPacket = checked;
  // The constructor queued the original for the first frame.
  if (parser.expectHandler === processPacket) parser.expectHandler = checked;

  // One decoder per text message, streaming across its fragments.
  let decoder: TextDecoder | null = null;
  parser.unmask = function (this: FrameParser, mask, buf, binary) {
    if (binary || this.state?.opcode !== 1 || !buf) return unmask.call(this, mask, buf, binary);
    const bytes = unmask.call(this, mask, buf, true) as Buffer;
    const last = this.state.lastFragment;
    decoder ??= new TextDecoder('utf-8', { fatal: true });
    try {
      const text = decoder.decode(bytes, { stream: !last });
      if (last) decoder = null;
      return text;
    } catch {
      decoder = null;
      // The parser is reset by the refusal, so the fragments read so far are never delivered.
      refuse('invalid UTF-8 in a text message');
      return '';
    }
  };
}

/** The server half: a socket.io 0.9 Manager behind Primus's HTTP handling. */
export function createServer(context: TransformerContext): TransformerServer {
  const { options, logger } = context;
  const { maxLength, pathname } = options;
  // The Manager takes an HTTP server and listens to its `request` and `upgrade` events. It gets this
  // stand-in instead, which emits only what passed Primus's middleware.
  const gateway = new EventEmitter();
  const manager = new (io.Manager as unknown as ManagerConstructor)(gateway, {
    resource: pathname,
    // maxLength is enforced per message below; socket.io's own limit is per connection.
    'destroy buffer size': Infinity,
    // Primus answers upgrades it does not want; socket.io must not destroy them first.
    'destroy upgrade': false,
    // The socket.io client is bundled into primus.js; the Manager does not serve it.
    'browser client': false,
    'flash policy server': false,
    transports: TRANSPORTS,
    logger: ioLogger(logger),
    // Forget a session's data as soon as it ends, as the other transformers do.
    'client store expiration': 0,
    // Only `message` packets feed a spark: event packets named like the listeners below are dropped.
    blacklist: ['disconnect', 'message', 'error'],
  });
  // socket.io stores live transports as properties of `Manager.prototype.transports`, a method
  // every Manager of the process shares. A request to another Primus server in the same process
  // could then reach this server's sessions without passing its authorization: `?disconnect`
  // with a session id ends it. This Manager gets a registry of its own, which still answers
  // socket.io's calls of the method (the transports offered in the handshake).
  const offered = manager.transports;
  manager.transports = function transports(this: Manager, data: unknown): string[] {
    return offered.call(this, data);
  } as Manager['transports'];
  // Start socket.io's collection of abandoned handshakes, without keeping the process alive for it.
  gateway.emit('listening');
  manager.gc?.unref?.();
  // socket.io looks a packet's endpoint up in a plain object too: `constructor` and the like would
  // resolve to Object's own functions and throw from a socket's data handler.
  const onClientMessage = manager.onClientMessage;
  manager.onClientMessage = function (this: Manager, id, packet) {
    if (typeof packet.endpoint === 'string' && Object.hasOwn(this.namespaces, packet.endpoint)) onClientMessage.call(this, id, packet);
  };

  const sockets = new Map<string, ServerSocket>();
  // Sessions ended between two polls, waiting for the poll that takes their last messages.
  const closing = new Set<string>();
  const endSession = (socket: ServerSocket): void => {
    const transport = manager.transports[socket.id];
    if (transport && !transport.open && HTTP_TRANSPORTS.has(transport.name)) {
      // Messages written between two polls wait in socket.io's buffer for the next poll; ending the
      // session now would drop them, and with them the spark's closing message. The disconnect
      // packet is queued behind them instead, and the session ends once that poll took them.
      socket.packet({ type: 'disconnect' });
      closing.add(socket.id);
      return;
    }
    // With a live transport socket.io sends its disconnect packet at once; with a dead one (a
    // WebSocket that went away) the client is gone anyway.
    socket.disconnect();
  };
  manager.sockets.on('connection', (socket: ServerSocket) => {
    const handshake: Handshake = socket.handshake ?? { headers: {}, query: {} };
    const request = manager.transports[socket.id]?.req;
    sockets.set(socket.id, socket);
    const sink = context.connect(
      {
        headers: handshake.headers,
        // A copy taken at the handshake: a polling session's requests come and go.
        address: {
          remoteAddress: handshake.address?.address,
          remotePort: handshake.address?.port,
          encrypted: !!(request?.socket as TLSSocket | undefined)?.encrypted,
        },
        query: handshake.query,
        id: socket.id,
        request,
      },
      new SocketioConnectionSocket(socket, endSession),
    );
    socket.sink = sink;
    watchWebSocket(socket);
    const onMessage = (data: unknown): void => sink.data(data);
    socket.on('message', onMessage);
    socket.once('disconnect', () => {
      socket.sink = undefined;
      sockets.delete(socket.id);
      closing.delete(socket.id);
      socket.removeListener('message', onMessage);
      sink.end();
    });
  });

  let closed = false;
  return {
    request(req, res) {
      if (!acceptable(manager.checkRequest(req), req, false)) {
        logger.warn(`socket.io: refusing a request it cannot handle safely: ${req.method} ${req.url}`);
        res.writeHead(400, { 'Content-Type': 'text/plain' });
        res.end('Bad socket.io request');
        return;
      }
      if (req.method === 'POST') {
        // socket.io appends raw chunks to a string, which breaks characters split between two
        // chunks: decoding here hands it whole characters.
        req.setEncoding('utf8');
        let size = 0;
        const onData = (chunk: string): void => {
          size += Buffer.byteLength(chunk);
          if (size <= maxLength) return;
          req.removeListener('data', onData);
          logger.warn(`socket.io: closing a session whose request body is larger than maxLength (${maxLength} bytes)`);
          req.socket.destroy();
          const id = sessionOf(req.url, pathname);
          if (id) sockets.get(id)?.disconnect();
        };
        req.on('data', onData);
      }
      gateway.emit('request', req, res);
      if (req.method === 'GET') {
        const id = sessionOf(req.url, pathname);
        const socket = id ? sockets.get(id) : undefined;
        // socket.io has handled the poll, and written what was queued for it: end the session.
        if (id && closing.has(id)) socket?.disconnect();
        // The client came back for what waited: a writer that was told to wait may write again.
        else socket?.sink?.drain();
      }
    },
    upgrade(req, socket, head) {
      if (!acceptable(manager.checkRequest(req), req, true)) {
        logger.warn(`socket.io: refusing an upgrade it cannot handle safely: ${req.url}`);
        socket.destroy();
        return;
      }
      // socket.io ignores bytes that came in with the upgrade request; give them back to the socket.
      if (head.length) socket.unshift(head);
      gateway.emit('upgrade', req, socket, EMPTY);
      const id = sessionOf(req.url, pathname);
      const transport = id ? manager.transports[id] : undefined;
      if (transport?.req === req && transport.parser) {
        limitMessages(transport.parser, maxLength, logger);
        enforceRfc6455(transport.parser, logger);
        flattenParser(transport.parser, socket);
      }
      // A session that existed before this upgrade (its connection is made on the first transport).
      const existing = id ? sockets.get(id) : undefined;
      if (existing) watchWebSocket(existing);
    },
    close() {
      if (closed) return;
      closed = true;
      for (const socket of [...sockets.values()]) socket.disconnect();
      sockets.clear();
      manager.store.destroy();
      manager.store.removeAllListeners();
      // Stops socket.io's garbage-collection interval.
      gateway.emit('close');
      gateway.removeAllListeners();
    },
  };
}
