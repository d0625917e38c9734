import { afterEach, describe, expect, it } from '@jest/globals';
import type { Transformer } from '@primus/core';
import { testPage, useBrowser } from './browser-harness';
import { startFaultProxy, type FaultProxy } from './fault-proxy';
import { nextSpark, startServer, waitFor, type TestServer } from './harness';

/** Options of the browser recovery suite. */
export interface BrowserRecoverySuiteOptions {
  /** The transformer under test. */
  transformer: Transformer;
  /** Options of the page's client besides `reconnect` (e.g. `{ websockets: false }` for engine.io). */
  clientOptions?: Record<string, unknown>;
  /** A name for the run in the test title. @default transformer.name */
  label?: string;
  /** Chromium to drive. @default process.env.PRIMUS_CHROMIUM or /usr/bin/chromium */
  executablePath?: string;
  /** Per-test timeout in ms. @default 60000 */
  timeout?: number;
}

/** What the page keeps besides the harness's `events` and `received`. */
interface RecoveryWindow {
  primus: { write(data: unknown): void; id(fn: (id: string) => void): void; on(event: string, fn: (value: string) => void): void };
  recovered: string[];
  recoveryFailed: string[];
}

const DONE = 'done';
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * Connection-state recovery in Chromium, through the `primus.js` a recovery-enabled server serves:
 * a page loaded (and connected) through the fault proxy exchanges numbered messages with the
 * server, the link is cut right after a burst (messages in flight are lost to the socket), both
 * sides keep writing while the page is away, and once the link is back the page resumes its spark:
 * every message arrives exactly once and in order both ways, on the same spark id, with `recovered`
 * in the page and no second `connection` on the server.
 */
export function browserRecoverySuite(options: BrowserRecoverySuiteOptions): void {
  const { transformer } = options;
  const timeout = options.timeout ?? 60_000;
  const chromium = useBrowser({ executablePath: options.executablePath, eventTimeout: timeout / 3 });
  let server: TestServer | undefined;
  let proxy: FaultProxy | undefined;

  afterEach(async () => {
    await chromium.closeContext();
    await proxy?.close();
    await server?.close();
    proxy = undefined;
    server = undefined;
  });

  describe(`browser recovery: ${options.label ?? transformer.name}`, () => {
    it(
      'resumes the same spark in Chromium: every message once and in order both ways',
      async () => {
        const html = testPage();
        server = await startServer({ transformer, recovery: true }, 0, '127.0.0.1', (_req, res) => {
          res.setHeader('Content-Type', 'text/html; charset=utf-8');
          res.end(html);
        });
        const primus = server.primus;
        proxy = await startFaultProxy(server.port);
        const link = proxy;

        let connections = 0;
        let serverRecovered = 0;
        primus.on('connection', () => connections++);
        primus.on('recovered', () => serverRecovered++);
        const arrived = nextSpark(primus, timeout / 3);

        // The page comes from the proxy too, so it connects to its own origin through the link that is cut.
        const page = await chromium.open(proxy.url + '/', {
          clientOptions: { ...options.clientOptions, reconnect: { min: 50, max: 300, retries: 100 } },
        });
        const spark = await arrived;
        const fromPage: unknown[] = [];
        let pageDone = false;
        spark.on('data', (data: unknown) => {
          if (data === DONE) pageDone = true;
          else fromPage.push(data);
        });
        await page.waitForEvent('open');

        const tab = page.tab;
        const firstId = await tab.evaluate(() => {
          const w = window as unknown as RecoveryWindow;
          w.recovered = [];
          w.recoveryFailed = [];
          w.primus.on('recovered', (id) => w.recovered.push(id));
          w.primus.on('recovery failed', (reason) => w.recoveryFailed.push(reason));
          return new Promise<string>((resolve) => w.primus.id(resolve));
        });
        expect(firstId).toBe(spark.id);

        const pageWrites = (from: number, to: number): Promise<void> =>
          tab.evaluate(
            ([a, b]) => {
              for (let n = a; n <= b; n++) (window as unknown as RecoveryWindow).primus.write(n);
            },
            [from, to] as const,
          );
        const serverWrites = (from: number, to: number): void => {
          for (let n = from; n <= to; n++) spark.write(n);
        };

        // Before the cut: a burst each way, cut at once so part of it is still on the wire.
        await pageWrites(1, 100);
        serverWrites(1, 100);
        link.setMode('cut');
        await page.waitForEvent('reconnect scheduled');

        // While the page is away: both sides keep writing. (A polling server may not have noticed
        // yet; the page then takes its spark over when it comes back.)
        serverWrites(101, 200);
        await pageWrites(101, 200);
        link.setMode('pass');

        // The page is back once it recovered, failed to, or the server saw it as a new connection.
        const outcome = (): Promise<number> =>
          tab.evaluate(() => (window as unknown as RecoveryWindow).recovered.length + (window as unknown as RecoveryWindow).recoveryFailed.length);
        await waitFor(async () => connections > 1 || (await outcome()) > 0, timeout / 3, 'the page to come back');
        expect(connections).toBe(1);
        expect(await tab.evaluate(() => (window as unknown as RecoveryWindow).recoveryFailed)).toEqual([]);

        // After: more each way, then a final marker that says everything before it arrived.
        serverWrites(201, 300);
        spark.write(DONE);
        await pageWrites(201, 300);
        await page.write(DONE);
        await waitFor(async () => pageDone && (await page.received()).includes(DONE), timeout / 3, 'the final markers');

        expect(await page.received()).toEqual([...range(1, 300), DONE]);
        expect(fromPage).toEqual(range(1, 300));
        expect(await tab.evaluate(() => (window as unknown as RecoveryWindow).recovered)).toEqual([firstId]);
        expect(await tab.evaluate(() => new Promise<string>((resolve) => (window as unknown as RecoveryWindow).primus.id(resolve)))).toBe(firstId);
        expect(connections).toBe(1);
        expect(serverRecovered).toBe(1);
        expect(primus.spark(firstId)).toBe(spark);
        expect(await page.events()).toContain('reconnected');
      },
      timeout,
    );
  });
}
