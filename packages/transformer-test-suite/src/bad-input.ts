import { readFileSync } from 'node:fs';
import { maxHeaderSize } from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { expect } from '@jest/globals';
import type { ParsedUrl, TransportConnection, TransportHost, UriOptions } from '@primus/client';
import type { PrimusOptions, Spark, Transformer } from '@primus/core';
import { once, startServer, waitFor, type TestServer } from './harness';

// ---- The corpus ----

/** Where the corpus lives: `corpus/<level>.json` in this package. */
export const CORPUS_DIR = join(__dirname, '..', 'corpus');

/** Bytes, written one of three ways so that the corpus stays readable. */
export type Bytes = { hex: string } | { text: string } | { fill: string; length: number };

/** One hand-made WebSocket frame, as a client would send it. */
export interface FrameSpec {
  /** FIN bit. @default true */
  fin?: boolean;
  /** RSV1..3 as a number 0..7. @default 0 */
  rsv?: number;
  /** 0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong, or any other (invalid) number. */
  opcode: number;
  /** Mask the payload, as every client must. @default true */
  mask?: boolean;
  /** The payload actually sent. @default empty */
  payload?: Bytes;
  /** The payload length written in the header when it must differ from the payload's (a lie). */
  declaredLength?: number;
  /**
   * Prefix the payload with the framework's framing of a message (engine.io `4`, socket.io `3:::`),
   * so that the frame would carry a Primus message if it were valid.
   */
  wrap?: boolean;
  /** Send the frame this many times. @default 1 */
  repeat?: number;
}

/** What the offender sees. Exactly one of these keys is set. */
export interface WebSocketOutcome {
  /** The server sends a close frame with this code, then closes the TCP connection. */
  close?: number;
  /** The server closes the TCP connection without a close frame. */
  dropped?: true;
  /** The connection stays open and keeps working. */
  open?: true;
  /** With `open`: the values the server delivered from the case's frames, in order. */
  delivered?: unknown[];
}

/** A WebSocket-level case. */
export interface WebSocketCase {
  name: string;
  why: string;
  /** Frames sent once, in order. */
  frames?: FrameSpec[];
  /**
   * Frames without end: `first` once, then `frame` (or the bytes `raw`) again and again until the
   * server closes the connection, or `capBytes` were sent, which fails the case.
   */
  stream?: { first?: FrameSpec[]; frame?: FrameSpec; raw?: Bytes; capBytes: number };
  /** What the offender gets, by transformer name; `*` for the rest. */
  expect: Record<string, WebSocketOutcome>;
  /** Why a transformer answers differently, by transformer name. */
  notes?: Record<string, string>;
  /** The case sends more than `maxLength`: the `maxLengthCloseCode` capability decides its outcome. */
  limit?: boolean;
}

/** `corpus/websocket.json`. */
export interface WebSocketCorpus {
  description: string;
  /** Server options every case runs with. */
  server: PrimusOptions;
  /** Transformers without a WebSocket path, and why. */
  notApplicable: Record<string, string>;
  cases: WebSocketCase[];
}

/** What a Primus-level case expects. */
export interface PrimusOutcome {
  /** The connection stays open (a valid message sent afterwards is delivered). @default true */
  open?: boolean;
  /** Values the server delivered to `data` listeners, in order. */
  delivered?: unknown[];
  /** The same, as JSON text (for values `toEqual` cannot compare, such as an own `__proto__` key). */
  deliveredJson?: string[];
  /** Patterns (regular expressions) the raw replies the offender got must match, in order. */
  replies?: string[];
  /** The error code the spark reports on `error` and the server's `log` event, if any. */
  error?: string;
  /** The heartbeat the server learned: `spark.query.ping` and `spark.query.pong`. */
  ping?: number | string;
  pong?: number | string;
  /** Whether the spark keeps a heartbeat timer. */
  timer?: boolean;
}

/** A Primus-level case: raw messages (already encoded) and/or a raw connect query. */
export interface PrimusCase {
  name: string;
  why: string;
  /** The connect query, exactly as sent (the default is a heartbeat-free `ping=false`). */
  query?: string;
  /** Raw Primus messages, as they go on the wire (JSON text for the JSON parser). */
  messages?: string[];
  expect: PrimusOutcome;
}

/** `corpus/primus.json`. */
export interface PrimusCorpus {
  description: string;
  cases: PrimusCase[];
}

/** An HTTP request, written by hand so anything can be sent. */
export interface HttpRequestSpec {
  method: string;
  /** The request target as written; with `upgrade`, the query of the upgrade instead. */
  path: string;
  headers?: Record<string, string>;
  /** A WebSocket upgrade on the transformer's WebSocket path (`/primus` where it has none). */
  upgrade?: boolean;
  /** Pad the query so that the request head is 1 KiB under or over Node's `http.maxHeaderSize`. */
  size?: 'under-limit' | 'over-limit';
  /** The whole request as bytes, for what no client would send. */
  raw?: Bytes;
}

/** What the requester sees. */
export interface HttpOutcome {
  /** The status code of the answer. */
  status?: number;
  /** No answer: the connection is closed. */
  closed?: true;
  /** The request reached the application's own handler: the path is not Primus's. */
  application?: true;
  /** A pattern (regular expression) the body must match, and one it must not. */
  body?: string;
  notBody?: string;
  /** Headers the answer must carry, with these values (lower-case names). */
  headers?: Record<string, string>;
  /** A header that must be absent. */
  noHeader?: string;
  /** No Set-Cookie header at all. */
  noCookie?: true;
}

/** An HTTP-level case. */
export interface HttpCase {
  name: string;
  why: string;
  /** Server options for this case (CORS lists, ...). */
  server?: PrimusOptions;
  /** Only these transformers. @default all */
  transformers?: string[];
  request: HttpRequestSpec;
  /** The answer, by transformer name; `*` for the rest. */
  expect: Record<string, HttpOutcome>;
  notes?: Record<string, string>;
}

/** `corpus/http.json`. */
export interface HttpCorpus {
  description: string;
  cases: HttpCase[];
}

/**
 * Expand the generators a corpus string may hold, so that large input stays one line in the
 * file: `@pad:N` is N `a`s, `@digits:N` N `9`s, and `@nested:N` N `[` then N `]`.
 */
export function expand(text: string): string {
  return text.replace(/@(pad|digits|nested):(\d+)/g, (_, kind: string, count: string) => {
    const n = Number(count);
    if (kind === 'pad') return 'a'.repeat(n);
    if (kind === 'digits') return '9'.repeat(n);
    return '['.repeat(n) + ']'.repeat(n);
  });
}

/** Read one corpus file. */
export function loadCorpus(level: 'websocket'): WebSocketCorpus;
export function loadCorpus(level: 'primus'): PrimusCorpus;
export function loadCorpus(level: 'http'): HttpCorpus;
export function loadCorpus(level: string): unknown {
  const corpus = JSON.parse(readFileSync(join(CORPUS_DIR, `${level}.json`), 'utf8')) as { cases?: { name?: unknown }[] };
  if (!Array.isArray(corpus.cases) || corpus.cases.some((c) => typeof c.name !== 'string')) {
    throw new Error(`corpus/${level}.json: expected { cases: [{ name, ... }] }`);
  }
  const names = corpus.cases.map((c) => c.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate) throw new Error(`corpus/${level}.json: the case name "${duplicate}" is used twice`);
  return corpus;
}

/** Resolve with `promise`, or reject after `ms` with a message that says what was awaited. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The expectation of a case for one transformer: its own entry, else `*`. */
export function expectationFor<T>(expect: Record<string, T>, transformer: string): T {
  const outcome = expect[transformer] ?? expect['*'];
  if (outcome === undefined) throw new Error(`no expectation for ${transformer} and no "*" entry`);
  return outcome;
}

/** The bytes a `Bytes` value stands for. */
export function bytesOf(bytes: Bytes | undefined): Buffer {
  if (!bytes) return Buffer.alloc(0);
  if ('hex' in bytes) return Buffer.from(bytes.hex, 'hex');
  if ('text' in bytes) return Buffer.from(bytes.text, 'utf8');
  return Buffer.alloc(bytes.length, Buffer.from(bytes.fill, 'hex'));
}

// ---- WebSocket frames by hand ----

/** A fixed masking key: the tests need reproducible bytes, not secrecy. */
const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

/** Encode one client frame exactly as described, lies included. */
export function encodeFrame(spec: FrameSpec, payload: Buffer): Buffer {
  const length = spec.declaredLength ?? payload.length;
  const masked = spec.mask !== false;
  let header: Buffer;
  if (length < 126) {
    header = Buffer.alloc(2);
    header[1] = length;
  } else if (length < 0x10000) {
    header = Buffer.alloc(4);
    header[1] = 126;
    header.writeUInt16BE(length, 2);
  } else {
    header = Buffer.alloc(10);
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  header[0] = ((spec.fin ?? true) ? 0x80 : 0) | (((spec.rsv ?? 0) & 7) << 4) | (spec.opcode & 0x0f);
  if (!masked) return Buffer.concat([header, payload]);
  header[1] |= 0x80;
  const body = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) body[i] = payload[i]! ^ MASK[i % 4]!;
  return Buffer.concat([header, MASK, body]);
}

/** A frame the server sent. */
export interface ServerFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** How a raw connection ended. */
export interface CloseInfo {
  /** The code of the server's close frame, if it sent one (undefined: none, or one without a code). */
  code?: number;
  /** Whether a close frame arrived at all. */
  closeFrame: boolean;
}

/** A WebSocket connection made by hand on a TCP socket, so that any frame can be sent. */
export class RawWebSocket {
  /** Complete text messages from the server, in order. */
  readonly messages: string[] = [];
  /** Every frame the server sent. */
  readonly frames: ServerFrame[] = [];
  /** Resolves once the TCP connection has closed. */
  readonly closed: Promise<CloseInfo>;
  /** Bytes handed to the socket so far. */
  written = 0;
  private buffer: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private closeInfo: CloseInfo = { closeFrame: false };
  private ended = false;

  constructor(
    readonly socket: net.Socket,
    rest: Buffer,
  ) {
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.ended = true;
        resolve(this.closeInfo);
      });
    });
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    if (rest.length) this.receive(rest);
  }

  /** Whether the TCP connection has closed. */
  get isClosed(): boolean {
    return this.ended;
  }

  /** Whether the server has closed the connection or sent its close frame. */
  get closing(): boolean {
    return this.ended || this.closeInfo.closeFrame;
  }

  /** Write bytes; resolves once the socket took them (or at once if it is gone). */
  write(data: Buffer): Promise<void> {
    if (this.ended || this.socket.destroyed) return Promise.resolve();
    this.written += data.length;
    return new Promise((resolve) => {
      if (this.socket.write(data)) resolve();
      else {
        const done = (): void => {
          this.socket.off('drain', done);
          this.socket.off('close', done);
          resolve();
        };
        this.socket.on('drain', done);
        this.socket.on('close', done);
      }
    });
  }

  /** Send one text message in a single valid, masked frame. */
  sendText(text: string): Promise<void> {
    return this.write(encodeFrame({ opcode: 1 }, Buffer.from(text, 'utf8')));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) return;
      let length = b[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (b.length < 4) return;
        length = b.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (b.length < 10) return;
        length = Number(b.readBigUInt64BE(2));
        offset = 10;
      }
      // Servers never mask, but a broken one might: skip its key rather than misparse.
      if (b[1]! & 0x80) offset += 4;
      if (b.length < offset + length) return;
      const frame: ServerFrame = { fin: (b[0]! & 0x80) !== 0, opcode: b[0]! & 0x0f, payload: b.subarray(offset, offset + length) };
      this.buffer = b.subarray(offset + length);
      this.frames.push(frame);
      if (frame.opcode === 8) {
        if (!this.closeInfo.closeFrame) {
          this.closeInfo = { closeFrame: true, code: frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : undefined };
          // Answer as a client library would, so a server that waits for the close handshake
          // (libwebsockets does) can finish it.
          void this.write(encodeFrame({ opcode: 8 }, frame.payload.subarray(0, 2)));
        }
      } else if (frame.opcode === 0 || frame.opcode === 1 || frame.opcode === 2) {
        this.fragments.push(frame.payload);
        if (frame.fin) {
          this.messages.push(Buffer.concat(this.fragments).toString('utf8'));
          this.fragments = [];
        }
      }
    }
  }
}

/** An HTTP answer read off a raw socket. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  /** Header lines exactly as received, for checks that must see duplicates and odd names. */
  headerLines: string[];
  body: string;
}

function parseHead(head: string): Omit<RawAnswer, 'body'> {
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status, headers, headerLines: lines };
}

/** Open a TCP connection to the server. */
export async function connectTcp(server: TestServer): Promise<net.Socket> {
  const socket = net.connect(server.port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  return socket;
}

/** What a hand-made request got: the answer, and the WebSocket when the server switched protocols. */
export interface Exchange {
  answer: RawAnswer;
  /** Set on a 101 answer; the caller closes it. */
  ws?: RawWebSocket;
}

/**
 * Send raw request bytes and read the answer: until the server switches protocols (101), closes
 * the connection, or the head and `Content-Length` bytes arrived. A connection closed without an
 * answer gives status 0.
 */
export async function exchange(server: TestServer, bytes: Buffer): Promise<Exchange> {
  const socket = await connectTcp(server);
  socket.write(bytes);
  const head = bytes.subarray(0, 5).toString('latin1') === 'HEAD ';
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${JSON.stringify(bytes.subarray(0, 60).toString('latin1'))}`));
    }, 10000);
    const answer = (): RawAnswer => {
      const end = data.indexOf('\r\n\r\n');
      if (end === -1) return { status: 0, headers: {}, headerLines: [], body: '' };
      const parsed = parseHead(data.subarray(0, end).toString('latin1'));
      const body = data.subarray(end + 4);
      return { ...parsed, body: (/chunked/i.test(parsed.headers['transfer-encoding'] ?? '') ? dechunk(body) : body).toString('utf8') };
    };
    const finish = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.destroy();
      resolve({ answer: answer() });
    };
    const onData = (chunk: Buffer): void => {
      data = Buffer.concat([data, chunk]);
      const end = data.indexOf('\r\n\r\n');
      if (end === -1) return;
      const parsed = parseHead(data.subarray(0, end).toString('latin1'));
      if (parsed.status === 101) {
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('close', finish);
        resolve({ answer: { ...parsed, body: '' }, ws: new RawWebSocket(socket, data.subarray(end + 4)) });
        return;
      }
      const length = parsed.headers['content-length'];
      // An answer to HEAD, a 204 or a 304 has no body, whatever Content-Length says.
      const bodyless = head || parsed.status === 204 || parsed.status === 304;
      const chunkedEnd = /chunked/i.test(parsed.headers['transfer-encoding'] ?? '') && /(^|\r\n)0\r\n\r\n$/.test(data.subarray(end + 4).toString('latin1'));
      if (bodyless || chunkedEnd || (length !== undefined && data.length - end - 4 >= Number(length))) finish();
    };
    socket.on('data', onData);
    socket.once('close', finish);
  });
}

/** The bytes of a WebSocket upgrade request (`headers` are added to the usual ones). */
export function upgradeBytes(path: string, port: number, headers: Record<string, string> = {}): Buffer {
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
}

/** Send a plain request and read the answer (see `exchange`). */
export async function rawRequest(server: TestServer, bytes: Buffer): Promise<RawAnswer> {
  const { answer, ws } = await exchange(server, bytes);
  ws?.destroy();
  return answer;
}

/** The body of a chunked answer, as far as it arrived. */
function dechunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', offset);
    if (eol === -1) break;
    const size = Number.parseInt(body.subarray(offset, eol).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(body.subarray(eol + 2, eol + 2 + size));
    offset = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** The request head size `size` asks for: 1 KiB under or over Node's `http.maxHeaderSize`. */
export function headSize(size: HttpRequestSpec['size']): number | undefined {
  if (size === 'under-limit') return maxHeaderSize - 1024;
  if (size === 'over-limit') return maxHeaderSize + 1024;
  return undefined;
}

/** Pad `path` with a `pad` query parameter so that `build(path)` is `target` bytes long. */
export function padded(path: string, target: number | undefined, build: (path: string) => Buffer): Buffer {
  if (target === undefined) return build(path);
  const joiner = path.includes('?') ? '&pad=' : '?pad=';
  const fixed = build(path + joiner).length;
  return build(path + joiner + 'a'.repeat(Math.max(0, target - fixed)));
}

/** Build the bytes of a plain request from its description. */
export function requestBytes(spec: HttpRequestSpec, port: number): Buffer {
  if (spec.raw) return bytesOf(spec.raw);
  const headers = { Host: `127.0.0.1:${port}`, Connection: 'close', ...spec.headers };
  const headerText = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return padded(expand(spec.path), headSize(spec.size), (path) => Buffer.from(`${spec.method} ${path} HTTP/1.1\r\n${headerText}\r\n`, 'latin1'));
}

// ---- The transformers under test ----

/** How to reach one transformer's WebSocket path by hand and speak Primus over it. */
export interface WebSocketPath {
  /** The path (and query) of an upgrade the transformer accepts, after any handshake it needs first. */
  path(server: TestServer, query: string): Promise<string>;
  /** Resolves once the framework's own greeting arrived on a new connection. */
  ready(ws: RawWebSocket): Promise<unknown>;
  /** Wrap one Primus message in the framework's own framing. */
  wrap(message: string): string;
  /** The Primus message in a framework message, or undefined for the framework's own traffic. */
  unwrap(text: string): string | undefined;
}

/** One transformer and how the tests reach it. */
export interface Target {
  name: string;
  transformer: Transformer;
  /** Its WebSocket path, when it has one. */
  websocket?: WebSocketPath;
}

/** Open a raw WebSocket that carries Primus messages, the transformer's handshake included. */
export async function openWebSocket(server: TestServer, path: WebSocketPath, query: string): Promise<RawWebSocket> {
  const target = await path.path(server, query);
  const { answer, ws } = await exchange(server, upgradeBytes(target, server.port));
  if (!ws) throw new Error(`the upgrade of ${target.slice(0, 80)} was answered ${answer.status}: ${answer.body}`);
  await path.ready(ws);
  return ws;
}

/** A plain WebSocket path: each Primus message is one text frame, on `path` (e.g. `/primus`). */
export function plainWebSocketPath(path: string): WebSocketPath {
  return {
    path: async (_server, query) => `${path}?${query}`,
    ready: async () => undefined,
    wrap: (message) => message,
    unwrap: (text) => text,
  };
}

// ---- A server with a bystander ----

/** What the server saw, for the assertions. */
export interface Observed {
  /** Every message delivered to a spark's `data`, with the spark. */
  data: { spark: Spark; data: unknown }[];
  /** Every error a spark emitted, with its code. */
  errors: { spark: Spark; code: string | undefined; message: string }[];
}

/** A running server that echoes, watched by a bystander that must never notice anything. */
export interface Arena {
  server: TestServer;
  observed: Observed;
  /** Check that the bystander still echoes, that everything it sent arrived once, in order. */
  checkBystander(): Promise<void>;
  close(): Promise<void>;
}

/** Start a server for a target, with an echoing application and a connected bystander. */
export async function startArena(t: Target, options: PrimusOptions = {}): Promise<Arena> {
  const server = await startServer({ transformer: t.transformer, ...options });
  const observed: Observed = { data: [], errors: [] };
  server.primus.on('connection', (spark: Spark) => {
    spark.on('data', (data: unknown) => {
      observed.data.push({ spark, data });
      spark.write(data);
    });
    spark.on('error', (err: Error & { code?: string }) => observed.errors.push({ spark, code: err.code, message: err.message }));
  });
  const bystander = server.client();
  const echoes: unknown[] = [];
  bystander.on('data', (data: unknown) => echoes.push(data));
  await once(bystander, 'open');
  let sent = 0;
  return {
    server,
    observed,
    async checkBystander() {
      const message = { bystander: ++sent };
      bystander.write(message);
      await waitFor(() => echoes.length === sent, 10000, `the bystander's echo #${sent}`);
      expect(echoes).toEqual(Array.from({ length: sent }, (_, i) => ({ bystander: i + 1 })));
      expect(bystander.readyState).toBe(3);
    },
    close: () => server.close(),
  };
}

// ---- A raw Primus peer over any transformer ----

/** A peer that sends Primus messages exactly as given, over a transformer's own client half. */
export interface RawPeer {
  /** Raw messages received (decoded by nothing). */
  received: string[];
  send(raw: string): void;
  /** Resolves once the connection is open. */
  readonly open: Promise<void>;
  /** Whether the connection has ended. */
  isEnded(): boolean;
  close(): void;
}

/**
 * Connect to a server through the transformer's client half with a hand-made connect URL: the
 * query goes out exactly as given (no `_primuscb`, `ping` or `pong` added) and messages are sent
 * without the parser.
 */
export function rawPeer(server: TestServer, t: Target, query: string): RawPeer {
  const whatwg = new URL(server.url);
  const url: ParsedUrl = {
    href: whatwg.href,
    protocol: whatwg.protocol,
    auth: '',
    host: whatwg.host,
    hostname: whatwg.hostname,
    port: whatwg.port,
    pathname: whatwg.pathname,
    query: whatwg.search,
    hash: whatwg.hash,
    socketPath: '',
  };
  const pathname = '/primus';
  const host: TransportHost = {
    url,
    pathname,
    transportOptions: {},
    avoidWebsockets: false,
    uri(options: UriOptions = {}) {
      const protocol = options.protocol ?? 'http:';
      const href = `${protocol}//${url.host}${pathname}${options.query ? `?${query}` : ''}`;
      if (!options.object) return href;
      return { ...options, protocol, secure: false, pathname, port: Number(url.port), query: options.query ? query : undefined };
    },
  };
  const received: string[] = [];
  let ended = false;
  let opened!: () => void;
  const open = new Promise<void>((resolve) => (opened = resolve));
  const connection: TransportConnection = t.transformer.client.connect(host, {
    open: () => opened(),
    data: (raw: unknown) => received.push(typeof raw === 'string' ? raw : Buffer.from(raw as ArrayBuffer).toString('utf8')),
    // Some cases expect the connection to fail; the tests look at what the server did instead.
    error: () => {},
    end: () => {
      ended = true;
    },
  });
  return {
    received,
    send: (raw) => connection.send(raw),
    open,
    isEnded: () => ended,
    close: () => {
      connection.close();
      ended = true;
    },
  };
}
