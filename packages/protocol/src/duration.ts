// A unit's words, in groups: milliseconds (the default), then seconds, minutes, hours and days.
const duration = /^(\d+(?:\.\d+)?)\s*(?:ms|msecs?|milliseconds?|(s|secs?|seconds?)|(m|mins?|minutes?)|(h|hrs?|hours?)|(d|days?))?$/i;
const factors = [1e3, 6e4, 36e5, 864e5];

/** Parse a number of ms or a human duration such as `'30 seconds'`; NaN when it is neither. */
export function parseDuration(value: unknown): number {
  if (typeof value === 'number') return value;
  const match = typeof value === 'string' && duration.exec(value.trim());
  return match ? +match[1]! * (factors.find((_, i) => match[i + 2]) || 1) : NaN;
}
