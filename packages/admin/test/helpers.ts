import http from 'node:http';
import type { PrimusOptions } from '@primus/core';
import { startServer, type TestServer } from '@primus/transformer-test-suite';
import websockets from '@primus/transformer-ws';
import { admin, type AdminOptions } from '../src/index';

const cleanups: Array<() => unknown> = [];

/** Undo what the current test started; use as `afterEach(cleanup)`. */
export async function cleanup(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn();
}

/** Run `fn` at cleanup. */
export function onCleanup(fn: () => unknown): void {
  cleanups.push(fn);
}

export const CREDENTIALS = { username: 'ops', password: 'correct horse battery staple' };
export const BASIC = { authorization: `Basic ${Buffer.from(`${CREDENTIALS.username}:${CREDENTIALS.password}`).toString('base64')}` };

/** A real server over websockets with the admin plugin (basic credentials unless `auth` is given), echoing. */
export async function start(options: Partial<AdminOptions> = {}, primusOptions: PrimusOptions = {}): Promise<TestServer> {
  const server = await startServer({ transformer: websockets, ...primusOptions, plugin: { ...(primusOptions.plugin as object), admin: admin({ auth: CREDENTIALS, ...options }) } });
  server.primus.on('connection', (spark: import('@primus/core').Spark) => spark.on('data', (data: unknown) => spark.write(data)));
  onCleanup(() => server.close());
  return server;
}

/** A plain HTTP request. */
export function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Load the page with the credentials and read the feed token out of it. */
export async function token(server: TestServer): Promise<string> {
  const page = await get(server.url + '/primus/admin', BASIC);
  if (page.status !== 200) throw new Error(`the admin page answered ${page.status}`);
  const config = /<script type="application\/json" id="admin-config">(.*?)<\/script>/.exec(page.body);
  if (!config) throw new Error('no configuration in the admin page');
  return (JSON.parse(config[1]!) as { token: string }).token;
}
