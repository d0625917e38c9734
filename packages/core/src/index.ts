import type { CreateServerOptions } from './create-server';
import { Primus } from './primus';
import type { Spark } from './server-spark';

export { Primus };
export default Primus;

/** `Primus.createServer()` as a function: an HTTP(S) server with Primus attached, listening at once. */
export function createServer(fn?: ((spark: Spark) => void) | CreateServerOptions, options?: CreateServerOptions): Primus {
  return Primus.createServer(fn, options);
}
export type { BoundSpark, EventEmitterLike, LogLevel, PrimusCustomEvents, PrimusEventMap, PrimusEvents, PrimusSpec } from './primus';
export { DEFAULT_OPTIONS, type AuthorizationHandler, type PrimusOptions, type ResolvedOptions } from './options';
export type { Plugin } from './plugins';
export type { RetainedRequest } from './retained-request';
export type { DestroyOptions } from './shutdown';
export {
  MemoryRecoveryStore,
  MemoryRecoveryRecord,
  RECOVERY_DEFAULTS,
  resolveRecovery,
  type RecoveredSession,
  type RecoveryLimits,
  type RecoveryOptions,
  type RecoveryPayload,
  type RecoveryRecord,
  type RecoveryStore,
  type ResolvedRecovery,
} from './recovery-store';
export { Spark } from './server-spark';
export {
  SparkBase,
  OPEN,
  OPENING,
  CLOSED,
  DEFAULT_PING,
  DEFAULT_PONG,
  MIN_HEARTBEAT,
  MAX_HEARTBEAT,
  type HeartbeatScheduler,
  type SparkCustomEvents,
  type SparkEventMap,
  type SparkEvents,
  type SparkEndOptions,
  type SparkEndReason,
  type SparkHost,
  type SparkQuery,
} from './spark';
export {
  defineTransformer,
  type ConnectionInfo,
  type ConnectionSink,
  type ConnectionSocket,
  type DrainOptions,
  type HostServer,
  type Logger,
  type Transformer,
  type TransformerContext,
  type TransformerOptions,
  type TransformerServer,
} from './contract';
export { resolveTransformer, TRANSFORMER_PACKAGES, type SparkSocket } from './transformer';
export { defineParser, resolveParser, type LegacyParser, type Parser, type RawData } from './parser';
export type { HttpError, Layer, Middleware, MiddlewareFactory, MiddlewareResponse, PrimusRequest, AsyncMiddleware, SyncMiddleware } from './middleware';
export { compileTrustedProxies, forwarded, peerAddress, type Address, type RemoteLike, type TrustProxy } from './forwarded';
export {
  PrimusError,
  ParserError,
  invalidOption,
  invalidValue,
  optionChecker,
  optionError,
  type InvalidOptionError,
  type NumberRule,
  type OptionChecker,
  type PrimusErrorCode,
} from './errors';
export type { CreateServerOptions } from './create-server';
export { VERSION } from './version';
export { compactListeners } from './compact-listeners';
export { httpAuthGuard, type HttpAuth, type HttpAuthGuard, type InvalidOption } from './http-auth';
export type {
  ClientOptions,
  ClientEvents,
  PrimusClient,
  PrimusConstructor,
  ClientTransport,
  TransportHost,
  TransportEvents,
  TransportConnection,
  MessageTransformer,
  Packet,
} from '@primus/client';
