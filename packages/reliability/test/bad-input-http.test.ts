import { afterAll, describe, expect, it } from '@jest/globals';
import type { PrimusOptions } from '@primus/core';
import {
  exchange,
  expand,
  expectationFor,
  headSize,
  loadCorpus,
  padded,
  requestBytes,
  startArena,
  TARGETS,
  upgradeBytes,
  type Arena,
  type HttpCase,
  type RawAnswer,
  type Target,
} from './bad-input';

// The HTTP-level corpus (corpus/http.json), replayed on every transformer, against servers that a
// bystander client stays connected to (one per transformer and set of server options).
const corpus = loadCorpus('http');
const TIMEOUT = 30000;
/** What the test server's own handler answers for paths that are not Primus's. */
const APPLICATION = 'the application handler was reached';

describe.each(TARGETS)('HTTP-level bad input: $name', (t: Target) => {
  const arenas = new Map<string, Promise<Arena>>();
  const arena = (options: PrimusOptions = {}): Promise<Arena> => {
    const key = JSON.stringify(options);
    let found = arenas.get(key);
    if (!found) {
      found = startArena(t, options);
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
  it.each(cases)('$name', async (c) => {
    const outcome = expectationFor(c.expect, t.name);
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
  }, TIMEOUT);
});
