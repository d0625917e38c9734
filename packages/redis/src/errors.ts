import { PrimusError } from '@primus/core';

/** Every error code @primus/redis raises; docs/errors.md and the README's "Errors" section explain each. */
export type ClusterErrorCode = 'PRIMUS_ERR_CLUSTER_UNAVAILABLE' | 'PRIMUS_ERR_CLUSTER_TIMEOUT' | 'PRIMUS_ERR_CLUSTER_CLOSED' | 'PRIMUS_ERR_CLUSTER_ENCODE';

/**
 * A cluster operation failed; `code` says why and `cause` holds the Redis client's error. A
 * `PrimusError`, so one `instanceof PrimusError` check covers the core's errors and the cluster's.
 */
export class ClusterError extends PrimusError {
  declare readonly code: ClusterErrorCode;

  constructor(code: ClusterErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ClusterError';
  }
}
