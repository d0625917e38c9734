import { parseDuration } from './duration';

/** The `TypeError` for a bad option or argument: its `code` is `PRIMUS_ERR_INVALID_OPTION`. */
export type InvalidOptionError = TypeError & { code: 'PRIMUS_ERR_INVALID_OPTION' };

/** A bad option or argument, with the whole sentence given: a `TypeError` with `PRIMUS_ERR_INVALID_OPTION`. */
export function optionError(message: string): InvalidOptionError {
  const err = new TypeError(message) as InvalidOptionError;
  err.code = 'PRIMUS_ERR_INVALID_OPTION';
  return err;
}

/** How a bad value reads in a message: strings quoted, arrays, objects and functions by kind, the rest as `String()` has it. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  if (value && typeof value === 'object') return 'an object';
  return typeof value === 'function' ? 'a function' : String(value);
}

/** A bad argument or setting: `<owner>: <what> must be <expected>, got <value>`. */
export function invalidValue(what: string, expected: string, got: unknown, owner = 'Primus'): InvalidOptionError {
  return optionError(`${owner}: ${what} must be ${expected}, got ${describeValue(got)}`);
}

/** A bad option: `<owner>: option "<option>" must be <expected>, got <value>`. */
export function invalidOption(option: string, expected: string, got: unknown, owner = 'Primus'): InvalidOptionError {
  return invalidValue(`option "${option}"`, expected, got, owner);
}

/** Bounds of a number option; `unit` only words the message (`a positive integer number of ms`). */
export interface NumberRule<D = never> {
  /** The smallest allowed value, inclusive. */
  min?: number;
  /** The largest allowed value, inclusive. */
  max?: number;
  /** What the number counts, for the message: `'ms'`, `'bytes'`. */
  unit?: string;
  /** The value when the option is `undefined`; without it, `undefined` is refused. */
  default?: D;
}

/**
 * Checks for the options of one constructor or factory. Each takes the option's name and value,
 * returns the value (or `default` when it is `undefined`), and otherwise throws a
 * `PRIMUS_ERR_INVALID_OPTION` `TypeError` that names the option, what it must be and what it got.
 */
export interface OptionChecker {
  /** Throw the error for `option` with a sentence of your own for what it must be. */
  fail(option: string, expected: string, got: unknown): never;
  /** The options argument itself: `undefined` is `{}`, anything that is not an object is refused. */
  options<T extends object>(value: T | undefined): T;
  /** A finite integer within the bounds. */
  integer<D = never>(option: string, value: unknown, rule?: NumberRule<D>): number | D;
  /** A finite number within the bounds. */
  number<D = never>(option: string, value: unknown, rule?: NumberRule<D>): number | D;
  /** A number of ms or a duration string (`'30s'`, `'5 minutes'`), returned in ms. */
  duration<D = never>(option: string, value: unknown, rule?: Omit<NumberRule<D>, 'unit'>): number | D;
  /** `true` or `false`. */
  boolean<D = never>(option: string, value: unknown, rule?: { default?: D }): boolean | D;
  /** A string; with `nonEmpty`, not `''`. */
  string<D = never>(option: string, value: unknown, rule?: { nonEmpty?: boolean; default?: D }): string | D;
  /** One of `choices`. */
  oneOf<T extends string, D = never>(option: string, value: unknown, choices: readonly T[], rule?: { default?: D }): T | D;
  /** A function. */
  function<D = never>(option: string, value: unknown, rule?: { default?: D }): ((...args: never[]) => unknown) | D;
}

function numberExpected(kind: 'integer' | 'number', rule: NumberRule<unknown>): string {
  const { min, max, unit } = rule;
  const noun = unit ? `${kind} number of ${unit}` : kind;
  if (max === undefined && min === 0) return `a non-negative ${noun}`;
  if (max === undefined && min === 1 && kind === 'integer') return `a positive ${noun}`;
  const article = kind === 'integer' ? 'an' : 'a';
  if (min !== undefined && max !== undefined) return `${article} ${noun} from ${min} to ${max}`;
  if (min !== undefined) return `${article} ${noun} of at least ${min}`;
  if (max !== undefined) return `${article} ${noun} of at most ${max}`;
  return `${article} ${noun}`;
}

/** The option checks of `owner` (the name that starts each message: `'@primus/redis'`). */
export function optionChecker(owner = 'Primus'): OptionChecker {
  const fail = (option: string, expected: string, got: unknown): never => {
    throw invalidOption(option, expected, got, owner);
  };
  const within = (value: number, rule: NumberRule<unknown>): boolean => (rule.min === undefined || value >= rule.min) && (rule.max === undefined || value <= rule.max);
  const numeric =
    (kind: 'integer' | 'number') =>
    <D>(option: string, value: unknown, rule: NumberRule<D> = {}): number | D => {
      if (value === undefined && 'default' in rule) return rule.default as D;
      const ok = typeof value === 'number' && (kind === 'integer' ? Number.isInteger(value) : Number.isFinite(value)) && within(value, rule);
      return ok ? (value as number) : fail(option, numberExpected(kind, rule), value);
    };
  return {
    fail,
    options<T extends object>(value: T | undefined): T {
      if (value === undefined) return {} as T;
      return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : fail('options', 'an object', value);
    },
    integer: numeric('integer'),
    number: numeric('number'),
    duration<D>(option: string, value: unknown, rule: Omit<NumberRule<D>, 'unit'> = {}): number | D {
      if (value === undefined && 'default' in rule) return rule.default as D;
      const ms = parseDuration(value);
      if (Number.isFinite(ms) && within(ms, rule)) return ms;
      const bounds = rule.min !== undefined ? ` of at least ${rule.min} ms` : '';
      return fail(option, `a number of ms or a duration such as "30s"${bounds}`, value);
    },
    boolean<D>(option: string, value: unknown, rule: { default?: D } = {}): boolean | D {
      if (value === undefined && 'default' in rule) return rule.default as D;
      return typeof value === 'boolean' ? value : fail(option, 'a boolean', value);
    },
    string<D>(option: string, value: unknown, rule: { nonEmpty?: boolean; default?: D } = {}): string | D {
      if (value === undefined && 'default' in rule) return rule.default as D;
      if (typeof value === 'string' && !(rule.nonEmpty && value === '')) return value;
      return fail(option, rule.nonEmpty ? 'a non-empty string' : 'a string', value);
    },
    oneOf<T extends string, D>(option: string, value: unknown, choices: readonly T[], rule: { default?: D } = {}): T | D {
      if (value === undefined && 'default' in rule) return rule.default as D;
      if (choices.includes(value as T)) return value as T;
      return fail(option, `one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`, value);
    },
    function<D>(option: string, value: unknown, rule: { default?: D } = {}): ((...args: never[]) => unknown) | D {
      if (value === undefined && 'default' in rule) return rule.default as D;
      return typeof value === 'function' ? (value as (...args: never[]) => unknown) : fail(option, 'a function', value);
    },
  };
}
