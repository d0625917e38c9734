import { expect } from '@jest/globals';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const figures = new Map<string, Record<string, unknown>>();

/**
 * Keep a measurement of this test file; with PRIMUS_DEPLOY_REPORT=<dir>, every measurement so far
 * is written to `<dir>/<test file name>.json` (docs/operations.md quotes them).
 */
export function report(what: string, values: Record<string, unknown>): void {
  figures.set(what, values);
  const dir = process.env.PRIMUS_DEPLOY_REPORT;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const name = path.basename(expect.getState().testPath ?? 'deploy', '.test.ts');
  writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(Object.fromEntries(figures), null, 2));
}
