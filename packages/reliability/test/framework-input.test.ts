import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@primus/transformer-test-suite';
import { abandonSessions, describeExpectation, expectHealthy, frameworks, loadCorpus, runCase, startBench, type Bench, type CaseResult } from './framework-input';

// Framework-level bad input (engine.io, sockjs, BrowserChannel, socket.io 0.9): every case of
// corpus/framework/<framework>.json is sent to a live server next to a well-behaved client. Each
// case checks the offender's exact answer, its own session afterwards, that nothing it sent
// reached the application unless the corpus says so, that the bystander still echoes and that
// the server still answers. An exception or unhandled 'error' event anywhere fails the case.
// RELIABILITY_REPORT_FRAMEWORK=<file> writes every case's documented and observed result as JSON.

const TIMEOUT = 30000;
const results: CaseResult[] = [];

afterAll(() => {
  const file = process.env.RELIABILITY_REPORT_FRAMEWORK;
  if (file) writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
});

describe.each([
  ['engine.io', 'engine.io.json'],
  ['sockjs', 'sockjs.json'],
  ['browserchannel', 'browserchannel.json'],
  ['socket.io', 'socket.io.json'],
])('%s: bad framework input', (name, file) => {
  const corpus = loadCorpus(file);
  const framework = frameworks[name]!;
  let bench: Bench;

  beforeAll(async () => {
    bench = await startBench(framework, corpus.maxLength);
  }, TIMEOUT);

  afterAll(async () => {
    await bench?.close();
  }, TIMEOUT);

  it.each(corpus.cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    try {
      results.push(await runCase(bench, framework, corpus, c));
    } catch (err) {
      const observed = `FAILED: ${String((err as Error)?.message ?? err).split('\n')[0]}`;
      results.push({ transformer: corpus.transformer, name: c.name, kind: c.kind, documented: describeExpectation(c), observed, passed: false });
      throw err;
    }
  }, TIMEOUT);

  it('forgets sessions that were opened and abandoned once its session timeout passes', async () => {
    const count = 40;
    // Shortened where the framework's own timeout is longer than a test may wait (see framework-input.ts).
    framework.shortenTimeout?.(bench.bystanderSpark);
    const abandoned = await abandonSessions(bench, framework, count);
    expect(bench.server.primus.connected).toBe(count + 1);
    await waitFor(() => bench.server.primus.connected === 1, 20000, 'the abandoned sessions to time out');
    expect(abandoned.sparks.every((spark) => bench.server.primus.spark(spark.id) === undefined)).toBe(true);
    for (const vars of abandoned.ids) expect(await framework.knows(bench.server.port, vars, 'ping=false')).toBe(false);
    await expectHealthy(bench);
  }, TIMEOUT);
});
