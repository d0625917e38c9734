import { json } from '@primus/parser-json';
import { compile } from './client';
import { websocketTransport } from './websocket';
import { library } from './generated/library';

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
export type { ClientTransport, TransportConnection, TransportEvents, TransportHost, UriOptions } from './transport';
export { websocketTransport, type WebSocketFactory } from './websocket';
export { parseDuration } from '@primus/protocol';
export { Recovery, RECONNECT_DEFAULTS, type ReconnectAttempt, type ReconnectOptions, type AttemptDone } from './recovery';
export { Timers } from './timers';
export { ParserError, PrimusError, type PrimusErrorCode } from './errors';
export { runTransformers, toError, type MessageTransformer, type Packet, type TransformNext, type TransformDone } from '@primus/protocol';
export { CONTROL_PREFIX, parseControl, isControl, escapeSeparators } from '@primus/protocol';
export { emits } from '@primus/protocol';
export { parseUrl, parseQuery, stringifyQuery, yeast, type ParsedUrl } from './url';

/**
 * Source of the browser client bundle (an expression that evaluates to the client's browser
 * exports). `@primus/core` wraps it, with a transport, parser and plugins, into `primus.js`.
 */
export const clientLibrary: string = library;

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
