/** Every control message starts with this prefix, on both sides of the wire. */
export const CONTROL_PREFIX = 'primus::';

/** A control message split into its type and value: `primus::pong::123` is `['pong', '123']`. */
export type ControlMessage = [type: string, value: string];

/**
 * Split a `primus::<type>::<value>` string the way happn-primus 6.0.1 does: the type runs from
 * index 8 to the next colon, and the value starts two characters after it.
 */
export function parseControl(message: string): ControlMessage {
  const colon = message.indexOf(':', CONTROL_PREFIX.length);
  if (colon === -1) return [message.slice(CONTROL_PREFIX.length), ''];
  return [message.slice(CONTROL_PREFIX.length, colon), message.slice(colon + 2)];
}

/** True when a decoded message is a control message rather than application data. */
export function isControl(data: unknown): data is string {
  return typeof data === 'string' && data.startsWith(CONTROL_PREFIX);
}

/** True in the primus.js builds (see kernel.ts). */
declare const PRIMUS_BROWSER: boolean | undefined;

/**
 * Escape U+2028 and U+2029 in an encoded payload as `\u2028` and `\u2029`. happn-primus does this
 * to every encoded string on both sides, so the bytes on the wire match; inside JSON string
 * literals the escape is loss-free.
 */
export function escapeSeparators(payload: string): string {
  // A server escapes every message it sends: the usual payload, without either character, is
  // returned after two searches, several times faster than the replaces. primus.js leaves the
  // shortcut out (see kernel.ts).
  if (typeof PRIMUS_BROWSER === 'undefined' && payload.indexOf('\u2028') < 0 && payload.indexOf('\u2029') < 0) return payload;
  return payload.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Format a control message: `control('pong', 5)` is `primus::pong::5`. */
export function control(type: string, value: string | number = ''): string {
  return CONTROL_PREFIX + type + '::' + value;
}
