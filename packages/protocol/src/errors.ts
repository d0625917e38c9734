/** Every error code Primus raises, on the server or in the client; docs/errors.md explains each. */
export type PrimusErrorCode =
  | 'PRIMUS_ERR_INVALID_OPTION'
  | 'PRIMUS_ERR_INVALID_SERVER'
  | 'PRIMUS_ERR_UNKNOWN_TRANSFORMER'
  | 'PRIMUS_ERR_MISSING_TRANSFORMER'
  | 'PRIMUS_ERR_INVALID_TRANSFORMER'
  | 'PRIMUS_ERR_UNKNOWN_PARSER'
  | 'PRIMUS_ERR_MISSING_PARSER'
  | 'PRIMUS_ERR_INVALID_PARSER'
  | 'PRIMUS_ERR_PLUGIN'
  | 'PRIMUS_ERR_MIDDLEWARE'
  | 'PRIMUS_ERR_TRANSFORM_TYPE'
  | 'PRIMUS_ERR_HTTPS'
  | 'PRIMUS_ERR_PARSER_ENCODE'
  | 'PRIMUS_ERR_PARSER_DECODE'
  | 'PRIMUS_ERR_TRANSFORM'
  | 'PRIMUS_ERR_CONNECTION'
  | 'PRIMUS_ERR_NOT_COMPILED'
  | 'PRIMUS_ERR_CLIENT_DESTROYED'
  | 'PRIMUS_ERR_NO_WEBSOCKET'
  | 'PRIMUS_ERR_CONTEXT'
  | 'PRIMUS_ERR_RECONNECT_TIMEOUT'
  | 'PRIMUS_ERR_RECONNECT_FAILED'
  | 'PRIMUS_ERR_CLUSTER_UNAVAILABLE'
  | 'PRIMUS_ERR_CLUSTER_TIMEOUT'
  | 'PRIMUS_ERR_CLUSTER_CLOSED'
  | 'PRIMUS_ERR_CLUSTER_ENCODE'
  | 'LWS_ERR_MESSAGE_TOO_BIG'
  | 'LWS_ERR_BUFFER_FULL'
  | 'LWS_ERR_OUT_OF_MEMORY'
  | 'LWS_ERR_BINDING';

/**
 * An error raised by Primus, with a stable string `code` and, where another error caused it,
 * ES2022 `cause`. One class for the server and the client: `@primus/core` and `@primus/client` both
 * re-export it from here, so `instanceof` holds for errors from either side.
 */
export class PrimusError extends Error {
  /** A stable identifier; see docs/errors.md. */
  readonly code: PrimusErrorCode;

  constructor(code: PrimusErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PrimusError';
    this.code = code;
  }
}

/** Failure to encode or decode a message, on either side; the connection stays open. */
export class ParserError extends PrimusError {
  constructor(code: 'PRIMUS_ERR_PARSER_ENCODE' | 'PRIMUS_ERR_PARSER_DECODE', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ParserError';
  }
}

/**
 * A transport failure as both sides report it: an `Error` with a string `code` of its own (`ws`'s
 * `WS_ERR_*`, Node's `ECONNREFUSED`) as it is; anything else as `PRIMUS_ERR_CONNECTION`, with the
 * reported value as the `cause`.
 */
export function connectionError(reported: unknown): Error {
  if (reported instanceof Error && typeof (reported as { code?: unknown }).code === 'string') return reported;
  const { message, reason } = Object(reported) as { message?: unknown; reason?: unknown };
  // Something that says nothing (a browser's WebSocket error event, no value at all) gets a
  // sentence rather than "[object Event]" or "undefined".
  const text = message || reason || (typeof reported === 'string' && reported) || 'Connection error';
  return new PrimusError('PRIMUS_ERR_CONNECTION', String(text), { cause: reported });
}
