import { readFileSync, writeFileSync } from 'node:fs';
import { it } from '@jest/globals';

/**
 * Register the test that stands for a capability the transformer does not claim. It is never a
 * silent skip: the title says what is not supported and why, and `check` asserts that the
 * transformer indeed behaves as one without it.
 */
export function notSupported(suite: string, transformer: string, flag: string, value: unknown, check: () => Promise<void>, timeout = 30_000): void {
  it(`${suite}: not supported by ${transformer} (capability ${flag}: ${JSON.stringify(value)})`, check, timeout);
}

/**
 * Merge `rows` into the JSON report named by the environment variable `variable`, replacing the
 * entry `key` holds (one per transformer and suite), so several test files can share one report.
 */
export function report(variable: string, key: string, rows: unknown): void {
  const file = process.env[variable];
  if (!file) return;
  let existing: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) existing = parsed as Record<string, unknown>;
  } catch {
    // No report yet, or one from an older layout: start afresh.
  }
  existing[key] = rows;
  writeFileSync(file, JSON.stringify(existing, null, 2) + '\n');
}
