import type { ClientTransport, TransportConnection, TransportEvents, TransportHost } from '@primus/client';

/** The parts of a BCSocket (browserchannel's Node or browser client) the transport uses. */
export interface BCSocketLike {
  readyState: number;
  onopen: (() => void) | null;
  onmessage: ((message: { data: unknown }) => void) | null;
  /** `message` is BrowserChannel's text for `code`. */
  onerror: ((message: string, code: number) => void) | null;
  onclose: ((message: string) => void) | null;
  send(data: string): void;
  close(): void;
}

/** browserchannel's client: `new BCSocket(url, options)`; it appends `/test` and `/bind` to `url`. */
export type BCSocketConstructor = new (url: string, options: Record<string, unknown>) => BCSocketLike;

/**
 * Where closure's compiler put the BrowserChannel internals the transport adjusts, in one build of
 * browserchannel's BCSocket. The Node and browser builds use different names.
 */
export interface ChannelFields {
  /** The socket's property holding its goog.net.BrowserChannel. */
  channel: string;
  /** The channel's property holding the socket's goog.net.BrowserChannel.Handler. */
  handler: string;
  /** The channel's base delay between back-channel retries (5000 ms). */
  retryBase: string;
  /** The channel's random spread added to that delay (10000 ms). */
  retrySpread: string;
}

/** An error BrowserChannel reported, with its numeric error code. */
export interface ChannelError extends Error {
  /** goog.net.BrowserChannel.Error: 2 request failed, 6 unknown session id, 8 network, ... */
  channelError: number;
}

const CONNECTING = 0;
/** goog.net.BrowserChannel.Error.STOP: the server ended the session on purpose. */
const STOPPED_BY_SERVER = 7;

/**
 * A 1x1 GIF, the default image BrowserChannel probes after a failed request to tell "network
 * down" from "server down". Its own default is www.google.com/images/cleardot.gif, a request to a
 * third party from every client whose connection fails; this one needs no network at all.
 */
export const TEST_IMAGE_URI = 'data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';

/** Back-channel retry delays with `failFast`: retries after 0, 0.25-0.5 and 0.5-1 s instead of 0, 5-15 and 10-30 s. */
const RETRY_BASE_MS = 250;
const RETRY_SPREAD_MS = 250;

const noop = (): void => {};

/**
 * Adjust one socket's channel, right after it was created:
 *
 * - The network probe goes to `testImage`. BCSocket documents a `testImageUri` option, but the
 *   builds browserchannel ships predate it and always probe www.google.com; the handler method
 *   the option was meant to feed is set here instead.
 * - With `failFast`, back-channel retries come within a second. BrowserChannel retries a failed
 *   back channel three times whatever `failFast` says, the later tries 5-15 s and 10-30 s apart,
 *   so a client would notice a dead server only after 15-45 s; Primus reconnects on its own.
 *
 * Each change is made only where the fields hold what this build of BrowserChannel puts there.
 */
function adjustChannel(socket: BCSocketLike, fields: ChannelFields, testImage: string, failFast: boolean): void {
  const channel = (socket as unknown as Record<string, unknown>)[fields.channel] as Record<string, unknown> | undefined;
  if (!channel || typeof channel !== 'object') return;
  const handler = channel[fields.handler] as { getNetworkTestImageUri?: unknown } | undefined;
  if (handler && typeof handler.getNetworkTestImageUri === 'function') handler.getNetworkTestImageUri = () => testImage;
  if (failFast && channel[fields.retryBase] === 5000 && channel[fields.retrySpread] === 10000) {
    channel[fields.retryBase] = RETRY_BASE_MS;
    channel[fields.retrySpread] = RETRY_SPREAD_MS;
  }
}

let decoder: TextDecoder | undefined;

/** BrowserChannel carries text: bytes travel as their UTF-8 text. */
function asText(payload: string | ArrayBuffer | Uint8Array): string {
  if (typeof payload === 'string') return payload;
  decoder ??= new TextDecoder();
  return decoder.decode(payload);
}

/**
 * A session token from the platform's cryptographic random source. The server ties each session
 * to the token it was opened with; BrowserChannel's own token comes from Math.random.
 */
function randomToken(): string | undefined {
  const crypto = (globalThis as { crypto?: { getRandomValues?<T extends Uint8Array>(array: T): T } }).crypto;
  if (!crypto?.getRandomValues) return undefined;
  let token = '';
  for (const byte of crypto.getRandomValues(new Uint8Array(16))) token += byte.toString(16).padStart(2, '0');
  return token;
}

/** Split the connect URL into the base BCSocket wants and the query it must send as extraParams. */
function splitUri(uri: string): { base: string; params: Record<string, string> } {
  const q = uri.indexOf('?');
  const params: Record<string, string> = {};
  if (q === -1) return { base: uri, params };
  // Later duplicates win, as the server's query parser does.
  for (const [key, value] of new URLSearchParams(uri.slice(q + 1))) params[key] = value;
  return { base: uri.slice(0, q), params };
}

function channelError(message: string, code: number): ChannelError {
  const err = new Error(`BrowserChannel: ${message || 'error'} (${code})`) as ChannelError;
  err.channelError = code;
  return err;
}

/**
 * The BrowserChannel client transport, shared by the Node client and the browser bundle: each
 * passes the BCSocket build it can use.
 */
export function browserchannelTransport(BCSocket: BCSocketConstructor, fields?: ChannelFields): ClientTransport {
  return {
    name: 'browserchannel',
    connect(host: TransportHost, events: TransportEvents): TransportConnection {
      // BCSocket appends `/test` and `/bind` to the URL it is given, so a query there would end up
      // in the middle of the path. It sends `extraParams` with every request instead, which is
      // how the user's query, `_primuscb`, `ping` and `pong` reach the server.
      const { base, params } = splitUri(host.uri({ protocol: 'http:', query: true }) as string);
      const given = host.transportOptions;
      const options: Record<string, unknown> = {
        // Primus reconnects on its own, with its back-off; BrowserChannel's retries of a failed
        // request would only delay that by seconds.
        failFast: true,
        ...given,
        affinity: 'affinity' in given ? given.affinity : randomToken(),
        extraParams: { ...(given.extraParams as Record<string, unknown> | undefined), ...params },
        reconnect: false,
      };
      let socket: BCSocketLike;
      try {
        socket = new BCSocket(base, options);
      } catch (err) {
        // Report on the next tick so the client has finished opening before it hears of failure.
        setTimeout(() => events.error(err), 0);
        return { send: noop, close: noop };
      }
      if (fields) adjustChannel(socket, fields, typeof given.testImageUri === 'string' && given.testImageUri ? given.testImageUri : TEST_IMAGE_URI, !!options.failFast);
      socket.onopen = () => events.open();
      socket.onmessage = (message) => events.data(message.data);
      socket.onerror = (message, code) => {
        // A session the server ended is a close, not a failure.
        if (code !== STOPPED_BY_SERVER) events.error(channelError(message, code));
      };
      socket.onclose = () => {
        // After a failed request BrowserChannel may still report how its network test went.
        socket.onerror = noop;
        events.end();
      };
      return {
        socket,
        send(payload) {
          socket.send(asText(payload));
        },
        close() {
          socket.onerror = socket.onclose = noop;
          socket.onmessage = noop;
          if (socket.readyState === CONNECTING) {
            // BrowserChannel cannot close a socket that is still connecting: its session may
            // already exist on the server, and only an open socket sends the terminate request
            // that ends it. Close as soon as it opens.
            socket.onopen = () => socket.close();
            return;
          }
          socket.onopen = noop;
          socket.close();
        },
      };
    },
  };
}
