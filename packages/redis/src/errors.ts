/** Every error code @primus/redis raises; the README's "Errors" section explains each. */
export type ClusterErrorCode =
  | 'PRIMUS_ERR_INVALID_OPTION'
  | 'PRIMUS_ERR_CLUSTER_UNAVAILABLE'
  | 'PRIMUS_ERR_CLUSTER_TIMEOUT'
  | 'PRIMUS_ERR_CLUSTER_CLOSED'
  | 'PRIMUS_ERR_CLUSTER_ENCODE';

/** A cluster operation failed; `code` says why and `cause` holds the Redis client's error. */
export class ClusterError extends Error {
  override name = 'ClusterError';
  /** A stable identifier, listed in the README. */
  readonly code: ClusterErrorCode;

  constructor(code: ClusterErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A bad option: a TypeError that names the option, with the core's option error code. */
export function invalidOption(option: string, expected: string, got: unknown): TypeError {
  const shown = typeof got === 'string' ? JSON.stringify(got) : got === null ? 'null' : typeof got === 'object' ? 'an object' : String(got);
  const err = new TypeError(`@primus/redis: option "${option}" must be ${expected}, got ${shown}`) as TypeError & { code: ClusterErrorCode };
  err.code = 'PRIMUS_ERR_INVALID_OPTION';
  return err;
}
