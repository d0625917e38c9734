// Take docs/demo.png: start the demo on a free port, open it in headless Chromium, chat from the
// page and from a Node client, and save a screenshot of the page once both messages are shown.
//
//   node examples/demo/screenshot.mjs
//
// CHROMIUM (default /usr/bin/chromium) points at the browser; playwright-core drives it.
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { start } from './server.mjs';

const output = new URL('../../docs/demo.png', import.meta.url);
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';

const demo = await start({ port: 0, host: '127.0.0.1', transformer: process.env.TRANSFORMER ?? 'websockets', quiet: true });
const browser = await chromium.launch({
  executablePath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
let node;

try {
  const page = await browser.newPage({ viewport: { width: 880, height: 720 }, deviceScaleFactor: 1 });
  page.on('pageerror', (err) => console.error('page error:', err.message));
  await page.addInitScript(() => localStorage.setItem('primus-demo-name', 'ada'));
  await page.goto(demo.url);

  await page.waitForSelector('#state[data-state="open"]', { timeout: 10000 });
  await page.waitForFunction(() => document.getElementById('count').textContent === '1', null, { timeout: 10000 });

  // A second participant: the server's own Node client class.
  node = new demo.primus.Socket(demo.url);
  node.write({ type: 'chat', name: 'node-client', text: 'Hello from a Node.js client.' });
  await page.waitForFunction(() => document.getElementById('count').textContent === '2', null, { timeout: 10000 });
  await page.waitForSelector('#messages li .text >> text=Hello from a Node.js client', { timeout: 10000 });

  await page.fill('#text', 'Hi! Both of us see this message, and the counter says 2.');
  await page.click('#send');
  await page.waitForSelector('#messages li.mine', { timeout: 10000 });

  const state = await page.textContent('#state-text');
  const count = await page.textContent('#count');
  const transformer = await page.textContent('#transformer');
  if (state !== 'open' || count !== '2' || transformer !== demo.transformer) {
    throw new Error(`unexpected page: state=${state} count=${count} transformer=${transformer}`);
  }

  mkdirSync(new URL('.', output), { recursive: true });
  await page.screenshot({ path: output.pathname, fullPage: true });
  console.log(`saved ${output.pathname} (state ${state}, ${count} clients, ${transformer})`);
} finally {
  node?.destroy();
  await browser.close();
  await demo.close();
}
