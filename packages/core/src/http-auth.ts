import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Who may use an HTTP route a plugin serves: basic credentials, or a function that decides per request. */
export type HttpAuth = { username: string; password: string } | ((req: IncomingMessage) => boolean | Promise<boolean>);

/** A checked `auth` option: `check` resolves true when the request may proceed. */
export interface HttpAuthGuard {
  check(req: IncomingMessage): Promise<boolean>;
  /** The `WWW-Authenticate` challenge for a refusal, when the scheme has one. */
  readonly challenge: string | undefined;
}

/** How `httpAuthGuard` reports a bad option: the plugin's own error, naming the option. */
export type InvalidOption = (option: string, expected: string, got: unknown) => Error;

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Validate an `auth` option (as `@primus/metrics` and `@primus/admin` take it) and turn it into a
 * guard. `realm` names the protected thing in the basic challenge; `invalid` builds the error
 * thrown for a bad option, so that it names the plugin.
 */
export function httpAuthGuard(auth: unknown, realm: string, invalid: InvalidOption): HttpAuthGuard {
  if (typeof auth === 'function') {
    const decide = auth as (req: IncomingMessage) => boolean | Promise<boolean>;
    return {
      challenge: undefined,
      async check(req) {
        try {
          return (await decide(req)) === true;
        } catch {
          // A hook that throws refuses; the caller answers 401 and the process stays up.
          return false;
        }
      },
    };
  }
  if (typeof auth !== 'object' || auth === null) throw invalid('auth', 'an object { username, password } or a function (req) => boolean', auth);
  const { username, password } = auth as { username?: unknown; password?: unknown };
  if (typeof username !== 'string' || username === '' || username.includes(':')) throw invalid('auth.username', 'a non-empty string without ":"', username);
  if (typeof password !== 'string' || password === '') throw invalid('auth.password', 'a non-empty string', typeof password === 'string' ? '""' : password);
  // Comparing digests keeps the comparison constant-time whatever the length of the guess.
  const expected = digest(`${username}:${password}`);
  return {
    challenge: `Basic realm="${realm}", charset="UTF-8"`,
    async check(req) {
      const header = req.headers.authorization ?? '';
      if (!/^basic /i.test(header)) return false;
      return timingSafeEqual(digest(Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')), expected);
    },
  };
}
