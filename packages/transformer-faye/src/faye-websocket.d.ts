// faye-websocket 0.11 ships no types: the part of its API this package uses.
declare module 'faye-websocket' {
  import type { EventEmitter } from 'node:events';
  import type { IncomingMessage } from 'node:http';
  import type { Duplex } from 'node:stream';

  namespace WebSocket {
    /** Options of the server-side socket and of `Client`. */
    interface Options {
      /** websocket-extensions, e.g. permessage-deflate. */
      extensions?: unknown[];
      /** Largest incoming message in bytes; larger ones close the connection with 1009. */
      maxLength?: number;
      /** Seconds between WebSocket ping frames; none by default. */
      ping?: number;
      /** Extra handshake headers. */
      headers?: Record<string, string>;
      proxy?: { origin: string; headers?: Record<string, string>; tls?: Record<string, unknown> };
      tls?: Record<string, unknown>;
      ca?: unknown;
      [option: string]: unknown;
    }

    interface MessageEvent {
      /** A string for a text frame, a Buffer for a binary frame. */
      data: string | Buffer;
    }

    interface CloseEvent {
      code: number;
      reason: string;
    }

    interface ErrorEvent {
      message: string;
    }

    /** A WebSocket client for Node. */
    class Client extends WebSocket {
      constructor(url: string, protocols?: string[] | null, options?: Options);
    }
  }

  /** The server side of one WebSocket, made from an upgrade request. */
  class WebSocket extends EventEmitter {
    static isWebSocket(request: IncomingMessage): boolean;
    static Client: typeof WebSocket.Client;
    constructor(request: IncomingMessage, socket: Duplex, body: Buffer, protocols?: string[] | null, options?: WebSocket.Options);
    readonly readyState: number;
    readonly url: string;
    readonly protocol: string;
    onopen: ((event: unknown) => void) | null;
    onmessage: ((event: WebSocket.MessageEvent) => void) | null;
    onclose: ((event: WebSocket.CloseEvent) => void) | null;
    onerror: ((event: WebSocket.ErrorEvent) => void) | null;
    /** A Buffer goes out as a binary frame, anything else as text (`String(data)`). */
    send(data: string | Buffer): boolean;
    close(code?: number, reason?: string): void;
  }

  export = WebSocket;
}
