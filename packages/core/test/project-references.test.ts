import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from '@jest/globals';

// `tsc -b` over project references (tsconfig.json at the root), with each project's references kept
// equal to its package.json by scripts/check-project-references.mjs: a package compiles only
// against the workspace packages it declares.

const run = promisify(execFile);
const root = join(__dirname, '..', '..', '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
// Inside the repository, so the fixture extends tsconfig.base.json as a package does; .tsbuild/ is
// ignored by git.
mkdirSync(join(root, '.tsbuild'), { recursive: true });
const scratch = mkdtempSync(join(root, '.tsbuild', 'fixture-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
// Each run starts the compiler and may build the referenced package's declarations first.
const TIMEOUT = 180_000;

async function exec(file: string, args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [file, ...args], { cwd: root });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

/** A package project importing @primus/parser-json, referencing `references`. */
function fixture(name: string, references: string[]): string {
  const dir = join(scratch, name);
  mkdirSync(join(dir, 'src'), { recursive: true });
  const tsconfig = {
    extends: '../../../tsconfig.base.json',
    compilerOptions: { composite: true, rootDir: 'src', outDir: 'out' },
    include: ['src'],
    references: references.map((path) => ({ path })),
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  writeFileSync(join(dir, 'src', 'index.ts'), `import { json } from '@primus/parser-json';\nexport const encoded: string = json.encode({ a: 1 });\n`);
  return dir;
}

describe('project references', () => {
  it(
    'match every package.json of the repository',
    async () => {
      const { code, output } = await exec(join(root, 'scripts', 'check-project-references.mjs'), []);
      expect(output).toMatch(/reference exactly what their package\.json declares/);
      expect(code).toBe(0);
    },
    TIMEOUT,
  );

  it(
    'fail `tsc -b` on an import of a package the project does not reference',
    async () => {
      const { code, output } = await exec(tsc, ['-b', fixture('undeclared', [])]);
      expect(output).toMatch(/error TS6307: File '.*packages\/parser-json\/src\/index\.ts' is not listed within the file list of project/);
      expect(code).not.toBe(0);
    },
    TIMEOUT,
  );

  it(
    'let `tsc -b` compile the same import once the project references the package',
    async () => {
      const { code, output } = await exec(tsc, ['-b', fixture('declared', [join(root, 'packages', 'parser-json')])]);
      expect(output).toBe('');
      expect(code).toBe(0);
    },
    TIMEOUT,
  );
});
