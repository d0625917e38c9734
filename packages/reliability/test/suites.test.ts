import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

// The reliability suites live in @primus/transformer-test-suite and every transformer runs them
// from its own test files. This check finds the transformer packages of the workspace (any
// packages/transformer-*, examples/transformer-* or templates/transformer-* with a src/index.ts,
// the test suite itself aside) rather than listing them, so a new transformer cannot be added
// without its suites. The templates are what third parties start a transformer from: they run
// every suite too (from their own test folder, in this repository's jest as in a copy of their
// own), so a template that dropped one would hand that gap to every transformer made from it.

const rootDir = join(__dirname, '..', '..', '..');

/** The suites every transformer runs, and the capability that excuses one. */
const SUITES = ['transformerSuite', 'browserSuite', 'faultSuite', 'recoverySuite', 'backPressureSuite', 'badInputSuite', 'authorizationSuite', 'soakSuite'];

const transformers = ['packages', 'examples', 'templates']
  .filter((parent) => existsSync(join(rootDir, parent)))
  .flatMap((parent) => readdirSync(join(rootDir, parent)).map((dir) => `${parent}/${dir}`))
  .filter((dir) => /\/transformer-/.test(dir) && !dir.endsWith('/transformer-test-suite'))
  .filter((dir) => existsSync(join(rootDir, dir, 'src', 'index.ts')));

/** The source of every test file of a package, comments removed: a suite commented out does not run. */
function tests(dir: string): string {
  const testDir = join(rootDir, dir, 'test');
  if (!existsSync(testDir)) return '';
  return readdirSync(testDir)
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) =>
      readFileSync(join(testDir, file), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/(^|[^:'"])\/\/.*$/gm, '$1'),
    )
    .join('\n');
}

it('finds the transformer packages of the workspace, the template among them', () => {
  expect(transformers.length).toBeGreaterThanOrEqual(7);
  expect(transformers).toContain('templates/transformer-template');
});

describe.each(transformers)('%s', (dir) => {
  const source = tests(dir);

  it.each(SUITES)('runs %s from its own tests', (suite) => {
    expect(source).toMatch(new RegExp(`\\b${suite}\\(`));
  });

  it('runs the framework-input suite when it has polling sessions', () => {
    // A transformer with HTTP sessions has a framework of its own whose bogus input must be tried.
    if (/capabilities:\s*\{\s*polling:\s*true/.test(source)) expect(source).toMatch(/\bframeworkInputSuite\(/);
    else expect(source).toMatch(/capabilities:\s*\{\s*polling:\s*false/);
  });
});
