import type { PrimusErrorCode } from '@primus/protocol';

// The error classes live in @primus/protocol, shared with the server.
export { ParserError, PrimusError, type PrimusErrorCode } from '@primus/protocol';

/** The `TypeError` for a bad option or argument: `Primus: <what> must be <expected>, got <got>`. */
export function typeError(what: string, expected: string, got: string): TypeError {
  const err = new TypeError(`Primus: ${what} must be ${expected}, got ${got}`) as TypeError & { code: PrimusErrorCode };
  err.code = 'PRIMUS_ERR_INVALID_OPTION';
  return err;
}
