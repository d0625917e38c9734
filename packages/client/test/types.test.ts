import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { checkTypeTests, documentedEvents, interfaceKeys } from '../../../scripts/type-tests.cjs';

// Type tests against the declarations a user installs (dist/*.d.ts, built by `pnpm build`): a
// misspelt event or option must fail to compile, the documented ones must compile.
const files = [join(__dirname, 'types', 'client-types.ts')];

describe('the published types of @primus/client', () => {
  it('are built (run `pnpm build` first)', () => {
    expect(existsSync(join(__dirname, '../dist/index.d.ts'))).toBe(true);
  });

  it.each(['bundler', 'node16', 'node16-cjs'] as const)('reject misspelt events and options, and accept the documented ones (%s resolution)', (setting) => {
    const result = checkTypeTests({ files, setting });
    // The package resolves to its built declarations, as for a user, not to src/.
    const dts = setting.endsWith('-cjs') ? '.d.cts' : '.d.ts';
    expect(result.declarations).toContain(`packages/client/dist/index${dts}`);
    expect(result.declarations.filter((file) => !/^packages\/[^/]+\/dist\/[^/]+\.d\.c?ts$/.test(file) || !file.endsWith(dts))).toEqual([]);
    expect(result.diagnostics).toEqual([]);
    expect(result.missing).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(result.expected).toBeGreaterThanOrEqual(14);
  });

  it('type exactly the events the README documents', () => {
    const typed = interfaceKeys(join(__dirname, '../dist/index.d.ts'), 'ClientEvents');
    const documented = documentedEvents(join(__dirname, '../README.md'), '## Events');
    expect([...typed].sort()).toEqual([...documented].sort());
  });
});
