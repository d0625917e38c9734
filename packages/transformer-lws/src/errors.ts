import { PrimusError } from '@primus/core/contract';

/** Error codes of the lws transformer: the first three on a spark, `LWS_ERR_BINDING` at `new Primus()`. */
export type LwsErrorCode = 'LWS_ERR_MESSAGE_TOO_BIG' | 'LWS_ERR_BUFFER_FULL' | 'LWS_ERR_OUT_OF_MEMORY' | 'LWS_ERR_BINDING';

const MESSAGES: Record<Exclude<LwsErrorCode, 'LWS_ERR_BINDING'>, string> = {
  LWS_ERR_MESSAGE_TOO_BIG: 'A message larger than maxLength arrived; the connection was closed with 1009',
  LWS_ERR_BUFFER_FULL: 'The client stopped reading and its send queue exceeded maxBufferedAmount; the connection was dropped',
  LWS_ERR_OUT_OF_MEMORY: 'The server ran out of memory for this connection; it was closed',
};

/** An error of the lws transformer, a `PrimusError`; `code` says which (docs/errors.md). */
export class LwsError extends PrimusError {
  declare readonly code: LwsErrorCode;

  constructor(code: LwsErrorCode, message?: string) {
    super(code, message ?? MESSAGES[code as keyof typeof MESSAGES] ?? code);
    this.name = 'LwsError';
  }
}
