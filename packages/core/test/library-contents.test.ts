import { afterEach, describe, expect, it } from '@jest/globals';
import { transform } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { cleanup, detachedWs, evaluateLibrary } from './helpers';

// What primus.js leaves out for the browsers that download it. Browsers cannot reach a Unix
// domain socket, so the `ws+unix:` URL parser that Node clients use stays out; a page given such a
// URL gets a sentence that says why. The connection-state recovery session ships only to the pages
// of a server that has recovery on.

afterEach(cleanup);

describe('ws+unix: URLs in primus.js', () => {
  it('are refused in a page with a clear error, while http URLs still parse', () => {
    const primus = detachedWs();
    const source = primus.library();
    const { Primus } = evaluateLibrary(source);
    expect(() => new Primus('ws+unix:///var/run/app.sock', { manual: true })).toThrow(
      'Primus: url must be a network URL (ws+unix: is for Node), got "ws+unix:///var/run/app.sock"',
    );
    const client = new Primus('http://example.com:8080/?token=1', { manual: true });
    expect(client.url).toMatchObject({ hostname: 'example.com', port: '8080', query: '?token=1' });
    client.destroy();
  });

  it('leave the Unix socket parser and its messages out of the bundle', () => {
    const source = detachedWs().library();
    expect(source).not.toContain('write a Unix domain socket as');
    expect(source).not.toContain('names no socket');
    expect(source).not.toContain('cannot connect to a Unix domain socket');
  });

  it('still work in Node clients built by the server', () => {
    const primus = detachedWs();
    const client = new primus.Socket('ws+unix:///var/run/app.sock', { manual: true });
    expect(client.url.socketPath).toBe('/var/run/app.sock');
    client.destroy();
  });
});

describe('the recovery session in primus.js', () => {
  it('is left out for a server without recovery, and asking for it in a page says why', () => {
    const source = detachedWs().library();
    const { Primus } = evaluateLibrary(source);
    expect(source.length).toBeLessThan(detachedWs({ recovery: true }).library().length - 1000);
    expect(() => new Primus('http://example.com', { manual: true, recovery: true })).toThrow('Primus: options.recovery must be false: the server has recovery off, got true');
    const client = new Primus('http://example.com', { manual: true });
    expect(client.session).toBeNull();
    client.destroy();
  });

  it("leaves the client's calls into the session out as well, for a server without recovery", () => {
    // The connect query's recovery parameter is written only by one of those calls.
    expect(detachedWs().library()).not.toContain('_primusrecovery');
    expect(detachedWs({ recovery: true }).library()).toContain('_primusrecovery');
  });

  it('ships to the pages of a server with recovery on, on by default there', () => {
    const { Primus } = evaluateLibrary(detachedWs({ recovery: true }).library());
    const client = new Primus('http://example.com', { manual: true });
    expect(client.session).not.toBeNull();
    expect(new URL(client.uri({ protocol: 'http:', query: true })).searchParams.has('_primusrecovery')).toBe(true);
    client.destroy();
  });

  it('is always there for Node clients', () => {
    const client = new (detachedWs().Socket)('http://example.com', { manual: true, recovery: true });
    expect(client.session).not.toBeNull();
    client.destroy();
  });
});

describe('the _primuscb cache buster in primus.js', () => {
  it('is unique per connect URL, written in base 36', () => {
    const { Primus } = evaluateLibrary(detachedWs().library());
    const client = new Primus('http://example.com', { manual: true });
    const ids = Array.from({ length: 50 }, () => new URL(client.uri({ protocol: 'http:', query: true })).searchParams.get('_primuscb'));
    expect(new Set(ids).size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^[0-9a-z]+(\.[0-9a-z]+)?$/);
    client.destroy();
  });
});

describe('the size of primus.js', () => {
  it('for websockets, without recovery, stays within 6,000 bytes minified and gzipped', async () => {
    // Measured as bench/library-size.mjs measures every library it compares: esbuild's minifier at
    // ES2018, then gzip at level 9. The budget is the performance target in docs/performance.md;
    // a change that goes over it has to pay for its bytes elsewhere.
    const { code } = await transform(detachedWs().library(), { minify: true, loader: 'js', target: 'es2018' });
    expect(gzipSync(code, { level: 9 }).length).toBeLessThanOrEqual(6000);
  });
});
