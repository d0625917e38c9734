import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { checkTypeTests, documentedEvents, interfaceKeys } from '../../../scripts/type-tests.cjs';

// Type tests against the declarations a user installs (dist/*.d.ts, built by `pnpm build`): a
// misspelt event or option must fail to compile, the documented ones must compile.

const files = ['server-events.ts', 'server-options.ts'].map((name) => join(__dirname, 'types', name));
const built = ['core', 'client'].map((name) => join(__dirname, '../..', name, 'dist/index.d.ts'));

describe('the published types of @primus/core', () => {
  it('are built (run `pnpm build` first)', () => {
    expect(built.filter((file) => !existsSync(file))).toEqual([]);
  });

  it.each(['bundler', 'node16', 'node16-cjs'] as const)('reject misspelt events and options, and accept the documented ones (%s resolution)', (setting) => {
    const result = checkTypeTests({ files, setting });
    const dts = setting.endsWith('-cjs') ? '.d.cts' : '.d.ts';
    // The packages resolve to their built declarations, as for a user, not to src/.
    expect(result.declarations).toEqual(expect.arrayContaining([`packages/client/dist/index${dts}`, `packages/core/dist/index${dts}`]));
    expect(result.declarations.filter((file) => !/^packages\/[^/]+\/dist\/[^/]+\.d\.c?ts$/.test(file) || !file.endsWith(dts))).toEqual([]);
    expect(result.diagnostics).toEqual([]);
    expect(result.missing).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(result.expected).toBeGreaterThanOrEqual(20);
  });

  it.each([
    ['PrimusEvents', '### Server (`primus.on(...)`)'],
    ['SparkEvents', '### Spark (`spark.on(...)`)'],
  ])('type exactly the events the README documents (%s)', (name, heading) => {
    const typed = interfaceKeys(built[0]!, name);
    const documented = documentedEvents(join(__dirname, '../README.md'), heading);
    expect([...typed].sort()).toEqual([...documented].sort());
  });
});
