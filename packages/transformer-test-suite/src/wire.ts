import { randomBytes } from 'node:crypto';
import net from 'node:net';

// Hand-made HTTP requests and WebSocket frames for the framework-input and authorization tests.
// Node's HTTP client refuses to send much of what these tests need (a body shorter than its
// Content-Length, a method sockjs does not expect with a body, a request cut off half-way), so
// requests go out as bytes over a plain TCP socket and the answer is parsed here.

/** One request, as the corpus files describe it. */
export interface RawRequest {
  method: string;
  /** Path and query, sent as is. */
  path: string;
  headers?: Record<string, string>;
  /** The body as text (UTF-8). */
  body?: string;
  /** The body as base64, for binary junk. */
  bodyBase64?: string;
  /**
   * Declare this Content-Length instead of the body's real length. A larger value leaves the
   * request unfinished: the server waits for bytes that never come.
   */
  contentLength?: number;
}

/** What came back for a raw request. */
export interface RawResponse {
  /** The HTTP status, or 0 when the connection closed before a status line. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection without a complete answer (a reset, or an end mid-way). */
  dropped: boolean;
  /** No answer within the wait: the request was left hanging. */
  pending: boolean;
}

/** The bytes of one request: Host and Connection: close added, Content-Length computed unless given. */
export function encodeRequest(port: number, req: RawRequest): Buffer {
  const body = req.bodyBase64 !== undefined ? Buffer.from(req.bodyBase64, 'base64') : Buffer.from(req.body ?? '', 'utf8');
  const headers: Record<string, string> = { Host: `127.0.0.1:${port}`, Connection: 'close', ...req.headers };
  const hasLength = Object.keys(headers).some((name) => ['content-length', 'transfer-encoding'].includes(name.toLowerCase()));
  if (!hasLength && (body.length > 0 || req.contentLength !== undefined || ['POST', 'PUT', 'PATCH'].includes(req.method))) {
    headers['Content-Length'] = String(req.contentLength ?? body.length);
  }
  let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  return Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), body]);
}

function decodeChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', offset);
    if (eol === -1) break;
    const size = parseInt(body.subarray(offset, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(body.subarray(eol + 2, eol + 2 + size));
    offset = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** Parse what a server wrote on a connection; `complete` says whether the answer is whole. */
export function parseResponse(bytes: Buffer): { response: Omit<RawResponse, 'dropped' | 'pending'>; complete: boolean } {
  const end = bytes.indexOf('\r\n\r\n');
  if (end === -1) return { response: { status: 0, headers: {}, body: '' }, complete: false };
  const lines = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let raw = bytes.subarray(end + 4);
  let complete = true;
  if (headers['transfer-encoding'] === 'chunked') {
    complete = raw.includes('\r\n0\r\n\r\n') || raw.subarray(0, 5).toString() === '0\r\n\r\n';
    raw = decodeChunked(raw);
  } else if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    complete = raw.length >= length;
    raw = raw.subarray(0, length);
  }
  return { response: { status, headers, body: raw.toString('utf8') }, complete };
}

/**
 * Send one raw request and collect the answer. The connection is closed by the server (the
 * request says `Connection: close`) or by this function after `waitMs`, which then reports the
 * request as pending with whatever had arrived.
 */
export function rawRequest(port: number, req: RawRequest, waitMs = 5000): Promise<RawResponse> {
  return sendBytes(port, encodeRequest(port, req), waitMs);
}

/** Send bytes on a new connection and read one HTTP answer from it. */
export function sendBytes(port: number, bytes: Buffer, waitMs = 5000): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (pending: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const { response, complete } = parseResponse(Buffer.concat(chunks));
      resolve({ ...response, dropped: !pending && !complete, pending: pending && !complete });
    };
    const timer = setTimeout(() => finish(true), waitMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // A complete answer with a length is enough: long-polling servers may keep the socket.
      const { response, complete } = parseResponse(Buffer.concat(chunks));
      if (complete && response.status !== 0 && (response.headers['content-length'] !== undefined || response.headers['transfer-encoding'] === 'chunked')) finish(false);
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
    socket.write(bytes);
  });
}

/** What streaming an oversized body produced. */
export interface StreamResult {
  response: RawResponse;
  /** Body bytes the server had taken when it answered or closed the connection. */
  sent: number;
}

/**
 * Send a request whose body is `total` bytes of `fill`, declared up front (Content-Length) or
 * streamed in chunks without one (`chunked: true`), and stop as soon as the server answers or
 * closes. A server that bounds what it buffers answers long before the whole body is out.
 */
export function streamBody(
  port: number,
  req: Omit<RawRequest, 'body' | 'bodyBase64'>,
  total: number,
  options: { chunked?: boolean; fill?: string; waitMs?: number } = {},
): Promise<StreamResult> {
  const fill = options.fill ?? 'x';
  const chunk = Buffer.from(fill.repeat(Math.ceil(16384 / fill.length)).slice(0, 16384), 'utf8');
  const headers: Record<string, string> = { ...req.headers };
  if (options.chunked) headers['Transfer-Encoding'] = 'chunked';
  else headers['Content-Length'] = String(total);
  const head = encodeRequest(port, { method: req.method, path: req.path, headers });
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let sent = 0;
    let answered = false;
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const { response, complete } = parseResponse(Buffer.concat(chunks));
      resolve({ response: { ...response, dropped: !complete, pending: false }, sent });
    };
    const timer = setTimeout(finish, options.waitMs ?? 20000);
    socket.on('data', (data: Buffer) => {
      answered = true;
      chunks.push(data);
      const { complete } = parseResponse(Buffer.concat(chunks));
      if (complete) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
    const pump = (): void => {
      while (!answered && !settled && sent < total) {
        const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
        sent += piece.length;
        const framed = options.chunked ? Buffer.concat([Buffer.from(piece.length.toString(16) + '\r\n'), piece, Buffer.from('\r\n')]) : piece;
        if (!socket.write(framed)) {
          socket.once('drain', pump);
          return;
        }
      }
      if (options.chunked && sent >= total && !settled) socket.write('0\r\n\r\n');
    };
    socket.write(head, pump);
  });
}

// ---- WebSocket, by hand (client frames must be masked) ----

/** A WebSocket frame as received. */
export interface Frame {
  opcode: number;
  payload: Buffer;
}

/** A client-side WebSocket opened over a raw socket. */
export interface RawWebSocket {
  /** The HTTP status of the upgrade answer (101 when it switched protocols). */
  status: number;
  /** The answer's body when the upgrade was refused. */
  body: string;
  /** Frames received so far. */
  frames: Frame[];
  /** Set once the server closed the TCP connection. */
  ended: boolean;
  send(data: string | Buffer, opcode?: number): void;
  /** Resolve once `check` holds for the frames received, or the connection ended. */
  until(check: (frames: Frame[]) => boolean, ms?: number): Promise<Frame[]>;
  /** Resolve when the TCP connection is closed by the server. */
  closed(ms?: number): Promise<boolean>;
  destroy(): void;
}

/** Mask and frame one client message. */
export function encodeFrame(data: string | Buffer, opcode = 1): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const mask = randomBytes(4);
  let header: Buffer;
  if (payload.length < 126) {
    header = Buffer.from([0x80 | opcode, 0x80 | payload.length]);
  } else if (payload.length < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(payload.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  const masked = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) masked[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

function decodeFrames(buffer: Buffer, frames: Frame[]): Buffer {
  let offset = 0;
  for (;;) {
    if (buffer.length - offset < 2) break;
    const opcode = buffer[offset]! & 0x0f;
    let length = buffer[offset + 1]! & 0x7f;
    let start = offset + 2;
    if (length === 126) {
      if (buffer.length - offset < 4) break;
      length = buffer.readUInt16BE(offset + 2);
      start = offset + 4;
    } else if (length === 127) {
      if (buffer.length - offset < 10) break;
      length = Number(buffer.readBigUInt64BE(offset + 2));
      start = offset + 10;
    }
    if (buffer.length < start + length) break;
    frames.push({ opcode, payload: buffer.subarray(start, start + length) });
    offset = start + length;
  }
  return buffer.subarray(offset);
}

/** Open a WebSocket by hand on `path`; a refused upgrade resolves too, with its status and body. */
export function openWebSocket(port: number, path: string, headers: Record<string, string> = {}, waitMs = 5000): Promise<RawWebSocket> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const frames: Frame[] = [];
    const waiters = new Set<() => void>();
    let pending: Buffer = Buffer.alloc(0);
    let upgraded = false;
    let settled = false;
    const ws: RawWebSocket = {
      status: 0,
      body: '',
      frames,
      ended: false,
      send(data, opcode = 1) {
        if (!socket.destroyed) socket.write(encodeFrame(data, opcode));
      },
      until(check, ms = 5000) {
        return new Promise((done, fail) => {
          const test = (): void => {
            if (!check(frames) && !ws.ended) return;
            clearTimeout(timer);
            waiters.delete(test);
            done(frames);
          };
          const timer = setTimeout(() => {
            waiters.delete(test);
            fail(new Error(`timed out after ${ms} ms waiting for WebSocket frames; got ${frames.map((f) => `${f.opcode}:${f.payload.toString()}`).join(' | ')}`));
          }, ms);
          waiters.add(test);
          test();
        });
      },
      closed(ms = 5000) {
        return ws
          .until(() => ws.ended, ms)
          .then(
            () => ws.ended,
            () => false,
          );
      },
      destroy() {
        socket.destroy();
      },
    };
    const notify = (): void => {
      for (const waiter of [...waiters]) waiter();
    };
    const settle = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(ws);
    };
    const timer = setTimeout(settle, waitMs);
    socket.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      if (!upgraded) {
        const end = pending.indexOf('\r\n\r\n');
        if (end === -1) return;
        const { response, complete } = parseResponse(pending);
        ws.status = response.status;
        if (response.status !== 101) {
          ws.body = response.body;
          if (complete) settle();
          return;
        }
        upgraded = true;
        pending = pending.subarray(end + 4);
        settle();
      }
      pending = decodeFrames(pending, frames);
      notify();
    });
    const ended = (): void => {
      ws.ended = true;
      if (!upgraded && ws.status !== 0 && ws.status !== 101) ws.body = parseResponse(pending).response.body;
      settle();
      notify();
    };
    socket.on('close', ended);
    socket.on('error', () => socket.destroy());
    const request =
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
      Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('') +
      '\r\n';
    socket.write(request);
  });
}

/** The text of a frame. */
export const text = (frame: Frame): string => frame.payload.toString('utf8');

/** The close code of a close frame, or undefined. */
export function closeCode(frames: Frame[]): number | undefined {
  const close = frames.find((frame) => frame.opcode === 8);
  return close && close.payload.length >= 2 ? close.payload.readUInt16BE(0) : undefined;
}
