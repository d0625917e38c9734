import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Spark } from '@primus/core';
import { CHROMIUM_ARGS, nextSpark, once, waitFor } from '@primus/transformer-test-suite';
import type { Browser, BrowserContext } from 'playwright-core';
import { redisCluster } from '@primus/redis';
import { cleanup as redisCleanup, startRedis } from '../../redis/test/helpers/processes';
import { cleanup, CREDENTIALS, start } from './helpers';

// The admin page in a real Chromium: log in with HTTP basic credentials, watch sparks come and
// go, end one from the page, and be refused without the credentials (the page and the feed).
// PRIMUS_ADMIN_SCREENSHOT=<file> saves a screenshot of the page with some traffic on it.

jest.setTimeout(60_000);
const executablePath = process.env.PRIMUS_CHROMIUM ?? '/usr/bin/chromium';
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  if (!existsSync(executablePath)) throw new Error(`Chromium not found at ${executablePath}: install it (apt-get install chromium) or set PRIMUS_CHROMIUM`);
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
}, 60_000);

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  await cleanup();
  await redisCleanup();
});

afterAll(async () => {
  await browser?.close();
});

/** Open the page in a new context (with the admin credentials, or none); `errors` collects script errors and failed requests. */
async function open(url: string, httpCredentials: { username: string; password: string } | null = CREDENTIALS) {
  const context = await browser.newContext(httpCredentials ? { httpCredentials } : {});
  contexts.push(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  // The test server answers 500 outside /primus, which Chromium asks for its favicon.
  page.on('response', (response) => {
    if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) errors.push(`${response.status()} ${response.url()}`);
  });
  const first = page.waitForEvent('response');
  // Headless Chromium has no login dialog: a refused login ends the navigation with an error,
  // after the response arrived.
  await page.goto(url).catch(() => undefined);
  const response = await first;
  return { page, status: response.status(), challenge: (await response.allHeaders())['www-authenticate'], errors };
}

const row = (id: string): string => `#sparks tr[data-id="${id}"]`;
const gone = (id: string): string => `#disconnections tr[data-id="${id}"]`;

describe('the admin page in Chromium', () => {
  it('logs in, and shows a spark connect and disconnect within a second each', async () => {
    const server = await start();
    const { page, status, errors } = await open(server.url + '/primus/admin');
    expect(status).toBe(200);
    await page.waitForSelector('#state.live', { timeout: 10_000 });

    const arriving = nextSpark(server.primus);
    const client = server.client();
    const spark: Spark = await arriving;
    await once(client, 'open');
    await page.waitForSelector(row(spark.id), { timeout: 1000 });
    const cells = await page.$$eval(`${row(spark.id)} td`, (tds) => tds.map((td) => td.textContent));
    expect(cells[1]).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(cells[2]).toBe('websockets');
    expect(await page.textContent('#spark-count')).toBe('1');

    client.end();
    await page.waitForSelector(row(spark.id), { state: 'detached', timeout: 1000 });
    await page.waitForSelector(gone(spark.id), { timeout: 1000 });
    expect(await page.textContent(`${gone(spark.id)} td:nth-child(4)`)).toBe('client');
    expect(await page.textContent('#spark-count')).toBe('0');
    expect(errors).toEqual([]);
  });

  it('ends a spark from the page: its client is told not to reconnect', async () => {
    const server = await start();
    const { page } = await open(server.url + '/primus/admin');
    await page.waitForSelector('#state.live', { timeout: 10_000 });
    const arriving = nextSpark(server.primus);
    const client = server.client();
    const spark: Spark = await arriving;
    await page.waitForSelector(row(spark.id), { timeout: 2000 });
    const ended = once(client, 'end');
    await page.click(`button[data-end="${spark.id}"]`);
    await ended;
    expect(spark.endReason).toBe('server');
    await page.waitForSelector(gone(spark.id), { timeout: 2000 });
    expect(await page.textContent(`${gone(spark.id)} td:nth-child(4)`)).toBe('server');
    // Told not to reconnect: no new spark arrives.
    expect(server.primus.connected).toBe(0);
  });

  it('is refused without credentials, and so is its feed', async () => {
    const server = await start();
    for (const credentials of [null, { username: CREDENTIALS.username, password: 'guess' }]) {
      const { status, challenge } = await open(server.url + '/primus/admin', credentials);
      expect(status).toBe(401);
      expect(challenge).toMatch(/^Basic realm="Primus admin"/);
    }
    // From a page of that origin, nothing of the feed: not its library, not a connection.
    const { page } = await open(server.url + '/nothrow', null);
    const library = await page.evaluate(async () => (await fetch('/primus/admin/feed/primus.js')).status);
    expect(library).toBe(401);
    const socket = await page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/primus/admin/feed');
          ws.onopen = () => resolve('open');
          ws.onerror = () => resolve('refused');
        }),
    );
    expect(socket).toBe('refused');
    expect(server.primus.admin!.feed.connected).toBe(0);
  });

  it('charts the rates and shows heartbeats and latency', async () => {
    const server = await start({ interval: 250 }, { pongSkipTime: 50 });
    const clients = Array.from({ length: 4 }, (_, i) => server.client({ ping: 200 + 100 * i }));
    await Promise.all(clients.map((c) => once(c, 'open')));
    const leaving = server.client();
    await once(leaving, 'open');
    leaving.end();
    const { page, errors } = await open(server.url + '/primus/admin');
    await page.waitForSelector('#state.live', { timeout: 10_000 });
    const traffic = setInterval(() => clients.forEach((c, i) => c.write({ n: i })), 50);
    try {
      await waitFor(
        async () => (await page.$$eval('#sparks tr td:nth-child(6)', (tds) => tds.filter((td) => /^\d+ ms$/.test(td.textContent ?? '')).length)) === clients.length,
        10_000,
        'a latency for every client',
      );
      await waitFor(async () => Number(await page.textContent('#chart-messages-received')) > 0, 5000, 'a message rate');
      const points = await page.$eval('#chart-messages polyline', (line) => line.getAttribute('points')!.split(' ').length);
      expect(points).toBeGreaterThan(1);
      expect(await page.textContent('#sparks tr td:nth-child(5)')).toMatch(/s ago$/);
      expect(await page.$$eval('#servers li', (items) => items.map((li) => li.textContent))).toEqual([expect.stringMatching(/\(this server\)$/)]);
    } finally {
      clearInterval(traffic);
    }
    expect(errors).toEqual([]);
  });

  it('lists the servers of a @primus/redis cluster, this one marked', async () => {
    const redis = await startRedis();
    const settings = { url: redis.url, prefix: `admin-${randomUUID()}`, ttl: 2000, heartbeat: 300, timeout: 1000 };
    const a = await start({ interval: 250 }, { pongSkipTime: 50, plugin: { cluster: redisCluster({ ...settings, id: 'node-a' }) } });
    const b = await start({}, { plugin: { cluster: redisCluster({ ...settings, id: 'node-b' }) } });
    await Promise.all([a.primus.cluster!.ready(5000), b.primus.cluster!.ready(5000)]);
    const clients = Array.from({ length: 5 }, (_, i) => a.client({ ping: 300 + 150 * i }));
    await Promise.all(clients.map((c) => once(c, 'open')));
    const { page, errors } = await open(a.url + '/primus/admin');
    await page.waitForSelector('#state.live', { timeout: 10_000 });
    await waitFor(async () => (await page.$$eval('#servers li', (items) => items.length)) === 2, 5000, 'both servers');
    expect(await page.$$eval('#servers li', (items) => items.map((li) => li.textContent))).toEqual(['node-a (this server)', 'node-b']);
    expect(await page.textContent('#server-name')).toBe('node-a');
    const traffic = setInterval(() => clients.forEach((c, i) => i % 2 === 0 && c.write({ n: i })), 40);
    try {
      const screenshot = process.env.PRIMUS_ADMIN_SCREENSHOT;
      if (screenshot) {
        // Some traffic and a few comings and goings, so the charts and lists have something to show.
        // The pauses only spread the picture over time; nothing waits on them.
        const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
        for (const by of ['client', 'server', 'client']) {
          const arriving = nextSpark(a.primus);
          const passer = a.client();
          const spark: Spark = await arriving;
          await pause(800);
          if (by === 'client') passer.end();
          else spark.end();
        }
        await pause(5000);
        mkdirSync(dirname(screenshot), { recursive: true });
        await page.setViewportSize({ width: 1280, height: 860 });
        await page.screenshot({ path: screenshot, fullPage: true });
      }
    } finally {
      clearInterval(traffic);
    }
    expect(errors).toEqual([]);
  });
});
