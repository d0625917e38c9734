import http from 'node:http';
import { afterEach, describe, expect, it } from '@jest/globals';
import { forwarded, Primus, VERSION } from '@primus/core';
import { request } from '@primus/transformer-test-suite';
import { attach, cleanup, connectRaw, detached, rawExchange, start, upgradeRequest } from './helpers';

afterEach(cleanup);

const NO_CACHE = 'no-store, no-cache, must-revalidate, max-age=0';

describe('which requests Primus captures', () => {
  it.each(['/primus', '/primus/anything', '/primus.js', '/primusfoo', '/primus?x=1'])('captures %s (a plain string prefix) and answers 426', async (path) => {
    const server = await start();
    const res = await request(server.url + path);
    expect(res.status).toBe(426);
    expect(res.headers['content-type']).toBe('text/plain');
    expect(res.body).toBe('Upgrade Required');
  });

  it.each(['/', '/nothrow', '/PRIMUS', '/prim', '/other/primus'])('leaves %s to the application', async (path) => {
    const server = await start();
    const res = await request(server.url + path);
    expect(res.body).toBe(path === '/nothrow' ? 'original listener' : 'the application handler was reached');
  });

  it.each([
    ['foo', '/foo'],
    ['/foo', '/foo'],
    ['/foo/', '/foo'],
    ['//foo', '/foo'],
  ])('normalises pathname %p to %p', async (pathname, expected) => {
    const server = await start({ pathname });
    expect(server.primus.pathname).toBe(expected);
    expect(server.primus.spec.pathname).toBe(expected);
    expect((await request(`${server.url}${expected}/spec`)).status).toBe(200);
    expect((await request(`${server.url}/primus/spec`)).body).toBe('the application handler was reached');
  });

  it('connects clients on a custom pathname', async () => {
    const server = await start({ pathname: 'realtime' });
    const client = await connectRaw(server);
    client.send('primus::id::');
    expect(await client.next()).toBe(JSON.stringify(`primus::id::${client.spark.id}`));
  });

  it('closes an upgrade outside the pathname when nobody else handles upgrades', async () => {
    const server = await start();
    expect(await rawExchange(server.port, upgradeRequest('/elsewhere'))).toBe('');
  });
});

describe("the HTTP server's own listeners", () => {
  it('still receive requests and upgrades outside the pathname, with this === the server', async () => {
    const calls: Array<[string, unknown]> = [];
    const server = http.createServer(function (this: unknown, _req, res) {
      calls.push(['request', this]);
      res.end('app');
    });
    server.on('upgrade', function (this: unknown, _req: http.IncomingMessage, socket: import('node:stream').Duplex) {
      calls.push(['upgrade', this]);
      socket.end("HTTP/1.1 418 I'm a teapot\r\nConnection: close\r\n\r\n");
    });
    const { url, port } = await attach(server);
    expect((await request(`${url}/hello`)).body).toBe('app');
    expect(await rawExchange(port, upgradeRequest('/not-primus'))).toMatch(/^HTTP\/1\.1 418/);
    expect(calls).toEqual([
      ['request', server],
      ['upgrade', server],
    ]);
  });

  it.each([true, false])('are restored as the first listeners by destroy({ close: %p })', async (close) => {
    const server = http.createServer();
    const onRequest = (): void => {};
    const onUpgrade = (): void => {};
    server.on('request', onRequest);
    server.on('upgrade', onUpgrade);
    const primus = new Primus(server, { transformer: 'websockets' });
    expect(server.listeners('request')).not.toContain(onRequest);
    // A listener added after Primus would see Primus's requests too; it must stay after the originals.
    const later = (): void => {};
    server.on('request', later);
    await new Promise<void>((resolve) => primus.destroy({ close }, () => resolve()));
    expect(server.listeners('request')).toEqual([onRequest, later]);
    expect(server.listeners('upgrade')).toEqual([onUpgrade]);
  });
});

describe('middleware order', () => {
  it('installs forwarded, cors, primus.js, spec, x-xss, no-cache, authorization in that order', () => {
    expect(detached().layers.map((layer) => layer.name)).toEqual(['forwarded', 'cors', 'primus.js', 'spec', 'x-xss', 'no-cache', 'authorization']);
  });

  it('serves primus.js and the spec without no-cache headers and without authorization', async () => {
    let authCalls = 0;
    const server = await start({
      authorization(_req, done) {
        authCalls++;
        done(new Error('nope'));
      },
    });
    for (const path of ['/primus/spec', '/primus/primus.js']) {
      const res = await request(server.url + path);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBeUndefined();
      expect(res.headers.pragma).toBeUndefined();
    }
    expect(authCalls).toBe(0);
  });

  it('adds no-cache headers to everything else under the pathname', async () => {
    const server = await start();
    const res = await request(`${server.url}/primus`);
    expect(res.headers['cache-control']).toBe(NO_CACHE);
    expect(res.headers.pragma).toBe('no-cache');
  });

  it('turns off the XSS filter of old Internet Explorer only', async () => {
    const server = await start();
    const ie = await request(`${server.url}/primus`, { headers: { 'User-Agent': 'Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0)' } });
    expect(ie.headers['x-xss-protection']).toBe('0');
    const modern = await request(`${server.url}/primus`, { headers: { 'User-Agent': 'Mozilla/5.0 Firefox/140.0' } });
    expect(modern.headers['x-xss-protection']).toBeUndefined();
  });
});

describe('/primus/spec and /primus/primus.js', () => {
  it('describes the server in a fixed key order', async () => {
    const server = await start();
    const res = await request(`${server.url}/primus/spec`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const spec = JSON.parse(res.body) as Record<string, unknown>;
    expect(Object.keys(spec)).toEqual(['version', 'pathname', 'timeout', 'parser', 'transformer']);
    expect(spec).toEqual({ version: VERSION, pathname: '/primus', timeout: 35000, parser: 'json', transformer: 'websockets' });
  });

  it('reports the configured timeout, pathname and a custom parser', async () => {
    const server = await start({
      timeout: 60000,
      pathname: '/rt',
      parser: { name: 'Upper', encode: JSON.stringify, decode: JSON.parse },
    });
    expect(JSON.parse((await request(`${server.url}/rt/spec`)).body)).toMatchObject({ timeout: 60000, pathname: '/rt', parser: 'upper' });
  });

  it('serves the client library as JavaScript, equal to primus.library()', async () => {
    const server = await start();
    const res = await request(`${server.url}/primus/primus.js`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.body));
    expect(res.body).toBe(server.primus.library());
  });

  it('serves the library again after a plugin is added, with the plugin in it', async () => {
    const server = await start();
    await request(`${server.url}/primus/primus.js`);
    server.primus.use('late', { client: function lateClientPlugin() {} });
    expect((await request(`${server.url}/primus/primus.js`)).body).toContain('lateClientPlugin');
  });

  it.each(['/primus/spec', '/primus/primus.js'])('answers HEAD without a body, OPTIONS with 204 and other methods with 405 at %s', async (path) => {
    const server = await start();
    const head = await request(`${server.url}${path}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    expect(head.body).toBe('');
    const options = await request(`${server.url}${path}`, { method: 'OPTIONS' });
    expect(options.status).toBe(204);
    expect(options.headers.allow).toBe('GET, HEAD, OPTIONS');
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'TRACE']) {
      const res = await request(`${server.url}${path}`, { method });
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD, OPTIONS');
      expect(res.body).toBe('Method Not Allowed');
    }
  });
});

describe('CORS', () => {
  const origin = 'http://example.com';

  it('adds nothing when the request has no Origin', async () => {
    const server = await start();
    const res = await request(`${server.url}/primus/spec`);
    expect(Object.keys(res.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });

  it('echoes an allowed origin with Vary and credentials', async () => {
    const server = await start();
    const res = await request(`${server.url}/primus/spec`, { headers: { Origin: origin } });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(origin);
    expect(res.headers.vary).toBe('Origin');
    expect(res.headers['access-control-allow-credentials']).toBe('true');
  });

  it('answers * without credentials when credentials are off', async () => {
    const server = await start({ credentials: false });
    const res = await request(`${server.url}/primus/spec`, { headers: { Origin: origin } });
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('refuses a method that is not allowed with a 403 and a three-line body', async () => {
    const server = await start();
    const res = await request(`${server.url}/primus/spec`, { method: 'PATCH', headers: { Origin: origin } });
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toBe('text/plain');
    expect(res.body).toBe(`Invalid HTTP Access Control (CORS) request:\n  Origin: ${origin}\n  Method: PATCH`);
  });

  it.each(['example.com', 'http://exa%6dple.com'])('refuses a malformed origin %p', async (bad) => {
    const server = await start();
    expect((await request(`${server.url}/primus/spec`, { headers: { Origin: bad } })).status).toBe(403);
  });

  it('answers a preflight under any path with the allowed methods, echoed headers and a 30-day max age', async () => {
    const server = await start();
    const res = await request(`${server.url}/primus/any/path`, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'x-custom, content-type' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    expect(res.headers['content-length']).toBe('0');
    expect(res.headers['access-control-max-age']).toBe('2592000');
    expect(res.headers['access-control-allow-methods']).toBe('GET, HEAD, PUT, POST, DELETE, OPTIONS');
    expect(res.headers['access-control-allow-headers']).toBe('x-custom, content-type');
    expect(res.headers['access-control-allow-origin']).toBe(origin);
  });

  it('uses the configured headers, methods and maxAge in a preflight', async () => {
    const server = await start({ headers: ['x-one', 'x-two'], methods: ['GET', 'PATCH'], maxAge: 60 });
    const res = await request(`${server.url}/primus`, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'PATCH', 'Access-Control-Request-Headers': 'x-other' },
    });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-headers']).toBe('x-one, x-two');
    expect(res.headers['access-control-allow-methods']).toBe('GET, PATCH');
    expect(res.headers['access-control-max-age']).toBe('60');
  });

  it('refuses origins that are not in the list, and echoes the ones that are', async () => {
    const server = await start({ origins: ['http://good.example', 'https://also.example'] });
    const bad = await request(`${server.url}/primus/spec`, { headers: { Origin: 'http://evil.example' } });
    expect(bad.status).toBe(403);
    expect(bad.body).toContain('Origin: http://evil.example');
    const good = await request(`${server.url}/primus/spec`, { headers: { Origin: 'https://also.example' } });
    expect(good.status).toBe(200);
    expect(good.headers['access-control-allow-origin']).toBe('https://also.example');
  });

  it('exposes the configured headers on normal requests', async () => {
    const server = await start({ exposed: 'x-request-id, x-other' });
    const res = await request(`${server.url}/primus/spec`, { headers: { Origin: origin } });
    expect(res.headers['access-control-expose-headers']).toBe('x-request-id, x-other');
  });

  it('refuses WebSocket upgrades from origins outside a configured list, with a 403', async () => {
    const server = await start({ origins: 'http://good.example' });
    const answer = await rawExchange(server.port, upgradeRequest('/primus', { Origin: 'http://evil.example' }));
    expect(answer).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(answer).toContain('Invalid WebSocket origin: http://evil.example');
    const allowed = await connectRaw(server, '', { Origin: 'http://GOOD.example' });
    expect(allowed.spark.headers.origin).toBe('http://GOOD.example');
    // Clients outside browsers send no Origin.
    await connectRaw(server);
  });

  it('leaves WebSocket upgrades alone with the default origins, as happn-primus did', async () => {
    const server = await start();
    const client = await connectRaw(server, '', { Origin: 'http://evil.example' });
    expect(client.spark.headers.origin).toBe('http://evil.example');
  });
});

describe('client address behind proxies', () => {
  const peer = { remoteAddress: '127.0.0.1', remotePort: 50000 };

  it('believes the first x-forwarded-for address and port by default', () => {
    expect(forwarded(peer, { 'x-forwarded-for': '13.3.37.1,12.12.12.12', 'x-forwarded-port': '9083,1334' })).toEqual({ ip: '13.3.37.1', port: 9083, secure: false });
  });

  it('falls back to the direct peer without proxy headers, or when one is not an IP address', () => {
    expect(forwarded(peer, {})).toEqual({ ip: '127.0.0.1', port: 50000, secure: false });
    expect(forwarded(peer, { 'x-forwarded-for': '13.3.37.1, not-an-ip' })).toEqual({ ip: '127.0.0.1', port: 50000, secure: false });
  });

  it('marks the address secure when the proxy says https', () => {
    expect(forwarded(peer, { 'x-forwarded-for': '13.3.37.1', 'x-forwarded-proto': 'https' }).secure).toBe(true);
  });

  it('with trustedProxies, ignores the headers unless the direct peer is trusted', () => {
    const headers = { 'x-forwarded-for': '6.6.6.6' };
    expect(forwarded(peer, headers, new Set(['10.0.0.1'])).ip).toBe('127.0.0.1');
    expect(forwarded(peer, headers, new Set(['127.0.0.1'])).ip).toBe('6.6.6.6');
  });

  it('with trustedProxies, takes the right-most hop that is not a trusted proxy', () => {
    const trusted = new Set(['127.0.0.1', '10.0.0.2']);
    const headers = { 'x-forwarded-for': '6.6.6.6, 13.3.37.1, 10.0.0.2', 'x-forwarded-port': '1, 9083, 3' };
    expect(forwarded(peer, headers, trusted)).toEqual({ ip: '13.3.37.1', port: 9083, secure: false });
  });

  it('gives sparks the forwarded address', async () => {
    const server = await start();
    const client = await connectRaw(server, '', { 'X-Forwarded-For': '13.3.37.1,12.12.12.12', 'X-Forwarded-Port': '9083,1334' });
    expect(client.spark.address).toMatchObject({ ip: '13.3.37.1', port: 9083 });
  });

  it('gives sparks the real peer when the proxy is not trusted', async () => {
    const server = await start({ trustedProxies: ['10.9.9.9'] });
    const client = await connectRaw(server, '', { 'X-Forwarded-For': '13.3.37.1' });
    expect(client.spark.address.ip).toBe('127.0.0.1');
    expect(client.spark.address.port).toBe((client.ws as unknown as { _socket: { localPort: number } })._socket.localPort);
  });

  it('gives sparks the right-most untrusted hop behind a trusted proxy', async () => {
    const server = await start({ trustedProxies: ['127.0.0.1'] });
    const client = await connectRaw(server, '', { 'X-Forwarded-For': '6.6.6.6, 13.3.37.1' });
    expect(client.spark.address.ip).toBe('13.3.37.1');
  });
});
