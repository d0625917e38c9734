import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from '@jest/globals';
import type { PrimusClient } from '@primus/client';
import type { Spark, Transformer } from '@primus/core';
import browserchannel from '@primus/transformer-browserchannel';
import engineio from '@primus/transformer-engineio';
import socketio from '@primus/transformer-socketio';
import sockjs from '@primus/transformer-sockjs';
import { once, startServer, waitFor, type TestServer } from '@primus/transformer-test-suite';
import { closeCode, openWebSocket, rawRequest, streamBody, text, type RawRequest, type RawResponse } from './framework-input-wire';

// The framework-level bad-input corpus (corpus/framework/*.json) and what runs it: a server per
// framework with a well-behaved client beside it, hand-made sessions for the offending requests to
// use, and the checks every case gets (the offender's answer, its session afterwards, what reached
// the application, the bystander's echo, the server still answering).

/** One offending request, frame sequence or oversized upload, and what must come of it. */
export interface CorpusCase {
  name: string;
  /** What kind of bad input it is (session id, framing, method, size, websocket). */
  kind: string;
  /**
   * Open a session of the offender's own first: `default`, `eio3` (engine.io protocol 3) or
   * `handshake` (socket.io: handshake only, the session connects with the case's request).
   * Its ids fill the placeholders (`{sid}`, `{session}`, `{SID}`, `{a}`) of the request.
   */
  session?: 'default' | 'eio3' | 'handshake';
  request?: RawRequest & { waitMs?: number };
  /** A body of `bytes` bytes, declared up front or sent chunked, that must be cut off early. */
  stream?: { method: string; path: string; headers?: Record<string, string>; bytes: number; chunked?: boolean };
  /** A WebSocket on `path` that sends `frames` (text) once open. */
  websocket?: { path: string; frames: string[] };
  expect: {
    /** HTTP status; 0 when the connection is closed without an answer. */
    status?: number;
    body?: string;
    /** A regular expression the body must match. */
    bodyMatch?: string;
    headers?: Record<string, string>;
    /** No answer within `request.waitMs` (the request is left waiting, by design). */
    pending?: boolean;
    /** Text frames received, each a regular expression, in order (after the upgrade). */
    frames?: string[];
    /** The close code of the server's close frame (null: a close frame without a code). */
    closeCode?: number | null;
  };
  /**
   * The offender's session afterwards: `none` means no spark was created at all. Defaults to
   * `open` when the case opened a session (or a WebSocket), `none` otherwise.
   */
  offender?: 'open' | 'closed' | 'none';
  /** What the application heard from the offender's session, in order. @default [] */
  delivered?: unknown[];
  /** A regular expression a `warn` or `error` line of the Primus `log` event must match. */
  log?: string;
}

/** One framework's corpus file. */
export interface Corpus {
  transformer: string;
  description: string;
  /** The server's `maxLength` for these cases. */
  maxLength: number;
  cases: CorpusCase[];
}

/** The result of one case, for the report. */
export interface CaseResult {
  transformer: string;
  name: string;
  kind: string;
  documented: string;
  observed: string;
  passed: boolean;
}

const corpusDir = join(__dirname, '..', 'corpus', 'framework');

/** Read one corpus file. */
export function loadCorpus(file: string): Corpus {
  return JSON.parse(readFileSync(join(corpusDir, file), 'utf8')) as Corpus;
}

/** The session ids of a hand-made session. */
export type SessionVars = Record<string, string>;

/** How to open a session by hand on one framework, and what it says to an id it does not know. */
export interface Framework {
  transformer: Transformer;
  /** Options of the bystander client: the same polling paths the offenders use. */
  bystander: Record<string, unknown>;
  /** Open a session by hand; `query` is appended to every request of it. */
  open(port: number, kind: CorpusCase['session'], query: string): Promise<SessionVars>;
  /** Ask for a session by its ids and resolve with whether the framework still knows it. */
  knows(port: number, vars: SessionVars, query: string): Promise<boolean>;
  /** The WebSocket frame that carries one Primus message (its JSON text) on this framework. */
  frame(message: string): string;
  /** Shorten the framework's own timeout for abandoned sessions, through its live settings. */
  shortenTimeout?(spark: Spark): void;
}

const form = { 'Content-Type': 'application/x-www-form-urlencoded' };

function answerOf(res: RawResponse, what: string, pattern: RegExp): RegExpExecArray {
  const match = pattern.exec(res.body);
  if (res.status !== 200 || !match) throw new Error(`could not open ${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return match;
}

/** The frameworks, by transformer name. */
export const frameworks: Record<string, Framework> = {
  'engine.io': {
    transformer: engineio,
    bystander: { websockets: false },
    async open(port, kind, query) {
      const eio = kind === 'eio3' ? 'EIO=3&transport=polling&b64=1' : 'EIO=4&transport=polling';
      const res = await rawRequest(port, { method: 'GET', path: `/primus/?${eio}&${query}` });
      return { sid: answerOf(res, 'an engine.io session', /"sid":"([^"]+)"/)[1]! };
    },
    async knows(port, vars, query) {
      const res = await rawRequest(port, { method: 'GET', path: `/primus/?EIO=4&transport=polling&sid=${vars.sid}&${query}` }, 1000);
      return !res.body.includes('Session ID unknown');
    },
    frame: (message) => `4${message}`,
    shortenTimeout(spark) {
      // engine.io pings protocol 4 clients every pingInterval and drops those that do not answer
      // within pingTimeout (25 s + 20 s by default), reading both when it schedules them.
      const socket = (spark.socket as unknown as { socket: { server: { opts: { pingInterval: number; pingTimeout: number } } } }).socket;
      socket.server.opts.pingInterval = 1000;
      socket.server.opts.pingTimeout = 3000;
    },
  },
  sockjs: {
    transformer: sockjs,
    bystander: { websockets: false },
    async open(port, _kind, query) {
      const session = randomBytes(6).toString('hex');
      const res = await rawRequest(port, { method: 'POST', path: `/primus/000/${session}/xhr?${query}` });
      answerOf(res, 'a sockjs session', /^o\n$/);
      return { session };
    },
    async knows(port, vars, query) {
      const res = await rawRequest(port, { method: 'POST', path: `/primus/000/${vars.session}/xhr_send?${query}`, body: '[]' });
      return res.status !== 404;
    },
    frame: (message) => JSON.stringify([message]),
    // sockjs's disconnect_delay (5 s) is short enough to wait for.
  },
  browserchannel: {
    transformer: browserchannel,
    bystander: {},
    async open(port, _kind, query) {
      const a = randomBytes(8).toString('hex');
      const res = await rawRequest(port, { method: 'POST', path: `/primus/bind?VER=8&RID=1000&CVER=1&a=${a}&${query}`, headers: form, body: 'count=0' });
      return { SID: answerOf(res, 'a BrowserChannel session', /\["c","([^"]+)"/)[1]!, a };
    },
    async knows(port, vars, query) {
      const res = await rawRequest(port, { method: 'POST', path: `/primus/bind?VER=8&SID=${vars.SID}&RID=1001&a=${vars.a}&${query}`, headers: form, body: 'count=0' });
      return !res.body.includes('Unknown SID');
    },
    // BrowserChannel has no WebSocket.
    frame: (message) => message,
    shortenTimeout(spark) {
      // browserchannel closes a session that has had no back channel for sessionTimeoutInterval
      // (30 s), read from its options object whenever the timer is armed.
      const session = (spark.socket as unknown as { session: { options: { sessionTimeoutInterval: number } } }).session;
      session.options.sessionTimeoutInterval = 2000;
    },
  },
  'socket.io': {
    transformer: socketio,
    bystander: { websockets: false },
    async open(port, kind, query) {
      const res = await rawRequest(port, { method: 'GET', path: `/primus/1/?${query}` });
      const sid = answerOf(res, 'a socket.io handshake', /^([\w-]{20}):/)[1]!;
      if (kind !== 'handshake') {
        // The first poll connects the session: socket.io answers it with the connect packet.
        const poll = await rawRequest(port, { method: 'GET', path: `/primus/1/xhr-polling/${sid}?${query}` });
        answerOf(poll, 'a socket.io session', /^1::/);
      }
      return { sid };
    },
    async knows(port, vars, query) {
      const res = await rawRequest(port, { method: 'GET', path: `/primus/1/xhr-polling/${vars.sid}?${query}` }, 1000);
      return !res.body.includes('7:::1+0');
    },
    frame: (message) => `3:::${message}`,
    shortenTimeout(spark) {
      // socket.io ends a polling session whose client has not polled again within its
      // `close timeout` (60 s), read from the Manager's settings when the timer is armed.
      const socket = (spark.socket as unknown as { socket: { manager: { set(key: string, value: unknown): void } } }).socket;
      socket.manager.set('close timeout', 2);
    },
  },
};

/** A framework server with a bystander client and what the cases observe. */
export interface Bench {
  server: TestServer;
  bystander: PrimusClient;
  bystanderSpark: Spark;
  /** Sparks that connected since the last `reset()`, with what each heard. */
  sparks: Spark[];
  heard: Map<Spark, unknown[]>;
  /** warn and error lines of the Primus `log` event since the last `reset()`. */
  logs: string[];
  reset(): void;
  close(): Promise<void>;
}

/** Start a server of `framework` that echoes, and connect a bystander to it. */
export async function startBench(framework: Framework, maxLength: number): Promise<Bench> {
  const server = await startServer({ transformer: framework.transformer, maxLength });
  const bench: Bench = {
    server,
    bystander: undefined as unknown as PrimusClient,
    bystanderSpark: undefined as unknown as Spark,
    sparks: [],
    heard: new Map(),
    logs: [],
    reset() {
      bench.sparks = [];
      bench.heard = new Map();
      bench.logs = [];
    },
    close: () => server.close(),
  };
  server.primus.on('log', (level: string, ...args: unknown[]) => {
    if (level === 'warn' || level === 'error') bench.logs.push(args.map((arg) => (arg instanceof Error ? `${arg.message} ${(arg as { code?: string }).code ?? ''}` : String(arg))).join(' '));
  });
  server.primus.on('connection', (spark: Spark) => {
    spark.on('data', (data: unknown) => spark.write(data));
    if (spark === bench.bystanderSpark || spark.query.who === 'bystander') return;
    const heard: unknown[] = [];
    bench.heard.set(spark, heard);
    bench.sparks.push(spark);
    spark.on('data', (data: unknown) => heard.push(data));
  });
  const sparkP = once<[Spark]>(server.primus as never, 'connection');
  bench.bystander = server.client({ ...framework.bystander, query: 'who=bystander' } as never);
  [bench.bystanderSpark] = await sparkP;
  await once(bench.bystander, 'open');
  return bench;
}

let sequence = 0;
const SENTINEL = 'sentinel: every frame before this one was handled';

/** The bystander still echoes, on the same spark, and the server still answers plain requests. */
export async function expectHealthy(bench: Bench): Promise<void> {
  const message = { bystander: ++sequence };
  const echo = once(bench.bystander, 'data', 10000);
  bench.bystander.write(message);
  expect((await echo)[0]).toEqual(message);
  expect(bench.server.primus.spark(bench.bystanderSpark.id)).toBe(bench.bystanderSpark);
  const spec = await rawRequest(bench.server.port, { method: 'GET', path: '/primus/spec' });
  expect(spec.status).toBe(200);
}

function fill(template: string, vars: SessionVars): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => vars[name] ?? whole);
}

/** What the case says of the offender's session afterwards, defaults applied. */
function stateOf(c: CorpusCase): 'open' | 'closed' | 'none' {
  return c.offender ?? ((c.session && c.session !== 'handshake') || c.websocket ? 'open' : 'none');
}

/** The documented response of a case, in a few words, for the report. */
export function describeExpectation(c: CorpusCase): string {
  const e = c.expect;
  const parts: string[] = [];
  if (e.pending) parts.push('no answer (request left waiting)');
  else if (e.status === 0) parts.push('connection closed without an answer');
  else if (e.status !== undefined) parts.push(`${e.status}${e.body !== undefined ? ` ${JSON.stringify(e.body.length > 60 ? e.body.slice(0, 57) + '...' : e.body)}` : e.bodyMatch ? ` /${e.bodyMatch}/` : ''}`);
  if (e.frames?.length) parts.push(`frames ${e.frames.map((f) => `/${f}/`).join(', ')}`);
  if (e.closeCode !== undefined) parts.push(e.closeCode === null ? 'close frame' : `close ${e.closeCode}`);
  const state = stateOf(c);
  parts.push(state === 'none' ? 'no session' : `session ${state}`);
  if (c.delivered?.length) parts.push(`delivers ${JSON.stringify(c.delivered)}`);
  return parts.join('; ');
}

/**
 * Run one case against a bench and assert everything it promises. Resolves with the result for
 * the report; a failed assertion rejects.
 */
export async function runCase(bench: Bench, framework: Framework, corpus: Corpus, c: CorpusCase): Promise<CaseResult> {
  const cleanups: (() => void)[] = [];
  try {
    return await checkCase(bench, framework, corpus, c, cleanups);
  } finally {
    for (const cleanup of cleanups) cleanup();
    // The offender's session is not needed any more: end it, so later cases start clean.
    for (const spark of bench.sparks) spark.end();
  }
}

async function checkCase(bench: Bench, framework: Framework, corpus: Corpus, c: CorpusCase, cleanups: (() => void)[]): Promise<CaseResult> {
  const port = bench.server.port;
  bench.reset();
  const query = 'ping=false';
  // `{big}`: a JSON string longer than maxLength, whatever the framing around it.
  const vars: SessionVars = { big: JSON.stringify('x'.repeat(corpus.maxLength)), ...(c.session ? await framework.open(port, c.session, query) : {}) };
  if (c.session && c.session !== 'handshake') await waitFor(() => bench.sparks.length > 0, 10000, "the offender's spark");
  const opened = [...bench.sparks];
  let observed: string;

  if (c.request) {
    const req: RawRequest = { ...c.request, path: fill(c.request.path, vars) };
    if (req.body !== undefined) req.body = fill(req.body, vars);
    const res = await rawRequest(port, req, c.request.waitMs ?? 5000);
    observed = res.pending ? 'no answer (request left waiting)' : res.status === 0 ? 'connection closed without an answer' : `${res.status} ${JSON.stringify(res.body.length > 60 ? res.body.slice(0, 57) + '...' : res.body)}`;
    if (c.expect.pending) {
      // A streaming answer may have started (its status is then given) but must not have ended.
      expect({ pending: res.pending, status: res.status }).toEqual({ pending: true, status: c.expect.status ?? 0 });
    } else {
      expect({ status: res.status, pending: res.pending }).toEqual({ status: c.expect.status, pending: false });
    }
    if (c.expect.body !== undefined) expect(res.body).toBe(c.expect.body);
    if (c.expect.bodyMatch !== undefined) expect(res.body).toMatch(new RegExp(c.expect.bodyMatch));
    for (const [name, value] of Object.entries(c.expect.headers ?? {})) expect(res.headers[name.toLowerCase()]).toBe(value);
  } else if (c.stream) {
    const { bytes, chunked, ...req } = c.stream;
    const result = await streamBody(port, { ...req, path: fill(req.path, vars) }, bytes, { chunked });
    const res = result.response;
    observed = `${res.status === 0 ? 'connection closed without an answer' : `${res.status} ${JSON.stringify(res.body)}`} after ${result.sent} of ${bytes} bytes`;
    expect(res.status).toBe(c.expect.status);
    if (c.expect.body !== undefined) expect(res.body).toBe(c.expect.body);
    // The server stopped the upload long before its end: it does not buffer what it refuses.
    expect(result.sent).toBeLessThan(bytes / 2);
  } else if (c.websocket) {
    const ws = await openWebSocket(port, fill(c.websocket.path, vars));
    cleanups.push(() => ws.destroy());
    expect(ws.status).toBe(101);
    await waitFor(() => bench.sparks.length > opened.length || ws.ended || c.session === 'handshake', 5000, 'the WebSocket session');
    for (const frame of c.websocket.frames) ws.send(fill(frame, vars));
    const wanted = c.expect.frames ?? [];
    const textFrames = (): string[] => ws.frames.filter((f) => f.opcode === 1).map(text);
    if (c.expect.closeCode !== undefined) await ws.until((frames) => frames.some((f) => f.opcode === 8), 10000);
    else await ws.until(() => textFrames().length >= wanted.length, 10000);
    const got = textFrames();
    const closing = ws.frames.some((f) => f.opcode === 8);
    observed = `frames ${JSON.stringify(got.slice(0, 3))}${closing ? `, close ${closeCode(ws.frames) ?? '(no code)'}` : ''}`;
    wanted.forEach((pattern, i) => expect(got[i]).toMatch(new RegExp(pattern)));
    if (c.expect.closeCode !== undefined) expect(closeCode(ws.frames) ?? null).toBe(c.expect.closeCode);
    if (stateOf(c) === 'open') {
      // Frames are processed in order: once a last, well-formed message arrives, every frame
      // before it has been dealt with.
      ws.send(framework.frame(JSON.stringify(SENTINEL)));
      await waitFor(() => bench.sparks.some((spark) => bench.heard.get(spark)?.includes(SENTINEL)), 10000, 'the message after the bad frames');
    }
  } else {
    throw new Error(`case "${c.name}" has no request, stream or websocket`);
  }

  // The offender's session: ended or still there, and what the application heard from it.
  const offenders = bench.sparks;
  const state = stateOf(c);
  if (state === 'none') {
    expect(offenders).toEqual([]);
  } else {
    expect(offenders.length).toBeGreaterThan(0);
    if (state === 'closed') {
      await waitFor(() => offenders.every((spark) => bench.server.primus.spark(spark.id) === undefined), 10000, "the offender's session to close");
    }
  }
  await expectHealthy(bench);
  if (state === 'open') {
    for (const spark of offenders) expect(bench.server.primus.spark(spark.id)).toBe(spark);
  }
  const delivered = offenders.flatMap((spark) => bench.heard.get(spark) ?? []).filter((data) => data !== SENTINEL);
  expect(delivered).toEqual(c.delivered ?? []);
  if (c.log) expect(bench.logs.join('\n')).toMatch(new RegExp(c.log));
  const sessionState = offenders.length === 0 ? '; no session' : `; session ${offenders.every((s) => bench.server.primus.spark(s.id) === undefined) ? 'closed' : 'open'}`;
  return { transformer: corpus.transformer, name: c.name, kind: c.kind, documented: describeExpectation(c), observed: observed + sessionState, passed: true };
}

/**
 * Open `count` sessions by hand and abandon them: never poll, never send, no Primus heartbeat
 * (`ping=false`). Resolves with their ids once every one is connected.
 */
export async function abandonSessions(bench: Bench, framework: Framework, count: number): Promise<{ ids: SessionVars[]; sparks: Spark[] }> {
  bench.reset();
  const ids: SessionVars[] = [];
  for (let i = 0; i < count; i++) ids.push(await framework.open(bench.server.port, 'default', 'ping=false'));
  await waitFor(() => bench.sparks.length === count, 10000, `${count} abandoned sessions`);
  return { ids, sparks: [...bench.sparks] };
}
