import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { DEFAULT_OPTIONS } from '@primus/core';
import { detached } from './helpers';

// The README's table of server options is what users read; DEFAULT_OPTIONS is what the server
// applies. Neither may say something the other does not.

interface Row {
  name: string;
  cell: string;
}

/** The rows of the table under `## Server options` (the first table there with a `default` column). */
function readmeOptions(): Row[] {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Server options'));
  const lines = section.split('\n');
  const header = lines.findIndex((line) => /^\|\s*option\s*\|\s*default\s*\|/.test(line));
  expect(header).toBeGreaterThan(0);
  const rows: Row[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim());
    for (const name of cells[0]!.matchAll(/`([^`]+)`/g)) rows.push({ name: name[1]!, cell: cells[1]! });
  }
  return rows;
}

/** A default as the README writes it: a JavaScript literal in backticks, or `—` for none. */
function parseDefault(cell: string): unknown {
  if (cell === '—' || cell === '`undefined`') return undefined;
  const literal = /^`(.*)`$/.exec(cell)?.[1];
  if (literal === undefined) throw new Error(`The README's default "${cell}" is not a literal in backticks`);
  if (literal === 'null') return null;
  if (literal === 'true' || literal === 'false') return literal === 'true';
  if (/^-?\d+(\.\d+)?$/.test(literal)) return Number(literal);
  if (/^'.*'$/.test(literal)) return literal.slice(1, -1);
  if (literal === '{}') return {};
  throw new Error(`The README's default ${cell} is not a literal this test reads`);
}

describe('the server options table of the README', () => {
  const rows = readmeOptions();

  it('lists every option of DEFAULT_OPTIONS, and nothing else', () => {
    expect(rows.map((row) => row.name).sort()).toEqual(Object.keys(DEFAULT_OPTIONS).sort());
  });

  it.each(rows.map((row) => [row.name, row.cell] as const))('gives the default of %s as DEFAULT_OPTIONS does (%s)', (name, cell) => {
    expect(parseDefault(cell)).toEqual(DEFAULT_OPTIONS[name as keyof typeof DEFAULT_OPTIONS]);
  });
});

describe('DEFAULT_OPTIONS', () => {
  it('is what a server applies to the options left out', () => {
    const options: Record<string, unknown> = { ...detached({ transformer: undefined }).options };
    for (const [name, value] of Object.entries(DEFAULT_OPTIONS)) {
      if (value !== undefined) expect([name, options[name]]).toEqual([name, value]);
      else expect([name, options[name]]).toEqual([name, undefined]);
    }
  });

  it('cannot be changed by an application', () => {
    expect(Object.isFrozen(DEFAULT_OPTIONS)).toBe(true);
    expect(Object.isFrozen(DEFAULT_OPTIONS.plugin)).toBe(true);
  });
});
