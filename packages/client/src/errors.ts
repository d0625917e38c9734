// The error classes and option helpers live in @primus/protocol, shared with the server.
import { invalidValue } from '@primus/protocol';

export { connectionError, invalidValue, optionError, parseDuration, PrimusError } from '@primus/protocol';

/** `value` when it is an object, a new empty one when it is undefined; anything else throws. */
export function optionalObject<T extends object>(name: string, value: T | undefined): T {
  if (value === undefined) return {} as T;
  if (typeof value !== 'object' || value === null) throw invalidValue(name, 'an object', value);
  return value;
}
