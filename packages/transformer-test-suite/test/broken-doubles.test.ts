import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';

// Every suite must catch breakage. The suites run (test/fixtures/suites.fixture.ts) in jests of
// their own, side by side: against a correct transformer written against the contract
// (fixtures/doubles.js, `base`), where the selected tests must pass, and against the same
// transformer with one promise broken, where the tests of each suite that concern the flaw must
// fail. The selection (jest -t) keeps a broken run from waiting out every timeout of a suite.

const jestBin = require.resolve('jest/bin/jest');
const config = join(__dirname, 'fixtures', 'jest.config.cjs');

type Double = 'base' | 'dropsMessage' | 'neverBackPressure' | 'silentEnd' | 'unbatched';

/** The suites, with the describe titles their tests are under. */
const titles: Record<string, RegExp> = {
  transformerSuite: /^transformer conformance: /,
  backPressureSuite: /^slow consumer back-pressure: /,
  batchingSuite: /^batched writes: /,
  faultSuite: /^faults over /,
  badInputSuite: /^(HTTP|Primus|WebSocket)-level bad input: /,
  authorizationSuite: /^authorization: /,
  soakSuite: /^soak: /,
  frameworkInputSuite: /^contract-ws: bad framework input /,
};

/** Each flaw, and per suite the tests that must notice it. */
const flaws: Record<Exclude<Double, 'base'>, Record<string, string>> = {
  dropsMessage: {
    transformerSuite: 'delivers writes made before the connection opened',
    backPressureSuite: 'write\\(\\) turns false past highWaterMark',
    batchingSuite: 'writes of one tick reach the client before a close',
    faultSuite: 'server killed and restarted',
    badInputSuite: 'HTTP-level bad input: contract-ws GET spec$',
    authorizationSuite: 'authorization: contract-ws authorised client$',
    frameworkInputSuite: 'bad framework input a plain GET of the pathname$',
  },
  neverBackPressure: {
    backPressureSuite: 'write\\(\\) turns false past highWaterMark',
  },
  silentEnd: {
    transformerSuite: 'client.end\\(\\) ends the spark',
    badInputSuite: 'WebSocket-level bad input: contract-ws invalid UTF-8 in a text frame$',
    soakSuite: 'connect, echo and disconnect cycles',
    frameworkInputSuite: 'bad framework input (a frame larger than maxLength on a session of its own|forgets sessions that were opened and abandoned)',
  },
  unbatched: {
    batchingSuite: 'writes of one tick leave in one TCP write',
  },
};

/** What one jest run gave: its exit code and its tests by status (full names). */
interface Run {
  code: number | null;
  passed: string[];
  failed: string[];
  output: string;
}

async function run(double: Double, suites: string[], tests: string[]): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'primus-suite-'));
  const outputFile = join(dir, 'result.json');
  try {
    let output = '';
    const code = await new Promise<number | null>((resolve, reject) => {
      const args = [jestBin, '--config', config, '--runInBand', '--json', '--outputFile', outputFile, '-t', tests.join('|')];
      const child = spawn(process.execPath, args, { env: { ...process.env, SUITES: suites.join(','), DOUBLE: double }, stdio: ['ignore', 'pipe', 'pipe'] });
      const keep = (chunk: Buffer): void => {
        output = (output + chunk.toString()).slice(-8000);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      child.on('error', reject);
      child.on('close', resolve);
    });
    const result = JSON.parse(readFileSync(outputFile, 'utf8')) as { testResults: { assertionResults: { fullName: string; status: string }[] }[] };
    const all = result.testResults.flatMap((file) => file.assertionResults);
    return {
      code,
      passed: all.filter((t) => t.status === 'passed').map((t) => t.fullName),
      failed: all.filter((t) => t.status === 'failed').map((t) => t.fullName),
      output,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('every suite fails against a broken transformer', () => {
  const runs = new Map<Double, Run>();

  beforeAll(async () => {
    const everything = Object.values(flaws).flatMap((bySuite) => Object.entries(bySuite));
    const jobs: [Double, string[], string[]][] = [
      ['base', [...new Set(everything.map(([suite]) => suite))], [...new Set(everything.map(([, tests]) => tests))]],
      ...Object.entries(flaws).map(([double, bySuite]) => [double as Double, Object.keys(bySuite), Object.values(bySuite)] as [Double, string[], string[]]),
    ];
    const results = await Promise.all(jobs.map(([double, suites, tests]) => run(double, suites, tests)));
    jobs.forEach(([double], i) => runs.set(double, results[i]!));
  }, 600_000);

  it('runs the selected tests of every suite green against the correct double', () => {
    const control = runs.get('base')!;
    expect({ code: control.code, failed: control.failed }).toEqual({ code: 0, failed: [] });
    for (const [suite, title] of Object.entries(titles)) expect([suite, control.passed.some((name) => title.test(name))]).toEqual([suite, true]);
  });

  const cases = Object.entries(flaws).flatMap(([double, bySuite]) => Object.keys(bySuite).map((suite) => ({ suite, double: double as Exclude<Double, 'base'> })));
  it.each(cases)('$suite notices a transformer that $double', ({ suite, double }) => {
    const broken = runs.get(double)!;
    expect(broken.code).not.toBe(0);
    const failed = broken.failed.filter((name) => titles[suite]!.test(name));
    expect({ suite, failed: failed.length > 0 }).toEqual({ suite, failed: true });
  });
});
