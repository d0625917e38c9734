import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Tokens for the live feed. The page is served only to an authenticated request, with a token in
 * it; the feed accepts a connection only with a valid token. A token is its expiry time signed
 * with a key that lives in this process only, so restarting the server invalidates every page.
 */
export class Tokens {
  private readonly key = randomBytes(32);

  constructor(private readonly ttl: number) {}

  /** A new token, valid for `ttl` ms. */
  issue(now = Date.now()): string {
    const expires = (now + this.ttl).toString(36);
    return `${expires}.${this.sign(expires)}`;
  }

  /** Whether `token` was issued here and has not expired. */
  verify(token: unknown, now = Date.now()): boolean {
    if (typeof token !== 'string' || token.length > 128) return false;
    const dot = token.indexOf('.');
    if (dot <= 0) return false;
    const expires = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.sign(expires));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    return Number.parseInt(expires, 36) > now;
  }

  private sign(value: string): string {
    return createHmac('sha256', this.key).update(value).digest('base64url');
  }
}
