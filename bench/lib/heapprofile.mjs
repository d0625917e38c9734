// Reading a V8 sampling heap profile (.heapprofile, from `run.mjs --alloc-prof`): bytes allocated
// per function and per code area, divided by the echoes (or other units of work) in the sampled
// phase. Usable on its own: node lib/heapprofile.mjs <file.heapprofile> [units] [top]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { area, shortUrl } from './profile.mjs';

/**
 * Summarize an allocation profile.
 * @param {string} file path of the .heapprofile
 * @param {{ top?: number, units?: number, unitName?: string }} options `units`: what the bytes are
 *   divided by (the echoes of the sampled phase); without it, totals only
 */
export function summarizeHeapProfile(file, { top = 25, units, unitName = 'echo' } = {}) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const key = (cf) => `${cf.functionName || '(anonymous)'}  ${shortUrl(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
  // selfSize is V8's estimate of the bytes allocated in the node (each sample scaled by its
  // sampling probability), so the sums below estimate totals, not just what was sampled.
  const self = new Map();
  const inclusive = new Map();
  const areas = new Map();
  const onPath = new Map();
  let total = 0;
  const visit = (node) => {
    const k = key(node.callFrame);
    onPath.set(k, (onPath.get(k) ?? 0) + 1);
    const size = node.selfSize ?? 0;
    if (size) {
      total += size;
      self.set(k, (self.get(k) ?? 0) + size);
      const a = area(node.callFrame);
      areas.set(a, (areas.get(a) ?? 0) + size);
      for (const pathKey of onPath.keys()) inclusive.set(pathKey, (inclusive.get(pathKey) ?? 0) + size);
    }
    for (const child of node.children ?? []) visit(child);
    const count = onPath.get(k) - 1;
    if (count) onPath.set(k, count);
    else onPath.delete(k);
  };
  visit(profile.head);

  const per = (bytes) => (units ? `${(bytes / units).toFixed(0).padStart(6)} B/${unitName}` : `${(bytes / 1024).toFixed(0).padStart(8)} KiB`);
  const pct = (bytes) => `${((100 * bytes) / Math.max(1, total)).toFixed(1).padStart(5)}%`;
  const lines = [];
  lines.push(`Allocation profile ${file}`);
  lines.push(
    `${(total / 1048576).toFixed(1)} MiB allocated (estimated from ${profile.samples?.length ?? '?'} samples)` +
      (units ? `, ${units} ${unitName}es: ${(total / units).toFixed(0)} B per ${unitName}` : ''),
  );
  lines.push('', 'By area (self):');
  for (const [name, bytes] of [...areas].sort((a, b) => b[1] - a[1]).slice(0, 14)) lines.push(`  ${per(bytes)} ${pct(bytes)}  ${name}`);
  lines.push('', `Top ${top} functions by bytes allocated in them (self, inclusive):`);
  for (const [name, bytes] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`  ${per(bytes)} ${pct(bytes)} ${pct(inclusive.get(name) ?? 0)}  ${name}`);
  }
  lines.push('', `Top ${top} functions by bytes allocated in them and what they called (excluding the event loop's own frames):`);
  for (const [name, bytes] of [...inclusive]
    .filter(([n]) => !/^\(root\)/.test(n) && !/ node:internal\/(timers|process\/task_queues)/.test(n) && !/^processTicksAndRejections|^listOnTimeout/.test(n))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)) {
    lines.push(`  ${per(bytes)} ${pct(bytes)}  ${name}`);
  }
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const units = process.argv[3] ? Number(process.argv[3]) : undefined;
  console.log(summarizeHeapProfile(process.argv[2], { units, top: Number(process.argv[4] ?? 25) }));
}
