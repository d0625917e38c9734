import Faye from 'faye-websocket';
import { websocketTransport, type ClientTransport, type WebSocketFactory } from '@primus/client';
import { toBuffer } from './bytes';

/** A faye-websocket Client that sends every kind of bytes as a binary frame. */
/** `user:pass` as written in a URL, percent-decoded. */
function decodeAuth(auth: string): string {
  return auth
    .split(':')
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    })
    .join(':');
}

const fayeSocket: WebSocketFactory = (url, host) => {
  const { socketPath, auth } = host.url;
  let options: Record<string, unknown> = host.transportOptions;
  if (auth) {
    // websocket-driver 0.8 puts a URL's credentials in the Authorization header still
    // percent-encoded; send them decoded, as browsers, `ws` and happn-primus's faye client do.
    const target = new URL(url);
    target.username = target.password = '';
    url = target.href;
    const authorization = 'Basic ' + Buffer.from(decodeAuth(auth)).toString('base64');
    options = { ...options, headers: { Authorization: authorization, ...(options.headers as Record<string, string> | undefined) } };
  }
  if (socketPath) {
    // faye-websocket's Client hands `options.net` to net.connect(), where `path` makes it a Unix
    // domain socket; but its option check then throws "Unrecognized option: net". The check
    // walks the enumerable keys only.
    options = { ...options };
    Object.defineProperty(options, 'net', { value: { path: socketPath }, enumerable: false });
  }
  const socket = new Faye.Client(url, [], options);
  const send = socket.send;
  socket.send = (data) => send.call(socket, toBuffer(data));
  return socket as unknown as ReturnType<WebSocketFactory>;
};

/**
 * The Node client half: the client library's WebSocket transport over faye-websocket's Client;
 * `options.transport` goes to faye-websocket (`headers`, `extensions`, `proxy`, `tls`, ...). It
 * reaches Unix domain sockets (`ws+unix:///path/to.sock`).
 */
export const client: ClientTransport = { ...websocketTransport(fayeSocket, 'faye'), unixSocket: true };

/** The browser client half: the client library's WebSocket transport over the browser's WebSocket. */
export const browser = (): string => 'function (lib) { return lib.websocketTransport(undefined, "faye"); }';
