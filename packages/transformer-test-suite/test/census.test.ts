import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { census, grewMost, type Census } from '../src/soak-runner';

// The soak's leak check reads V8 heap snapshots. These come from a real Node process that retains
// a known set of objects and one large Buffer between its two snapshots.
const SCRIPT = `
const { writeHeapSnapshot } = require('node:v8');
const [before, after] = process.argv.slice(1);
class LeakedSession { constructor(i) { this.id = i; this.open = true; } }
writeHeapSnapshot(before);
globalThis.kept = { sessions: Array.from({ length: 2000 }, (_, i) => new LeakedSession(i)), block: Buffer.alloc(256 * 1024) };
writeHeapSnapshot(after);
`;

let dir: string;
let before: Census;
let after: Census;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'primus-census-'));
  const files = [join(dir, 'before.heapsnapshot'), join(dir, 'after.heapsnapshot')];
  execFileSync(process.execPath, ['-e', SCRIPT, ...files]);
  before = census(files[0]!);
  after = census(files[1]!);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('census() of a heap snapshot', () => {
  it('names objects by constructor: the retained sessions lead what grew', () => {
    const top = grewMost(before, after);
    expect(top[0]).toMatch(/^object:LeakedSession \+\d+$/);
    const grew = Number(top[0]!.split('+')[1]);
    // 2,000 objects of a few words each.
    expect(grew).toBeGreaterThanOrEqual(2000 * 16);
  });

  it('counts the memory behind ArrayBuffers apart from the JavaScript data', () => {
    expect(after.buffers - before.buffers).toBeGreaterThanOrEqual(256 * 1024);
    // The sessions and their array are in the JavaScript data; the Buffer's 256 KB block is not.
    const js = after.js - before.js;
    expect(js).toBeGreaterThanOrEqual(2000 * 16);
    expect(js).toBeLessThan(256 * 1024);
    expect(grewMost(before, after).some((line) => line.includes('JSArrayBufferData'))).toBe(false);
  });

  it('leaves compiled code and V8 bookkeeping out of both', () => {
    expect(after.byType.code).toBeGreaterThan(0);
    expect(Object.keys(after.byKind).some((kind) => kind.startsWith('code') || kind.startsWith('hidden'))).toBe(false);
  });
});
