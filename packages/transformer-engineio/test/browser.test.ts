import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Spark } from '@primus/core';
import { browserSuite, nextSpark, once, startServer, testPage, useBrowser, waitFor, type TestServer } from '@primus/transformer-test-suite';
import engineio from '../src';

browserSuite({ transformer: engineio });

// The suite passes over long-polling alone, so check that the bundled engine.io-client also
// upgrades in a real browser, and stays on polling when asked to.
describe('browser: engine.io transports', () => {
  const chromium = useBrowser();
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ transformer: engineio }, 0, '127.0.0.1', (_req, res) => {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(testPage());
    });
    server.primus.on('connection', (spark: Spark) => spark.on('data', (data: unknown) => spark.write(data)));
  }, 60000);

  afterAll(async () => {
    await server?.close();
  });

  it.each([
    ['upgrades to WebSocket by default', {}, 'websocket'],
    ['stays on polling with websockets: false', { websockets: false }, 'polling'],
  ])(
    '%s',
    async (_name, options, expected) => {
      const sparkP = nextSpark(server.primus);
      const page = await chromium.open(server.url + '/', { clientOptions: options });
      const spark = await sparkP;
      const transport = (): Promise<string | undefined> =>
        page.tab.evaluate(() => (window as unknown as { primus: { socket?: { transport?: { name: string } } } }).primus.socket?.transport?.name);
      if (expected === 'websocket') await waitFor(async () => (await transport()) === 'websocket', 10000, 'the upgrade');
      // A round trip after the upgrade had its chance: the transport must not have changed since.
      const echoed = once(spark, 'data');
      await page.write('ping 😀');
      expect((await echoed)[0]).toBe('ping 😀');
      expect(await transport()).toBe(expected);
      expect(spark.query.EIO).toBe('4');
      const allowed = await page.tab.evaluate(() => (window as unknown as { primus: { socket: { transports: string[] } } }).primus.socket.transports);
      expect(allowed).toEqual(expected === 'websocket' ? ['polling', 'websocket'] : ['polling']);
    },
    30000,
  );
});
