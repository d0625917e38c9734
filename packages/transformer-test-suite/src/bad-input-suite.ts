import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { PrimusOptions, Transformer } from '@primus/core';
import { notSupported } from './capability';
import {
  bytesOf,
  encodeFrame,
  exchange,
  expand,
  expectationFor,
  headSize,
  loadCorpus,
  openWebSocket,
  padded,
  plainWebSocketPath,
  rawPeer,
  requestBytes,
  startArena,
  upgradeBytes,
  withTimeout,
  type Arena,
  type FrameSpec,
  type HttpCase,
  type HttpOutcome,
  type RawAnswer,
  type RawPeer,
  type RawWebSocket,
  type Target,
  type WebSocketCase,
  type WebSocketOutcome,
  type WebSocketPath,
} from './bad-input';
import { nextSpark, waitFor } from './harness';

/** What the bad-input suite needs to know about a transformer. */
export interface BadInputCapabilities {
  /**
   * How to reach the transformer's WebSocket by hand: a path such as `/primus` where each Primus
   * message is one text frame, or a `WebSocketPath` for frameworks with their own framing or
   * handshake. Leave it out when the transformer has no WebSocket; the WebSocket-level corpus is
   * then reported as not supported, and the suite checks that an upgrade is indeed refused.
   */
  websocket?: string | WebSocketPath;
  /**
   * The close code a client gets for a WebSocket message over `maxLength` (the corpus cases
   * marked `"limit": true`), or `'dropped'` when the connection is closed without a close frame.
   * @default the corpus's expectation (1009 unless the corpus names the transformer)
   */
  maxLengthCloseCode?: number | 'dropped';
}

/** Options of the bad-input suite. */
export interface BadInputSuiteOptions {
  transformer: Transformer;
  capabilities?: BadInputCapabilities;
  /**
   * Expectations of your own, by corpus case name, where your transformer answers differently
   * from the corpus's default (`*`) entry. Say why in a comment next to each.
   */
  expect?: { websocket?: Record<string, WebSocketOutcome>; http?: Record<string, HttpOutcome> };
  /** Per-test timeout in ms. @default 30000 */
  timeout?: number;
}

/** What the test server's own handler answers for paths that are not Primus's. */
const APPLICATION = 'the application handler was reached';
const CLOSED = 2;

/** A value as JSON text, or undefined for one too deep to encode (the server cannot echo it either). */
function json(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/**
 * The bad-input corpus (`corpus/*.json` in this package), replayed against the transformer on
 * servers that a bystander client stays connected to: HTTP requests under the pathname, Primus
 * messages and connect queries through the transformer's own client half, and hand-made
 * WebSocket frames. Each case checks what the offender gets, that the bystander still echoes and
 * that what the server accepted before the offence reached the application.
 */
export function badInputSuite(options: BadInputSuiteOptions): void {
  const { transformer } = options;
  const caps = options.capabilities ?? {};
  const TIMEOUT = options.timeout ?? 30_000;
  const websocket = typeof caps.websocket === 'string' ? plainWebSocketPath(caps.websocket) : caps.websocket;
  const t: Target = { name: transformer.name, transformer, websocket };

  describe(`HTTP-level bad input: ${t.name}`, () => {
    const corpus = loadCorpus('http');
    const arenas = new Map<string, Promise<Arena>>();
    const arena = (serverOptions: PrimusOptions = {}): Promise<Arena> => {
      const key = JSON.stringify(serverOptions);
      let found = arenas.get(key);
      if (!found) {
        found = startArena(t, serverOptions);
        arenas.set(key, found);
      }
      return found;
    };
    afterAll(async () => {
      for (const started of arenas.values()) await (await started).close();
    });

    /** Send the case's request and read the answer; an upgrade that succeeded is closed again. */
    async function send(a: Arena, c: HttpCase): Promise<RawAnswer> {
      const { server } = a;
      const request = c.request;
      if (!request.upgrade) return (await exchange(server, requestBytes(request, server.port))).answer;
      const query = expand(request.path);
      const base = t.websocket ? await t.websocket.path(server, query) : `/primus?${query}`;
      const bytes = padded(base, headSize(request.size), (path) => upgradeBytes(path, server.port, request.headers));
      const { answer, ws } = await exchange(server, bytes);
      ws?.destroy();
      return answer;
    }

    const cases = corpus.cases.filter((c) => !c.transformers || c.transformers.includes(t.name));
    it.each(cases)(
      '$name',
      async (c) => {
        const outcome = options.expect?.http?.[c.name] ?? expectationFor(c.expect, t.name);
        const a = await arena(c.server);
        const answer = await send(a, c);

        if (outcome.closed) expect(answer.status).toBe(0);
        if (outcome.application) expect({ status: answer.status, body: answer.body }).toEqual({ status: 500, body: APPLICATION });
        if (outcome.status !== undefined) expect(answer.status).toBe(outcome.status);
        if (outcome.body !== undefined) expect(answer.body).toMatch(new RegExp(outcome.body));
        if (outcome.notBody !== undefined) expect(answer.body).not.toMatch(new RegExp(outcome.notBody));
        for (const [name, value] of Object.entries(outcome.headers ?? {})) expect([name, answer.headers[name]]).toEqual([name, value]);
        if (outcome.noHeader) expect(answer.headerLines.filter((line) => line.toLowerCase().startsWith(`${outcome.noHeader}:`))).toEqual([]);
        if (outcome.noCookie) expect(answer.headers['set-cookie']).toBeUndefined();
        await a.checkBystander();
      },
      TIMEOUT,
    );
  });

  describe(`Primus-level bad input: ${t.name}`, () => {
    const corpus = loadCorpus('primus');
    let arena: Arena;
    const peers: RawPeer[] = [];

    beforeAll(async () => {
      arena = await startArena(t);
    });
    afterEach(() => {
      for (const peer of peers.splice(0)) peer.close();
    });
    afterAll(() => arena?.close());

    it.each(corpus.cases)(
      '$name',
      async (c) => {
        const outcome = c.expect;
        const connected = nextSpark(arena.server.primus);
        const peer = rawPeer(arena.server, t, expand(c.query ?? 'ping=false'));
        peers.push(peer);
        const spark = await connected;
        await withTimeout(peer.open, 15000, 'the connection to open');

        // Read before anything else can happen: a short learned heartbeat ends a silent spark soon.
        if (outcome.ping !== undefined) expect(spark.query.ping).toBe(outcome.ping);
        if (outcome.pong !== undefined) expect(spark.query.pong).toBe(outcome.pong);
        if (outcome.timer !== undefined) expect(spark.timeout !== null).toBe(outcome.timer);

        if (c.messages) {
          for (const message of c.messages) peer.send(expand(message));
          // One valid message after the bad ones: its echo proves they were all handled, in order,
          // and that the connection is still open.
          const sentinel = `sentinel: ${c.name}`;
          peer.send(JSON.stringify(sentinel));
          await waitFor(() => peer.received.includes(JSON.stringify(sentinel)), 15000, 'the echo of the sentinel');
          const delivered = arena.observed.data.filter((entry) => entry.spark === spark).map((entry) => entry.data);
          expect(delivered[delivered.length - 1]).toBe(sentinel);
          const fromMessages = delivered.slice(0, -1);
          if (outcome.delivered) expect(fromMessages).toEqual(outcome.delivered);
          if (outcome.deliveredJson) expect(fromMessages.map(json)).toEqual(outcome.deliveredJson);
          // What the offender got besides the echoes of what was delivered.
          const echoes = new Set([sentinel, ...fromMessages].map(json));
          const replies = peer.received.filter((raw) => !echoes.has(raw));
          if (outcome.replies) {
            expect(replies).toHaveLength(outcome.replies.length);
            outcome.replies.forEach((pattern, i) => expect(replies[i]).toMatch(new RegExp(pattern)));
          }
          const errors = arena.observed.errors.filter((entry) => entry.spark === spark).map((entry) => entry.code);
          expect(errors).toEqual(outcome.error ? [outcome.error] : []);
          expect(peer.isEnded()).toBe(false);
        }
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        await arena.checkBystander();
      },
      TIMEOUT,
    );
  });

  const corpus = loadCorpus('websocket');
  if (!websocket) {
    describe(`WebSocket-level bad input: ${t.name}`, () => {
      notSupported(
        'WebSocket-level bad input',
        t.name,
        'websocket',
        'none',
        async () => {
          // Without a WebSocket path, an upgrade under the pathname must not switch protocols.
          const arena = await startArena(t, corpus.server);
          try {
            const { answer, ws } = await exchange(arena.server, upgradeBytes('/primus?ping=false', arena.server.port));
            ws?.destroy();
            expect(answer.status).not.toBe(101);
            await arena.checkBystander();
          } finally {
            await arena.close();
          }
        },
        TIMEOUT,
      );
    });
    return;
  }

  describe(`WebSocket-level bad input: ${t.name}`, () => {
    const path = websocket;
    const prefix = Buffer.from(path.wrap(''), 'utf8');
    let arena: Arena;
    const sockets: RawWebSocket[] = [];

    beforeAll(async () => {
      arena = await startArena(t, corpus.server);
    });
    afterEach(() => {
      for (const socket of sockets.splice(0)) socket.destroy();
    });
    afterAll(() => arena?.close());

    function bytes(spec: FrameSpec): Buffer {
      const payload = bytesOf(spec.payload);
      const frame = encodeFrame(spec, spec.wrap ? Buffer.concat([prefix, payload]) : payload);
      return spec.repeat ? Buffer.concat(Array.from({ length: spec.repeat }, () => frame)) : frame;
    }

    /** Send a valid Primus message and wait for the server's echo of it. */
    async function roundTrip(ws: RawWebSocket, value: string): Promise<void> {
      const text = JSON.stringify(value);
      await ws.sendText(path.wrap(text));
      await waitFor(() => ws.messages.some((m) => path.unwrap(m) === text), 10000, `the echo of ${text}`);
    }

    /** Stream until the server gives up; returns the growth of Node's buffer memory meanwhile. */
    async function stream(ws: RawWebSocket, spec: NonNullable<WebSocketCase['stream']>): Promise<number> {
      for (const frame of spec.first ?? []) await ws.write(bytes(frame));
      // One buffer written again and again: the offender itself allocates nothing while it streams.
      const chunk = spec.raw ? bytesOf(spec.raw) : bytes(spec.frame!);
      const start = ws.written;
      const base = process.memoryUsage().arrayBuffers;
      let peak = base;
      for (let i = 1; !ws.closing && ws.written - start < spec.capBytes; i++) {
        await ws.write(chunk);
        if (i % 64 === 0) peak = Math.max(peak, process.memoryUsage().arrayBuffers);
      }
      expect({ closedBeforeTheCap: ws.closing }).toEqual({ closedBeforeTheCap: true });
      return Math.max(peak, process.memoryUsage().arrayBuffers) - base;
    }

    function outcomeOf(c: WebSocketCase): WebSocketOutcome {
      const own = options.expect?.websocket?.[c.name];
      if (own) return own;
      if (c.limit && caps.maxLengthCloseCode !== undefined) return caps.maxLengthCloseCode === 'dropped' ? { dropped: true } : { close: caps.maxLengthCloseCode };
      return expectationFor(c.expect, t.name);
    }

    it.each(corpus.cases)(
      '$name',
      async (c) => {
        const outcome = outcomeOf(c);
        const ws = await openWebSocket(arena.server, path, 'ping=false');
        sockets.push(ws);
        // Accepted before the offence, so it must have reached the application whatever follows.
        const before = `before: ${c.name}`;
        await roundTrip(ws, before);
        const spark = arena.observed.data.find((entry) => entry.data === before)!.spark;
        const fromOffender = (): unknown[] => arena.observed.data.filter((entry) => entry.spark === spark).map((entry) => entry.data);

        for (const frame of c.frames ?? []) await ws.write(bytes(frame));
        if (c.stream) {
          const growth = await stream(ws, c.stream);
          // Coarse on purpose: a server that buffered the stream would have grown by about capBytes.
          expect(growth).toBeLessThan(c.stream.capBytes / 2);
        }

        if (outcome.open) {
          const after = `after: ${c.name}`;
          await roundTrip(ws, after);
          expect(fromOffender()).toEqual([before, ...(outcome.delivered ?? []), after]);
        } else {
          const closed = await withTimeout(ws.closed, 20000, 'the server to close the connection');
          if (outcome.close !== undefined) expect(closed).toEqual({ closeFrame: true, code: outcome.close });
          else expect(closed).toEqual({ closeFrame: false });
          await waitFor(() => spark.readyState === CLOSED, 10000, "the offender's spark to end");
          expect(fromOffender()).toEqual([before]);
        }
        await arena.checkBystander();
      },
      TIMEOUT,
    );
  });
}
