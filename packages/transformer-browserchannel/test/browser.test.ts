import type http from 'node:http';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { PrimusOptions, Spark } from '@primus/core';
import { browserSuite, nextSpark, once, startServer, testPage, useBrowser, waitFor, type TestServer, type TestTab } from '@primus/transformer-test-suite';
import browserchannel from '../src';

browserSuite({ transformer: browserchannel });

// What only a browser shows: the bundled closure client's requests, from a page.

const TIMEOUT = 30000;

const chromium = useBrowser();
const servers: TestServer[] = [];

/** A Primus server whose other paths serve the test page, loading primus.js from `primusOrigin` (itself by default). */
async function start(options: PrimusOptions = {}, primusOrigin?: () => string, host = '127.0.0.1'): Promise<TestServer & { hits: string[] }> {
  const hits: string[] = [];
  let self = '';
  const server = await startServer({ transformer: browserchannel, ...options }, 0, host, (req: http.IncomingMessage, res: http.ServerResponse) => {
    hits.push(req.url ?? '');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(testPage({ src: `${primusOrigin?.() ?? self}/primus/primus.js`, title: 'browserchannel' }));
  });
  self = server.url;
  servers.push(server);
  return Object.assign(server, { hits });
}

/** Open the page at `pageUrl` and connect its client to `primusUrl`. */
const open = (pageUrl: string, primusUrl: string, clientOptions: Record<string, unknown> = {}): Promise<TestTab> =>
  chromium.open(pageUrl, { connectUrl: primusUrl, clientOptions });

describe('browser: browserchannel', () => {
  afterEach(async () => {
    // Pages first: a server does not finish closing while a page still polls it.
    await chromium.closeContext();
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  it(
    'carries the query, ping and pong to the spark, and authorizes every request, terminate included',
    async () => {
      const seen = new Set<string>();
      const server = await start({
        authorization(req, done) {
          const url = new URL(req.url ?? '/', 'http://localhost');
          seen.add(`${req.method} ${url.pathname} ${url.searchParams.get('TYPE') ?? url.searchParams.get('MODE') ?? ''}`.trim());
          done(url.searchParams.get('token') === 'secret' ? undefined : Object.assign(new Error('nope'), { statusCode: 403 }));
        },
      });
      const sparkP = nextSpark(server.primus);
      const page = await open(server.url, `${server.url}/?token=secret&room=lobby`, { ping: 4000, pong: 2000 });
      const spark = await sparkP;
      expect(spark.query).toMatchObject({ token: 'secret', room: 'lobby', ping: 4000, pong: 2000 });
      await page.waitForEvent('open');
      await waitFor(() => seen.has('GET /primus/bind xmlhttp'), 5000, 'the back channel');

      const ended = once(spark, 'end', 5000);
      await page.end();
      await ended;
      expect(seen).toEqual(new Set(['GET /primus/test init', 'GET /primus/test xmlhttp', 'POST /primus/bind', 'GET /primus/bind xmlhttp', 'GET /primus/bind terminate']));
    },
    TIMEOUT,
  );

  it(
    'delivers a 1 MB message intact in both directions',
    async () => {
      const server = await start();
      const sparkP = nextSpark(server.primus);
      const page = await open(server.url, server.url);
      const spark = await sparkP;
      await page.waitForEvent('open');
      const big = 'x'.repeat(1024 * 1024 - 32) + '€😀';
      const atServer = once(spark, 'data', 20000);
      await page.tab.evaluate((size) => (window as unknown as { primus: { write(d: unknown): void } }).primus.write('x'.repeat(size) + '€😀'), 1024 * 1024 - 32);
      expect((await atServer)[0]).toBe(big);
      spark.write(big);
      await waitFor(async () => (await page.received()).length === 1, 20000, 'the big message');
      expect(await page.tab.evaluate(() => (window as unknown as { received: unknown[] }).received[0] === 'x'.repeat(1024 * 1024 - 32) + '€😀')).toBe(true);
    },
    TIMEOUT,
  );

  it(
    'broadcasts to every page, reconnects on spark.end({ reconnect: true }) and ends for good on spark.end()',
    async () => {
      const server = await start();
      const first = nextSpark(server.primus);
      const page = await open(server.url, server.url, { reconnect: { min: 50, max: 100 } });
      const spark = await first;
      const other = await open(server.url, server.url);
      await waitFor(() => server.primus.connected === 2, 10000, 'two pages');
      server.primus.write({ news: 'flash' });
      for (const each of [page, other]) await waitFor(async () => (await each.received()).length === 1, 10000, 'the broadcast');
      expect([await page.received(), await other.received()]).toEqual([[{ news: 'flash' }], [{ news: 'flash' }]]);

      const second = nextSpark(server.primus);
      spark.end(undefined, { reconnect: true });
      await page.waitForEvent('reconnected');
      (await second).end();
      await page.waitForEvent('end');
      expect(await page.events()).not.toContain('error');
      expect(server.primus.connected).toBe(1);
    },
    TIMEOUT,
  );

  it(
    'connects to a server of another origin through Primus CORS',
    async () => {
      const target = await start();
      target.primus.on('connection', (spark: Spark) => spark.on('data', (data: unknown) => spark.write({ echo: data })));
      const pageServer = await start({}, () => target.url.replace('127.0.0.1', 'localhost'));
      const sparkP = nextSpark(target.primus);
      const primusUrl = target.url.replace('127.0.0.1', 'localhost');
      const page = await open(pageServer.url, primusUrl);
      const spark = await sparkP;
      expect(spark.headers.origin).toBe(pageServer.url);
      await page.waitForEvent('open');
      await page.write('across');
      await waitFor(async () => (await page.received()).length === 1, 10000, 'the echo');
      expect(await page.received()).toEqual([{ echo: 'across' }]);
    },
    TIMEOUT,
  );

  it(
    'connects from a page whose origin is an IPv6 literal',
    async () => {
      const server = await start({}, undefined, '::1');
      const sparkP = nextSpark(server.primus);
      const page = await open(server.url, server.url);
      await page.waitForEvent('open');
      expect((await sparkP).address.ip).toBe('::1');
    },
    TIMEOUT,
  );

  it(
    'probes the network only where it is told to, never at www.google.com',
    async () => {
      const server = await start({
        authorization(_req, done) {
          done(Object.assign(new Error('closed for today'), { statusCode: 403 }));
        },
      });
      // The probe BrowserChannel runs after a failed request goes where testImageUri says...
      const first = await open(server.url, server.url, { transport: { testImageUri: `${server.url}/probe.gif` } });
      await first.waitForEvent('end');
      await waitFor(() => server.hits.some((hit) => hit.startsWith('/probe.gif')), 10000, 'the probe');
      await first.tab.close();

      // ...and by default nowhere: the data: image needs no network.
      const second = await open(server.url, server.url);
      await second.waitForEvent('end');
      const elsewhere = second.requests.filter((url) => !url.startsWith(server.url) && !url.startsWith('data:'));
      expect(elsewhere).toEqual([]);
    },
    TIMEOUT,
  );
});
