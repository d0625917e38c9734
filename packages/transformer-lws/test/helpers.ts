import { readdirSync } from 'node:fs';
import net from 'node:net';
import { WebSocket, type ClientOptions } from 'ws';
import type { Transformer, TransformerContext } from '@primus/core';
import { once, startServer, type TestServer } from '@primus/transformer-test-suite';
import lws, { createLwsTransformer, type LwsOptions, type LwsService } from '../src';
import { loadBinding } from '../src/native';

/** A started server and the lws service behind it. */
export interface LwsTestServer {
  server: TestServer;
  service(): LwsService;
}

/** Servers and raw sockets a test started; `cleanup()` ends them. */
export class Resources {
  private readonly servers: TestServer[] = [];
  private readonly sockets: { destroy?(): void; terminate?(): void }[] = [];

  /** Start a Primus server with the lws transformer (and these lws options) on a random port. */
  async start(primusOptions: Record<string, unknown> = {}, lwsOptions?: LwsOptions): Promise<LwsTestServer> {
    const base = lwsOptions ? createLwsTransformer(lwsOptions) : lws;
    let service: LwsService | undefined;
    const transformer: Transformer = {
      ...base,
      server(context: TransformerContext) {
        service = base.server(context);
        return service;
      },
    };
    const server = await startServer({ transformer, ...primusOptions });
    this.servers.push(server);
    return { server, service: () => service! };
  }

  /** A bare `ws` client of the server's Primus endpoint; `ping=false` keeps Primus' heartbeat out. */
  raw(server: TestServer, options: ClientOptions = {}, query = 'ping=false'): WebSocket {
    const socket = new WebSocket(`${server.url.replace('http:', 'ws:')}/primus?${query}`, options);
    socket.on('error', () => {});
    this.sockets.push(socket);
    return socket;
  }

  /** A plain TCP connection to the server. */
  async tcp(server: TestServer): Promise<net.Socket> {
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    this.sockets.push(socket);
    await once(socket, 'connect');
    return socket;
  }

  /** Close one server now (it is not closed again by `cleanup()`). */
  async close(server: TestServer): Promise<void> {
    this.servers.splice(this.servers.indexOf(server), 1);
    await server.close();
  }

  async cleanup(): Promise<void> {
    for (const socket of this.sockets.splice(0)) {
      if (socket.terminate) socket.terminate();
      else socket.destroy?.();
    }
    await Promise.all(this.servers.splice(0).map((server) => server.close()));
  }
}

/** Open file descriptors of this process. */
export function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Servers and vhosts the binding still holds in this thread. */
export function diagnostics(): { servers: number; vhosts: number } {
  return loadBinding().diagnostics();
}

/** A masked client frame (RFC 6455 section 5.2), as a client would put it on the wire. */
export function clientFrame(payload: Buffer, opcode = 0x1, fin = true): Buffer {
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const length = payload.length;
  const header = length < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | length]) : Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, length >> 8, length & 0xff]);
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i++) masked[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

/** A WebSocket upgrade request for the Primus endpoint, with extra header lines. */
export function upgradeRequest(port: number, extra: string[] = [], key = 'dGhlIHNhbXBsZSBub25jZQ=='): string {
  return [
    'GET /primus?ping=false HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
    ...extra,
    '',
    '',
  ].join('\r\n');
}

/** Everything a TCP peer sends until it closes. */
export function readAll(socket: net.Socket, ms = 10000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error(`the server did not close the connection within ${ms} ms`)), ms);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}
