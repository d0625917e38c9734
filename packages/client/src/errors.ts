/** The `TypeError` for a bad option or argument: `Primus: <what> must be <expected>, got <got>`. */
export function typeError(what: string, expected: string, got: string): TypeError {
  return new TypeError(`Primus: ${what} must be ${expected}, got ${got}`);
}
