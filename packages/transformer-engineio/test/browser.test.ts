import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Spark } from '@primus/core';
import { browserSuite, CHROMIUM_ARGS, nextSpark, once, startServer, waitFor, type TestServer } from '@primus/transformer-test-suite';
import engineio from '../src';

browserSuite({ transformer: engineio });

// The suite passes over long-polling alone, so check that the bundled engine.io-client also
// upgrades in a real browser, and stays on polling when asked to.
describe('browser: engine.io transports', () => {
  const executablePath = process.env.PRIMUS_CHROMIUM ?? '/usr/bin/chromium';
  let browser: import('playwright-core').Browser;
  let server: TestServer;

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
    server = await startServer({ transformer: engineio }, 0, '127.0.0.1', (_req, res) => {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end('<!doctype html><meta charset="utf-8"><script src="/primus/primus.js"></script>');
    });
    server.primus.on('connection', (spark: Spark) => spark.on('data', (data: unknown) => spark.write(data)));
  }, 60000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it.each([
    ['upgrades to WebSocket by default', {}, 'websocket'],
    ['stays on polling with websockets: false', { websockets: false }, 'polling'],
  ])('%s', async (_name, options, expected) => {
    const context = await browser.newContext();
    try {
      const tab = await context.newPage();
      await tab.goto(server.url + '/');
      const sparkP = nextSpark(server.primus);
      await tab.evaluate((opts) => {
        const w = window as unknown as { Primus: new (url: string, o: unknown) => unknown; primus: unknown };
        w.primus = new w.Primus(location.origin, opts);
      }, options);
      const spark = await sparkP;
      const transport = (): Promise<string | undefined> =>
        tab.evaluate(() => (window as unknown as { primus: { socket?: { transport?: { name: string } } } }).primus.socket?.transport?.name);
      if (expected === 'websocket') await waitFor(async () => (await transport()) === 'websocket', 10000, 'the upgrade');
      // A round trip after the upgrade had its chance: the transport must not have changed since.
      const echoed = once(spark, 'data');
      await tab.evaluate(() => (window as unknown as { primus: { write(d: unknown): void } }).primus.write('ping 😀'));
      expect((await echoed)[0]).toBe('ping 😀');
      expect(await transport()).toBe(expected);
      expect(spark.query.EIO).toBe('4');
      const allowed = await tab.evaluate(() => (window as unknown as { primus: { socket: { transports: string[] } } }).primus.socket.transports);
      expect(allowed).toEqual(expected === 'websocket' ? ['polling', 'websocket'] : ['polling']);
    } finally {
      await context.close();
    }
  }, 30000);
});
