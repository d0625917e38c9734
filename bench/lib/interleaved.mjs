// Interleaved round trip (`run.mjs --interleaved a,b[,c...]`): every compared server runs at
// once, one load generator (load/interleaved.mjs) drives them one at a time in short slices in a
// shuffled order, and each server's round trips are pooled over its slices. See README.md.
//
// The schedule is made of blocks: each block has one slice of every server, in a random order
// of its own. Blocks are the unit of pairing: the bootstrap resamples rounds, and whole blocks
// within each drawn round, so the confidence interval of a p99 ratio reflects how much the ratio
// depends on which rounds and stretches of machine time were drawn, while both sides of every
// block shared the same stretch.
import { fileURLToPath } from 'node:url';
import { Child } from './proc.mjs';
import { startServer } from './scenarios.mjs';
import { median } from './stats.mjs';

const here = fileURLToPath(new URL('..', import.meta.url));

/** A small seeded generator (mulberry32), so a run's schedule and bootstrap can be repeated. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `blocks` blocks, each a random permutation of the servers 0..n-1. */
export function schedule(n, blocks, random) {
  const order = [];
  for (let b = 0; b < blocks; b++) {
    const perm = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    order.push(...perm);
  }
  return order;
}

/**
 * Parse `id[@busy=<µs>]` entries: the suffix starts that server with BENCH_BUSY_US set, which the
 * raw ws and @primus/core bench servers turn into a busy-wait per message (to check that the
 * method detects a slower server). The same id may appear twice (an A/A comparison).
 */
export function parseInterleaved(list, servers) {
  const entries = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length < 2) throw new Error('--interleaved needs at least two servers, e.g. --interleaved ws,primus-ts/websockets');
  const seen = new Map();
  return entries.map((entry) => {
    const [id, ...mods] = entry.split('@');
    const server = servers.find((s) => s.id === id);
    if (!server) throw new Error(`unknown server ${id} (see --list)`);
    const env = {};
    let label = server.id;
    for (const mod of mods) {
      const m = /^busy=(\d+)$/.exec(mod);
      if (!m) throw new Error(`unknown modifier @${mod} in --interleaved (only @busy=<µs>)`);
      if (!['raw-ws', 'primus-ts'].includes(server.file)) throw new Error(`@busy works with ws and primus-ts/* servers, not ${id}`);
      env.BENCH_BUSY_US = m[1];
      label += `@busy=${m[1]}`;
    }
    const count = (seen.get(label) ?? 0) + 1;
    seen.set(label, count);
    if (count > 1) label += ` #${count}`;
    return { ...server, label, env };
  });
}

/** One round: start every server, run the schedule through one load generator, stop them. */
export async function runRound(entries, cfg, round, seed) {
  const random = rng(seed);
  const order = schedule(entries.length, cfg.slices, random);
  const children = [];
  let load;
  try {
    for (const entry of entries) {
      children.push(await startServer(entry, { payload: cfg.payload, lifetimeMs: 600_000, env: entry.env }));
    }
    const params = {
      targets: entries.map((e, i) => ({ port: children[i].port, wire: e.wire, path: e.path, transformerDir: e.transformerDir, transformer: e.transformer })),
      clients: cfg.clients,
      concurrency: cfg.concurrency,
      payload: cfg.payload,
      sliceMs: cfg.sliceMs,
      sliceWarmupMs: cfg.sliceWarmupMs,
      warmupSlices: cfg.warmupSlices,
      schedule: order,
    };
    const perSliceMs = cfg.sliceMs + 500;
    params.lifetimeMs = 120_000 + (order.length + cfg.warmupSlices * entries.length) * perSliceMs;
    load = new Child(`${here}load/interleaved.mjs`, [JSON.stringify(params)], { label: 'load interleaved' });
    const res = await load.waitFor('result', params.lifetimeMs + 5000);
    if (!res.ok) throw new Error(res.failure);
    return { round, seed, schedule: order, bucketBase: res.bucketBase, slices: res.slices };
  } finally {
    await load?.stop(1000);
    await Promise.all(children.map((c) => c.stop(2000)));
  }
}

/** Nearest-rank percentile of a histogram given as a dense count array starting at bucket `lo`. */
function histPercentile(counts, total, p, lo, base) {
  if (total === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    if (seen >= rank) return bucketValue(lo + i, base);
  }
  return bucketValue(lo + counts.length - 1, base);
}

/** A bucket's value: the geometric middle of its edges. */
function bucketValue(index, base) {
  return base ** (index + 0.5);
}

/** Quantile (0..1) of an unsorted array, linear between order statistics. */
function quantile(values, q) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Pooled figures per server, and for every pair (later ÷ earlier in the list) the p99 ratio with
 * a 95% percentile-bootstrap interval over blocks, plus the per-block ratios of slice p99s.
 */
export function analyze(entries, rounds, { resamples = 2000, seed = 1 } = {}) {
  const n = entries.length;
  const base = rounds[0].bucketBase;
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rounds) {
    for (const s of r.slices) {
      for (const [b] of s.hist) {
        lo = Math.min(lo, b);
        hi = Math.max(hi, b);
      }
    }
  }
  const width = hi - lo + 1;
  // blocks[round][block][server] = { counts, total, slice }
  const blocks = rounds.map((r) => {
    const out = [];
    for (let k = 0; k < r.slices.length; k += n) {
      const block = new Array(n);
      for (const s of r.slices.slice(k, k + n)) {
        const counts = new Float64Array(width);
        for (const [b, c] of s.hist) counts[b - lo] = c;
        block[s.server] = { counts, total: s.samples, slice: s };
      }
      out.push(block);
    }
    return out;
  });
  const pooled = (picks) => {
    const sums = Array.from({ length: n }, () => ({ counts: new Float64Array(width), total: 0 }));
    for (const block of picks) {
      for (let i = 0; i < n; i++) {
        const src = block[i].counts;
        const dst = sums[i].counts;
        for (let j = 0; j < width; j++) dst[j] += src[j];
        sums[i].total += block[i].total;
      }
    }
    return sums;
  };

  const all = pooled(blocks.flat());
  const servers = entries.map((e, i) => ({
    id: e.id,
    label: e.label,
    samples: all[i].total,
    slices: blocks.flat().length,
    p50Us: histPercentile(all[i].counts, all[i].total, 50, lo, base),
    p99Us: histPercentile(all[i].counts, all[i].total, 99, lo, base),
    p999Us: histPercentile(all[i].counts, all[i].total, 99.9, lo, base),
    maxUs: Math.max(...rounds.flatMap((r) => r.slices.filter((s) => s.server === i).map((s) => s.maxUs))),
    clientCpu: (() => {
      const mine = rounds.flatMap((r) => r.slices.filter((s) => s.server === i));
      const cpu = mine.reduce((t, s) => t + s.clientCpuUs, 0);
      const wall = mine.reduce((t, s) => t + s.wallUs, 0);
      return (100 * cpu) / wall;
    })(),
  }));

  const pairs = [];
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) pairs.push([a, b]);

  // Bootstrap: draw as many rounds as there are, with replacement, and in each drawn round as
  // many blocks as it has, with replacement. Only
  // the tail matters for a p99, so each block keeps its buckets at or above the pooled p90 of
  // its server (a resample's p99 lies far above that) and its total count.
  const cutoff = all.map((s) => {
    const rank = Math.ceil(0.9 * s.total);
    let seen = 0;
    for (let j = 0; j < width; j++) {
      seen += s.counts[j];
      if (seen >= rank) return j;
    }
    return 0;
  });
  const tails = blocks.map((roundBlocks) =>
    roundBlocks.map((block) =>
      block.map(({ counts, total }, i) => {
        const idx = [];
        const cnt = [];
        for (let j = cutoff[i]; j < width; j++) {
          if (counts[j]) {
            idx.push(j);
            cnt.push(counts[j]);
          }
        }
        return { total, idx: Int32Array.from(idx), cnt: Float64Array.from(cnt) };
      }),
    ),
  );
  const random = rng(seed);
  const boot = pairs.map(() => []);
  const sums = Array.from({ length: n }, () => new Float64Array(width));
  for (let r = 0; r < resamples; r++) {
    const totals = new Array(n).fill(0);
    for (const s of sums) s.fill(0);
    for (let q = 0; q < tails.length; q++) {
      // Two levels: rounds first (fresh processes, and possibly another time of day when runs
      // are pooled), then blocks within each drawn round.
      const roundTails = tails[Math.floor(random() * tails.length)];
      for (let k = 0; k < roundTails.length; k++) {
        const block = roundTails[Math.floor(random() * roundTails.length)];
        for (let i = 0; i < n; i++) {
          const { total, idx, cnt } = block[i];
          totals[i] += total;
          const dst = sums[i];
          for (let j = 0; j < idx.length; j++) dst[idx[j]] += cnt[j];
        }
      }
    }
    const p99 = sums.map((counts, i) => {
      const fromTop = totals[i] - Math.ceil(0.99 * totals[i]) + 1;
      let seen = 0;
      for (let j = width - 1; j >= cutoff[i]; j--) {
        seen += counts[j];
        if (seen >= fromTop) return bucketValue(lo + j, base);
      }
      return NaN;
    });
    pairs.forEach(([a, b], i) => boot[i].push(p99[b] / p99[a]));
  }

  const comparisons = pairs.map(([a, b], i) => {
    const perBlock = blocks.flat().map((block) => block[b].slice.p99Us / block[a].slice.p99Us);
    const perRound = blocks.map((roundBlocks) => {
      const sums = pooled(roundBlocks);
      return histPercentile(sums[b].counts, sums[b].total, 99, lo, base) / histPercentile(sums[a].counts, sums[a].total, 99, lo, base);
    });
    return {
      of: entries[b].label,
      to: entries[a].label,
      p99Ratio: servers[b].p99Us / servers[a].p99Us,
      p50Ratio: servers[b].p50Us / servers[a].p50Us,
      ci95: [quantile(boot[i], 0.025), quantile(boot[i], 0.975)],
      perRound,
      perBlock: {
        median: median(perBlock),
        q1: quantile(perBlock, 0.25),
        q3: quantile(perBlock, 0.75),
        higher: perBlock.filter((x) => x > 1).length,
        count: perBlock.length,
      },
    };
  });
  return { servers, comparisons, resamples };
}

/**
 * A run without its histograms, for results/ (the full run, a few MB, stays in results/tmp/):
 * the configuration, the schedule's seed, each slice's own figures and the analysis.
 */
export function summaryOf(run) {
  return {
    ...run,
    summary: true,
    rounds: run.rounds.map(({ slices, schedule, ...r }) => ({
      ...r,
      slices: slices.map(({ server, samples, p50Us, p99Us, maxUs }) => ({ server, samples, p50Us, p99Us, maxUs })),
    })),
  };
}

const fmtUs = (us) => (!Number.isFinite(us) ? '-' : us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${Math.round(us)} µs`);

/** The printed report of an interleaved run. */
export function describe(result) {
  const lines = [];
  const w = Math.max(...result.servers.map((s) => s.label.length), 6);
  lines.push(`${'server'.padEnd(w)}  ${'samples'.padStart(8)}  ${'p50'.padStart(9)}  ${'p99'.padStart(9)}  ${'p99.9'.padStart(9)}  ${'max'.padStart(9)}  client CPU`);
  for (const s of result.servers) {
    lines.push(
      `${s.label.padEnd(w)}  ${String(s.samples).padStart(8)}  ${fmtUs(s.p50Us).padStart(9)}  ${fmtUs(s.p99Us).padStart(9)}  ${fmtUs(s.p999Us).padStart(9)}  ${fmtUs(s.maxUs).padStart(9)}  ${Math.round(s.clientCpu)}%`,
    );
  }
  lines.push('');
  for (const c of result.comparisons) {
    const [l, h] = c.ci95;
    const verdict = h < 1 ? 'lower' : l > 1 ? 'higher' : 'not distinguishable (interval contains 1.0)';
    lines.push(`p99 ${c.of} ÷ ${c.to}: ${c.p99Ratio.toFixed(3)}× (95% bootstrap interval ${l.toFixed(3)}-${h.toFixed(3)}; ${verdict}); p50 ${c.p50Ratio.toFixed(3)}×`);
    lines.push(`  per round: ${c.perRound.map((x) => x.toFixed(2)).join(', ')}`);
    lines.push(
      `  per block (slice p99 ÷ slice p99): median ${c.perBlock.median.toFixed(2)}, quartiles ${c.perBlock.q1.toFixed(2)}-${c.perBlock.q3.toFixed(2)}, higher in ${c.perBlock.higher} of ${c.perBlock.count} blocks`,
    );
  }
  return lines.join('\n');
}
