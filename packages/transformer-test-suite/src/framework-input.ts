import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { PrimusClient } from '@primus/client';
import type { Spark, Transformer } from '@primus/core';
import { report } from './capability';
import { once, startServer, waitFor, type TestServer } from './harness';
import { probe, type Probe, type ProbedSocket } from './probe';
import { closeCode, openWebSocket, rawRequest, streamBody, text, type RawRequest, type RawResponse } from './wire';

// The framework-level bad-input corpus (corpus/framework/*.json) and what runs it: a server per
// framework with a well-behaved client beside it, hand-made sessions for the offending requests to
// use, and the checks every case gets (the offender's answer, its session afterwards, what reached
// the application, the bystander's echo, the server still answering).

/** One offending request, frame sequence or oversized upload, and what must come of it. */
export interface FrameworkCase {
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
export interface FrameworkCorpus {
  transformer: string;
  description: string;
  /** The server's `maxLength` for these cases. */
  maxLength: number;
  cases: FrameworkCase[];
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

/**
 * Read a framework corpus: one this package ships by framework name (`engine.io`, `sockjs`,
 * `browserchannel`, `socket.io`: `corpus/framework/<name>.json`), or a file of your own by path.
 */
export function loadFrameworkCorpus(nameOrFile: string): FrameworkCorpus {
  const file = isAbsolute(nameOrFile) ? nameOrFile : join(corpusDir, `${nameOrFile}.json`);
  return JSON.parse(readFileSync(file, 'utf8')) as FrameworkCorpus;
}

/** The session ids of a hand-made session. */
export type SessionVars = Record<string, string>;

/** How to open a session by hand on one framework, and what it says to an id it does not know. */
export interface Framework {
  transformer: Transformer;
  /** Options of the bystander client: the same polling paths the offenders use. */
  bystander: Record<string, unknown>;
  /** Open a session by hand; `query` is appended to every request of it. */
  open(port: number, kind: FrameworkCase['session'], query: string): Promise<SessionVars>;
  /** Ask for a session by its ids and resolve with whether the framework still knows it. */
  knows(port: number, vars: SessionVars, query: string): Promise<boolean>;
  /** The WebSocket frame that carries one Primus message (its JSON text) on this framework. */
  frame(message: string): string;
  /**
   * Shorten the framework's own timeout for abandoned sessions, through its live settings, when it
   * is longer than a test may wait. `socket` is what the transformer handed the core for the
   * bystander's connection (its `ConnectionSocket`).
   */
  shortenTimeout?(socket: ProbedSocket): void;
}

/**
 * The match of `pattern` in a 200 answer, for `Framework.open()`: anything else throws a message
 * that shows the answer.
 */
export function answerOf(res: RawResponse, what: string, pattern: RegExp): RegExpExecArray {
  const match = pattern.exec(res.body);
  if (res.status !== 200 || !match) throw new Error(`could not open ${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return match;
}

/** A framework server with a bystander client and what the cases observe. */
export interface Bench {
  server: TestServer;
  /** The transformer the server runs, with the socket of each connection. */
  probe: Probe;
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
  const probed = probe(framework.transformer);
  const server = await startServer({ transformer: probed.transformer, maxLength });
  const bench: Bench = {
    server,
    probe: probed,
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
    if (level === 'warn' || level === 'error')
      bench.logs.push(args.map((arg) => (arg instanceof Error ? `${arg.message} ${(arg as { code?: string }).code ?? ''}` : String(arg))).join(' '));
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
function stateOf(c: FrameworkCase): 'open' | 'closed' | 'none' {
  return c.offender ?? ((c.session && c.session !== 'handshake') || c.websocket ? 'open' : 'none');
}

/** The documented response of a case, in a few words, for the report. */
export function describeExpectation(c: FrameworkCase): string {
  const e = c.expect;
  const parts: string[] = [];
  if (e.pending) parts.push('no answer (request left waiting)');
  else if (e.status === 0) parts.push('connection closed without an answer');
  else if (e.status !== undefined)
    parts.push(`${e.status}${e.body !== undefined ? ` ${JSON.stringify(e.body.length > 60 ? e.body.slice(0, 57) + '...' : e.body)}` : e.bodyMatch ? ` /${e.bodyMatch}/` : ''}`);
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
export async function runCase(bench: Bench, framework: Framework, corpus: FrameworkCorpus, c: FrameworkCase): Promise<CaseResult> {
  const cleanups: (() => void)[] = [];
  try {
    return await checkCase(bench, framework, corpus, c, cleanups);
  } finally {
    for (const cleanup of cleanups) cleanup();
    // The offender's session is not needed any more: end it, so later cases start clean.
    for (const spark of bench.sparks) spark.end();
  }
}

async function checkCase(bench: Bench, framework: Framework, corpus: FrameworkCorpus, c: FrameworkCase, cleanups: (() => void)[]): Promise<CaseResult> {
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
    observed = res.pending
      ? 'no answer (request left waiting)'
      : res.status === 0
        ? 'connection closed without an answer'
        : `${res.status} ${JSON.stringify(res.body.length > 60 ? res.body.slice(0, 57) + '...' : res.body)}`;
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

/** Options of the framework-input suite. */
export interface FrameworkInputSuiteOptions {
  /** How to open sessions of the framework by hand; `framework.transformer` is the transformer under test. */
  framework: Framework;
  /** The corpus: its cases, by framework name or file (see `loadFrameworkCorpus`), or the corpus itself. */
  corpus: string | FrameworkCorpus;
  /** Abandoned sessions in the session-timeout test. @default 40 */
  abandoned?: number;
  /** Per-test timeout in ms. @default 30000 */
  timeout?: number;
}

/**
 * Framework-level bad input: every case of a framework corpus is sent to a live server next to a
 * well-behaved client. Each case checks the offender's exact answer, its own session afterwards,
 * that nothing it sent reached the application unless the corpus says so, that the bystander
 * still echoes and that the server still answers. Then sessions opened and abandoned by hand must
 * be forgotten once the framework's session timeout passes.
 * `RELIABILITY_REPORT_FRAMEWORK=<file>` writes every case's documented and observed result as JSON.
 */
export function frameworkInputSuite(options: FrameworkInputSuiteOptions): void {
  const { framework } = options;
  const corpus = typeof options.corpus === 'string' ? loadFrameworkCorpus(options.corpus) : options.corpus;
  const TIMEOUT = options.timeout ?? 30_000;
  const results: CaseResult[] = [];
  afterAll(() => report('RELIABILITY_REPORT_FRAMEWORK', `framework input: ${corpus.transformer}`, results));

  describe(`${corpus.transformer}: bad framework input`, () => {
    let bench: Bench;

    beforeAll(async () => {
      bench = await startBench(framework, corpus.maxLength);
    }, TIMEOUT);

    afterAll(async () => {
      await bench?.close();
    }, TIMEOUT);

    it.each(corpus.cases.map((c) => [c.name, c] as const))(
      '%s',
      async (_name, c) => {
        try {
          results.push(await runCase(bench, framework, corpus, c));
        } catch (err) {
          const observed = `FAILED: ${String((err as Error)?.message ?? err).split('\n')[0]}`;
          results.push({ transformer: corpus.transformer, name: c.name, kind: c.kind, documented: describeExpectation(c), observed, passed: false });
          throw err;
        }
      },
      TIMEOUT,
    );

    it(
      'forgets sessions that were opened and abandoned once its session timeout passes',
      async () => {
        const count = options.abandoned ?? 40;
        const socket = bench.probe.socketOf(bench.bystanderSpark.id);
        if (framework.shortenTimeout) {
          if (!socket) throw new Error("the bystander's connection socket was not seen");
          framework.shortenTimeout(socket);
        }
        const abandoned = await abandonSessions(bench, framework, count);
        expect(bench.server.primus.connected).toBe(count + 1);
        await waitFor(() => bench.server.primus.connected === 1, 20000, 'the abandoned sessions to time out');
        expect(abandoned.sparks.every((spark) => bench.server.primus.spark(spark.id) === undefined)).toBe(true);
        for (const vars of abandoned.ids) expect(await framework.knows(bench.server.port, vars, 'ping=false')).toBe(false);
        await expectHealthy(bench);
      },
      TIMEOUT,
    );
  });
}
