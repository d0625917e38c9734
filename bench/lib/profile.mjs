// Reading a V8 .cpuprofile (from node --cpu-prof): self and inclusive time per function and per
// code area, as plain text. Usable on its own: node lib/profile.mjs <file.cpuprofile> [top]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where a script lives, shortened: "core/src/spark.ts", "ws@8.23.0/lib/sender.js", "node:internal/...". */
export function shortUrl(url) {
  if (!url) return '';
  let u = url.replace(/^file:\/\//, '');
  const pnpm = /node_modules\/\.pnpm\/([^/]+)\/node_modules\/(?:@[^/]+\/)?[^/]+\/(.*)$/.exec(u);
  if (pnpm) return `${pnpm[1].replace(/_.*$/, '')}/${pnpm[2]}`;
  const pkg = /\/packages\/([^/]+)\/(.*)$/.exec(u);
  if (pkg) return `${pkg[1]}/${pkg[2]}`;
  u = u.replace(/^.*\/bench\//, 'bench/');
  return u;
}

/** The code area a frame belongs to, for the coarse breakdown. */
export function area(callFrame) {
  const url = callFrame.url ?? '';
  const name = callFrame.functionName;
  if (!url) {
    if (name === '(garbage collector)') return 'garbage collection';
    if (name === '(idle)') return 'idle';
    if (name === '(program)') return 'V8/libuv (program)';
    return `native: ${name || '(anonymous)'}`;
  }
  if (url.startsWith('node:')) return `node: ${url.slice(5).split('/').slice(0, 2).join('/')}`;
  const s = shortUrl(url);
  return s.split('/')[0];
}

/**
 * Summarize a profile.
 * @param {string} file path of the .cpuprofile
 * @param {{ top?: number }} options
 */
export function summarizeProfile(file, { top = 25 } = {}) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const durationUs = profile.endTime - profile.startTime;
  const totalHits = profile.nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
  const usPerHit = totalHits ? durationUs / totalHits : 0;
  const key = (cf) => `${cf.functionName || '(anonymous)'}  ${shortUrl(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;

  const self = new Map();
  const inclusive = new Map();
  const areas = new Map();
  let idleHits = 0;
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (n.callFrame.functionName === '(idle)') idleHits += hits;
    self.set(key(n.callFrame), (self.get(key(n.callFrame)) ?? 0) + hits);
    const a = area(n.callFrame);
    areas.set(a, (areas.get(a) ?? 0) + hits);
  }
  // Inclusive time: each sample counts once for every distinct function on its stack.
  const root = profile.nodes[0];
  const onPath = new Map();
  const visit = (node) => {
    const k = key(node.callFrame);
    onPath.set(k, (onPath.get(k) ?? 0) + 1);
    const hits = node.hitCount ?? 0;
    if (hits) for (const pathKey of onPath.keys()) inclusive.set(pathKey, (inclusive.get(pathKey) ?? 0) + hits);
    for (const child of node.children ?? []) visit(nodes.get(child));
    const count = onPath.get(k) - 1;
    if (count) onPath.set(k, count);
    else onPath.delete(k);
  };
  visit(root);

  const busy = totalHits - idleHits;
  const pct = (hits) => `${((100 * hits) / busy).toFixed(1).padStart(5)}%`;
  const lines = [];
  lines.push(`Profile ${file}`);
  lines.push(`${(durationUs / 1e6).toFixed(1)} s sampled, ${((100 * busy) / Math.max(1, totalHits)).toFixed(0)}% busy; percentages are of busy time.`);
  lines.push('', 'By area (self time):');
  for (const [name, hits] of [...areas]
    .filter(([n]) => n !== 'idle')
    .sort((a, b) => b[1] - a[1])
    .slice(0, 14)) {
    lines.push(`  ${pct(hits)}  ${name}`);
  }
  lines.push('', `Top ${top} functions by self time (self, inclusive):`);
  for (const [name, hits] of [...self]
    .filter(([n]) => !n.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)) {
    lines.push(`  ${pct(hits)} ${pct(inclusive.get(name) ?? 0)}  ${name}`);
  }
  lines.push('', `Top ${top} functions by inclusive time (excluding the event loop's own frames):`);
  for (const [name, hits] of [...inclusive]
    .filter(
      ([n]) =>
        !/^\((root|program|idle|garbage collector)\)/.test(n) &&
        !/ node:internal\/(timers|process\/task_queues|streams|net|stream_base_commons)/.test(n) &&
        !/^processTicksAndRejections|^listOnTimeout|^emit |^onStreamRead/.test(n),
    )
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)) {
    lines.push(`  ${pct(hits)}  ${name}`);
  }
  lines.push('', `(${usPerHit.toFixed(0)} µs per sample)`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(summarizeProfile(process.argv[2], { top: Number(process.argv[3] ?? 25) }));
}
