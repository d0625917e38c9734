import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { invalidOption } from './errors';

/** Who may open the admin page: HTTP basic credentials, or a function that decides per request. */
export type AdminAuth = { username: string; password: string } | ((req: IncomingMessage) => boolean | Promise<boolean>);

/** A checked `auth` option: `check` resolves true when the request may see the page. */
export interface Guard {
  check(req: IncomingMessage): Promise<boolean>;
  /** The `WWW-Authenticate` challenge for a refusal, when the scheme has one. */
  challenge: string | undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Validate the `auth` option and turn it into a guard. */
export function guard(auth: AdminAuth | undefined): Guard {
  if (typeof auth === 'function') {
    return {
      challenge: undefined,
      async check(req) {
        try {
          return (await auth(req)) === true;
        } catch {
          // A hook that throws refuses; the page answers 401 and the process stays up.
          return false;
        }
      },
    };
  }
  if (typeof auth !== 'object' || auth === null) {
    throw invalidOption('auth', 'an object { username, password } or a function (req) => boolean: the admin page is never public', auth);
  }
  if (typeof auth.username !== 'string' || auth.username === '' || auth.username.includes(':')) {
    throw invalidOption('auth.username', 'a non-empty string without ":"', auth.username);
  }
  if (typeof auth.password !== 'string' || auth.password === '') throw invalidOption('auth.password', 'a non-empty string', typeof auth.password === 'string' ? '""' : auth.password);
  // Comparing digests keeps the comparison constant-time whatever the length of the guess.
  const expected = digest(`${auth.username}:${auth.password}`);
  return {
    challenge: 'Basic realm="Primus admin", charset="UTF-8"',
    async check(req) {
      const header = req.headers.authorization ?? '';
      if (!/^basic /i.test(header)) return false;
      return timingSafeEqual(digest(Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')), expected);
    },
  };
}
