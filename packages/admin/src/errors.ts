/** A bad option: a TypeError that names the option, with the core's option error code. */
export function invalidOption(option: string, expected: string, got: unknown): TypeError {
  const shown = typeof got === 'string' ? JSON.stringify(got) : got === null ? 'null' : Array.isArray(got) ? 'an array' : typeof got === 'object' ? 'an object' : String(got);
  const err = new TypeError(`@primus/admin: option "${option}" must be ${expected}, got ${shown}`) as TypeError & { code: string };
  err.code = 'PRIMUS_ERR_INVALID_OPTION';
  return err;
}
