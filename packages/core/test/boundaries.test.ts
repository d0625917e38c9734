import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from '@jest/globals';

// scripts/check-boundaries.mjs, which `pnpm test` runs before jest: a transformer package may use
// `@primus/core/contract` and nothing else of the core.

const run = promisify(execFile);
const script = join(__dirname, '..', '..', '..', 'scripts', 'check-boundaries.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'primus-boundaries-'));
const coreSources = join(__dirname, '..', 'src');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
// Each check starts node and loads the TypeScript parser.
const TIMEOUT = 60_000;

/** A transformer package with one source file, `src/index.ts`, holding `source`. */
function transformerPackage(name: string, source: string): string {
  const dir = join(scratch, name);
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name }));
  writeFileSync(join(dir, 'src', 'index.ts'), source);
  return dir;
}

async function check(...dirs: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...dirs]);
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

describe('the transformer boundary check', () => {
  it(
    'passes on every transformer package of this repository',
    async () => {
      const { code, output } = await check();
      expect(output).toMatch(/import @primus\/core\/contract only/);
      expect(code).toBe(0);
    },
    TIMEOUT,
  );

  it(
    'passes a transformer that imports the contract only',
    async () => {
      const clean = transformerPackage(
        'clean',
        `import { defineTransformer, compactListeners, type TransformerContext } from '@primus/core/contract';
       import type { ClientTransport } from '@primus/client';
       export { defineTransformer, compactListeners };
       export type { TransformerContext, ClientTransport };`,
      );
      expect((await check(clean)).code).toBe(0);
    },
    TIMEOUT,
  );

  it.each([
    ['a root import', `import { Primus } from '@primus/core';`, /src\/index\.ts:1: imports @primus\/core:/],
    ['a type import from the root', `import type { Spark } from '@primus/core';`, /imports @primus\/core:/],
    ['a re-export', `export * from '@primus/core';`, /imports @primus\/core:/],
    ['a deep import', `import { buildLibrary } from '@primus/core/dist/index.js';`, /imports @primus\/core\/dist\/index\.js/],
    ['a require', `const core = require('@primus/core');`, /imports @primus\/core:/],
    ['a dynamic import', `export const load = () => import('@primus/core');`, /imports @primus\/core:/],
    ['a type query', `export type P = import('@primus/core').Primus;`, /imports @primus\/core:/],
    ['a relative path into the core', `import { Spark } from '${relative(join(scratch, 'relative', 'src'), coreSources)}/spark';`, /imports the core's files/],
  ])(
    'fails on %s',
    async (what, source, message) => {
      const dir = transformerPackage(what === 'a relative path into the core' ? 'relative' : `bad-${what.replace(/\W+/g, '-')}`, source);
      const { code, output } = await check(dir);
      expect(code).toBe(1);
      expect(output).toMatch(message);
      expect(output).toMatch(/Transformer boundary crossed \(1\)/);
    },
    TIMEOUT,
  );
});
