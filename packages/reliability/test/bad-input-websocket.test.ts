import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@primus/transformer-test-suite';
import {
  bytesOf,
  encodeFrame,
  expectationFor,
  loadCorpus,
  openWebSocket,
  startArena,
  TARGETS,
  withTimeout,
  type Arena,
  type FrameSpec,
  type RawWebSocket,
  type WebSocketCase,
} from './bad-input';

// The WebSocket-level corpus (corpus/websocket.json), replayed on every transformer that has a
// WebSocket path, against one server per transformer that a bystander client stays connected to.
const corpus = loadCorpus('websocket');
const TIMEOUT = 30000;
const CLOSED = 2;

it('covers every transformer, or says why one has no WebSocket path', () => {
  for (const t of TARGETS) expect(t.websocket !== undefined || corpus.notApplicable[t.name] !== undefined).toBe(true);
});

describe.each(TARGETS.filter((t) => t.websocket))('WebSocket-level bad input: $name', (t) => {
  const path = t.websocket!;
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

  it.each(corpus.cases)('$name', async (c) => {
    const outcome = expectationFor(c.expect, t.name);
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
  }, TIMEOUT);
});
