import { createServer } from './create-server';
import { Primus as PrimusServer } from './primus';

/** The Primus server, with `Primus.createServer()` and `Primus.createSocket()`. */
export class Primus extends PrimusServer {
  /** Create an HTTP(S) server with Primus attached; see `CreateServerOptions`. */
  static createServer = createServer;
}

export default Primus;
export type {
  AuthorizationHandler,
  BoundSpark,
  DestroyOptions,
  EventEmitterLike,
  Plugin,
  PrimusEvents,
  PrimusOptions,
  PrimusSpec,
  ResolvedOptions,
} from './primus';
export { Spark, OPEN, OPENING, CLOSED, DEFAULT_PING, DEFAULT_PONG, MIN_HEARTBEAT, MAX_HEARTBEAT, type SparkEvents, type SparkEndOptions, type SparkEndReason, type SparkQuery } from './spark';
export {
  defineTransformer,
  resolveTransformer,
  TRANSFORMER_PACKAGES,
  type ConnectionInfo,
  type Logger,
  type SparkSocket,
  type Transformer,
  type TransformerContext,
  type TransformerServer,
} from './transformer';
export { defineParser, resolveParser, type LegacyParser, type Parser, type RawData } from './parser';
export type { HttpError, Layer, Middleware, MiddlewareFactory, MiddlewareResponse, PrimusRequest, AsyncMiddleware, SyncMiddleware } from './middleware';
export { compileTrustedProxies, forwarded, peerAddress, type Address, type RemoteLike, type TrustProxy } from './forwarded';
export { PrimusError, ParserError, type PrimusErrorCode } from './errors';
export { createServer, type CreateServerOptions } from './create-server';
export { VERSION } from './version';
export { compactListeners } from './compact-listeners';
export type { ClientOptions, ClientEvents, PrimusClient, PrimusConstructor, ClientTransport, TransportHost, TransportEvents, TransportConnection, MessageTransformer, Packet } from '@primus/client';
