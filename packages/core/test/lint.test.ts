import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';

// eslint.config.mjs keeps transformer packages off the core's internals, as
// scripts/check-boundaries.mjs does. Linted here without type information (the import rules do not
// need it), as if the source were a file of @primus/transformer-ws or of the core.
const root = join(__dirname, '..', '..', '..');
const run = promisify(execFile);
// ESLint loads its ESM config file, which jest's module sandbox cannot: lint in a child process.
const linter = `
  import { ESLint } from 'eslint';
  const [source, filePath] = process.argv.slice(1);
  const eslint = new ESLint({
    overrideConfig: {
      languageOptions: { parserOptions: { projectService: false, project: null } },
      rules: { '@typescript-eslint/no-floating-promises': 'off' },
    },
  });
  const [result] = await eslint.lintText(source, { filePath });
  console.log(JSON.stringify(result.messages.map((m) => m.ruleId + ': ' + m.message)));
`;

async function lint(source: string, file: string): Promise<string[]> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', linter, source, join(root, file)], { cwd: root });
  return JSON.parse(stdout) as string[];
}

const inTransformer = 'packages/transformer-ws/src/lint-fixture.ts';

describe('the lint rules', () => {
  it('let a transformer import the contract and the client’s public entry', async () => {
    expect(
      await lint(
        `import { defineTransformer } from '@primus/core/contract';\nimport type { ClientTransport } from '@primus/client';\nexport { defineTransformer };\nexport type { ClientTransport };\n`,
        inTransformer,
      ),
    ).toEqual([]);
  }, 60_000);

  it.each([
    ['the core’s root', `import { Primus } from '@primus/core';\nexport { Primus };\n`, /through its contract only/],
    ['a type from the core’s root', `import type { Spark } from '@primus/core';\nexport type { Spark };\n`, /through its contract only/],
    ['a file of the core', `import { x } from '@primus/core/dist/index.js';\nexport { x };\n`, /Only @primus\/core\/contract/],
    ['a file of the client', `import { y } from '@primus/client/dist/index.js';\nexport { y };\n`, /public entry/],
    ['the core’s sources by path', `import { z } from '../../core/src/spark';\nexport { z };\n`, /reach into another package/],
  ])(
    'stop a transformer importing %s',
    async (_what, source, message) => {
      const messages = await lint(source, inTransformer);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatch(/^@typescript-eslint\/no-restricted-imports: /);
      expect(messages[0]).toMatch(message);
    },
    60_000,
  );

  it('leave the core’s own imports alone', async () => {
    expect(await lint(`import { Primus } from '@primus/core';\nexport { Primus };\n`, 'packages/core/src/lint-fixture.ts')).toEqual([]);
  }, 60_000);

  it('want type-only imports marked as such', async () => {
    const messages = await lint(`import { PrimusOptions } from './options';\nexport const options: PrimusOptions = {};\n`, 'packages/core/src/lint-fixture.ts');
    expect(messages).toEqual([expect.stringMatching(/^@typescript-eslint\/consistent-type-imports: /)]);
  }, 60_000);
});
