import { json } from '@primus/parser-json';
import { compile } from './client';
import { websocketTransport } from './websocket';
import { library } from '../generated/library';
import { libraryRecovery } from '../generated/library-recovery';
import { sessions } from './client';
import { ClientSession } from './session';
import { completeUnixUrl, parseUnixUrl } from './unix';
import { unixUrls } from './url';

// Node clients reach Unix domain sockets (`ws+unix:` URLs); primus.js, built from browser.ts, leaves
// this out.
unixUrls.parse = parseUnixUrl;
unixUrls.complete = completeUnixUrl;
// Node clients can always resume a session; in primus.js only a server with recovery on ships it.
sessions.Session = ClientSession;

export {
  compile,
  PrimusClient,
  OPEN,
  OPENING,
  CLOSED,
  type ClientConfig,
  type ClientCustomEvents,
  type ClientEventMap,
  type ClientEvents,
  type ClientOptions,
  type ClientParser,
  type ClientPlugin,
  type PrimusConstructor,
  type ResolvedClientOptions,
} from './client';
// The client API only. What the client shares with the server (decoding, control messages,
// message transformers) lives in @primus/protocol; the client's own helpers (URL and query
// parsing, timers, the reconnect schedule) stay inside the package. test/public-api.test.ts keeps
// this list honest.
export { ParserError, PrimusError, type PrimusErrorCode, type MessageTransformer, type Packet, type TransformNext } from '@primus/protocol';
export type { ReconnectAttempt, ReconnectOptions, AttemptDone } from './recovery';
// For transformer authors: what a transformer's client half implements and may use.
export type { ClientTransport, TransportConnection, TransportEvents, TransportHost, UriOptions } from './transport';
export type { ParsedUrl } from './url';
export { websocketTransport, type WebSocketFactory } from './websocket';

/**
 * Source of the browser client bundle (an expression that evaluates to the client's browser
 * exports). `@primus/core` wraps it, with a transport, parser and plugins, into `primus.js`.
 */
export const clientLibrary: string = library;

/** `clientLibrary` with connection-state recovery's client session, for servers with `recovery` on. */
export const clientLibraryRecovery: string = libraryRecovery;

/**
 * A ready client for bundlers: plain WebSocket transport, JSON, pathname `/primus`. Use it against
 * a server running the websockets transformer; for others, build a class with `compile()` or the
 * server's `primus.Socket`.
 *
 * ```ts
 * import { Primus } from '@primus/client';
 * const primus = new Primus('https://example.com');
 * ```
 */
export const Primus = compile({ transport: websocketTransport(), parser: json });
export default Primus;
