import Faye from 'faye-websocket';
import { websocketTransport, type ClientTransport, type WebSocketFactory } from '@primus/client';
import { toBuffer } from './bytes';

/** A faye-websocket Client that sends every kind of bytes as a binary frame. */
const fayeSocket: WebSocketFactory = (url, host) => {
  const socket = new Faye.Client(url, [], host.transportOptions);
  const send = socket.send;
  socket.send = (data) => send.call(socket, toBuffer(data));
  return socket as unknown as ReturnType<WebSocketFactory>;
};

/**
 * The Node client half: the client library's WebSocket transport over faye-websocket's Client;
 * `options.transport` goes to faye-websocket (`headers`, `extensions`, `proxy`, `tls`, ...).
 */
export const client: ClientTransport = websocketTransport(fayeSocket, 'faye');

/** The browser client half: the client library's WebSocket transport over the browser's WebSocket. */
export const browser = (): string => 'function (lib) { return lib.websocketTransport(undefined, "faye"); }';
