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
  | 'PRIMUS_ERR_NO_WEBSOCKET';

/**
 * An error raised by Primus, with a stable string `code` and, where another error caused it,
 * ES2022 `cause`. One class for the server and the client: `@primus/core` and `@primus/client` both re-export
 * it from here, so `instanceof` holds for errors from either side.
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

/** A bad option: a TypeError that names the option, with code `PRIMUS_ERR_INVALID_OPTION`. */
export function invalidOption(option: string, expected: string, got: unknown): TypeError {
  const shown = typeof got === 'string' ? JSON.stringify(got) : got === null ? 'null' : typeof got === 'object' ? 'an object' : String(got);
  const err = new TypeError(`Primus: option "${option}" must be ${expected}, got ${shown}`) as TypeError & { code: PrimusErrorCode };
  err.code = 'PRIMUS_ERR_INVALID_OPTION';
  return err;
}
