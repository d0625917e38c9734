import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanup, detachedWs, evaluateLibrary } from './helpers';

// Browsers cannot reach a Unix domain socket, so `primus.js` leaves out the `ws+unix:` URL parser
// that Node clients use; a page given such a URL gets a sentence that says why.

afterEach(cleanup);

describe('ws+unix: URLs in primus.js', () => {
  it('are refused in a page with a clear error, while http URLs still parse', () => {
    const primus = detachedWs();
    const source = primus.library();
    const { Primus } = evaluateLibrary(source);
    expect(() => new Primus('ws+unix:///var/run/app.sock', { manual: true })).toThrow(
      'Primus: cannot use "ws+unix:///var/run/app.sock": Unix domain sockets are reached from Node clients only, not from browsers',
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
