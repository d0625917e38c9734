import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { nextSpark, waitFor } from '@primus/transformer-test-suite';
import { expand, loadCorpus, rawPeer, startArena, TARGETS, withTimeout, type Arena, type RawPeer } from './bad-input';

// The Primus-level corpus (corpus/primus.json), replayed on every transformer through its own
// client half, against one server per transformer that a bystander client stays connected to.
const corpus = loadCorpus('primus');
const TIMEOUT = 30000;

/** A value as JSON text, or undefined for one too deep to encode (the server cannot echo it either). */
function json(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

describe.each(TARGETS)('Primus-level bad input: $name', (t) => {
  let arena: Arena;
  const peers: RawPeer[] = [];

  beforeAll(async () => {
    arena = await startArena(t);
  });
  afterEach(() => {
    for (const peer of peers.splice(0)) peer.close();
  });
  afterAll(() => arena?.close());

  it.each(corpus.cases)('$name', async (c) => {
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
  }, TIMEOUT);
});
