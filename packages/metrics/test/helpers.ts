import http from 'node:http';
import { WebSocket } from 'ws';
import type { Spark } from '@primus/core';
import { nextSpark, once, startServer, type TestServer } from '@primus/transformer-test-suite';
import type { PrimusOptions } from '@primus/core';
import websockets from '@primus/transformer-ws';

const cleanups: Array<() => unknown> = [];

/** Undo what the current test started; use as `afterEach(cleanup)`. */
export async function cleanup(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn();
}

/** Run `fn` at cleanup. */
export function onCleanup(fn: () => unknown): void {
  cleanups.push(fn);
}

/** A real server on a random port over the websockets transformer, closed at cleanup. */
export async function start(options: PrimusOptions): Promise<TestServer> {
  const server = await startServer({ transformer: websockets, ...options });
  onCleanup(() => server.close());
  return server;
}

/** A plain HTTP GET. */
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

/** One sample of the text exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed exposition: the samples, and the `# TYPE` of each metric family. */
export interface Exposition {
  samples: Sample[];
  types: Record<string, string>;
  /** The value of the sample with this name and exactly these labels, or undefined. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

/** Parse the Prometheus text format (version 0.0.4). */
export function parse(text: string): Exposition {
  const samples: Sample[] = [];
  const types: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ');
      types[name!] = type!;
      continue;
    }
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = pair[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const raw = match[3]!;
    samples.push({ name: match[1]!, labels, value: raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw) });
  }
  return {
    samples,
    types,
    value(name, labels = {}) {
      const keys = Object.keys(labels);
      const found = samples.find((s) => s.name === name && Object.keys(s.labels).length === keys.length && keys.every((k) => s.labels[k] === labels[k]));
      return found?.value;
    },
  };
}

/** GET the exposition over HTTP and parse it; fails unless the answer is 200 in the Prometheus text format. */
export async function scrape(url: string, headers: Record<string, string> = {}): Promise<Exposition> {
  const res = await get(url, headers);
  if (res.status !== 200) throw new Error(`scrape of ${url} answered ${res.status}: ${res.body}`);
  if (!String(res.headers['content-type']).startsWith('text/plain; version=0.0.4')) throw new Error(`unexpected content type ${res.headers['content-type']}`);
  return parse(res.body);
}

/** A raw WebSocket client that sends exactly the frames it is told to. */
export interface RawClient {
  ws: WebSocket;
  spark: Spark;
  /** Every frame received, as text. */
  received: string[];
  closed: Promise<void>;
}

/** Open a raw WebSocket to Primus (with `query`) and wait for its spark. */
export async function raw(server: TestServer, query = 'ping=false'): Promise<RawClient> {
  const sparkReady = nextSpark(server.primus);
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/primus?${query}`);
  onCleanup(() => ws.terminate());
  ws.on('error', () => {});
  const received: string[] = [];
  ws.on('message', (data) => received.push(data.toString()));
  const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
  await once(ws, 'open');
  return { ws, spark: await sparkReady, received, closed };
}
