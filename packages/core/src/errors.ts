import type { PrimusErrorCode } from '@primus/client';

// One PrimusError and one ParserError for the server and the client: the client defines them (it
// cannot depend on the core), so `instanceof` holds for errors from either side.
export { ParserError, PrimusError, type PrimusErrorCode } from '@primus/client';

/** A bad option: a TypeError that names the option. */
export function invalidOption(option: string, expected: string, got: unknown): TypeError {
  const shown = typeof got === 'string' ? JSON.stringify(got) : got === null ? 'null' : typeof got === 'object' ? 'an object' : String(got);
  const err = new TypeError(`Primus: option "${option}" must be ${expected}, got ${shown}`) as TypeError & { code: PrimusErrorCode };
  err.code = 'PRIMUS_ERR_INVALID_OPTION';
  return err;
}
