// Turning the cells of a run into medians, same-round ratios, target checks and tables.
import { METRICS, metricScenario } from './scenarios.mjs';
import { human, kb, median, spread } from './stats.mjs';

/** The server every ratio is taken against. */
export const BASELINE = 'ws';
/** The server the targets apply to. */
export const TARGET_SERVER = 'primus-ts/websockets';
/** The websockets transformer with the @primus/metrics plugin: its cost is this server's echo figure over TARGET_SERVER's. */
export const METRICS_SERVER = 'primus-ts/websockets-metrics';
/** The target server with connection-state recovery on. */
export const RECOVERY_SERVER = 'primus-ts/websockets-recovery';
/** The websockets transformer with `keepRequest: false`: what the heap target can be held to (see docs/performance.md). */
export const LEAN_SERVER = 'primus-ts/websockets-lean';

/** Raw ws broadcasting as the issue's baseline does: encode once, frame once, the same bytes to every socket. */
export const FRAME_ONCE_SERVER = 'ws/frame-once';

/**
 * The issue's targets for the websockets transformer, as ratios to raw ws in the same run (to
 * `against` where given). `info` lines are printed for comparison and are not targets.
 */
export const TARGETS = [
  { metric: 'echoPerCpuSec', op: '>=', value: 1.25, text: 'Echo throughput per server CPU-second ≥ 1.25× raw ws' },
  { metric: 'heapPerConn', op: '<=', value: 1.3, text: 'Heap per idle connection ≤ 1.3× raw ws' },
  { metric: 'heapPerConn', server: LEAN_SERVER, op: '<=', value: 1.3, text: 'Heap per idle connection ≤ 1.3× raw ws, with `keepRequest: false`' },
  {
    metric: 'deliveriesPerCpuSec',
    against: FRAME_ONCE_SERVER,
    op: '>=',
    value: 1.2,
    text: 'Broadcast deliveries per server CPU-second ≥ 1.2× a hand-written ws loop that frames once (`ws/frame-once`)',
  },
  { metric: 'deliveriesPerCpuSec', info: true, op: '>=', value: 1.2, text: 'Broadcast deliveries per server CPU-second, over a loop of `ws.send()` (raw ws), for comparison' },
  { metric: 'rttP99Us', op: '<=', value: 1.1, text: 'Echo round trip p99 ≤ 1.1× raw ws' },
  { library: true, op: '<', value: 6000, text: 'Browser library (websockets) < 6 KB (6,000 bytes) minified + gzip' },
];

/**
 * Medians per server and scenario, and ratios to the baseline taken round by round (each round's
 * figure over the baseline's figure from the same round, then the median of those), so a slow
 * patch on the machine affects both sides of a ratio alike.
 */
export function summarize(cells, servers, library) {
  const byServer = {};
  for (const server of servers) {
    byServer[server.id] = {};
    const scenarios = new Set(cells.filter((c) => c.server === server.id).map((c) => c.scenario));
    for (const scenario of scenarios) {
      const mine = cells.filter((c) => c.server === server.id && c.scenario === scenario);
      const failed = mine.find((c) => !c.ok);
      if (failed) {
        byServer[server.id][scenario] = { ok: false, failure: failed.failure, rounds: mine.length, failedRounds: mine.filter((c) => !c.ok).length };
        continue;
      }
      const entry = { ok: true, rounds: mine.length, median: {}, spread: {}, ratio: {} };
      const keys = Object.keys(mine[0].metrics).filter((k) => k in METRICS);
      for (const key of keys) {
        entry.median[key] = median(mine.map((c) => c.metrics[key]));
        entry.spread[key] = spread(mine.map((c) => c.metrics[key]));
        const ratios = mine.map((c) => {
          const base = cells.find((b) => b.server === BASELINE && b.scenario === scenario && b.round === c.round && b.ok);
          return base ? c.metrics[key] / base.metrics[key] : NaN;
        });
        entry.ratio[key] = median(ratios);
      }
      byServer[server.id][scenario] = entry;
    }
  }
  const lib = {};
  for (const entry of library) lib[entry.id] = entry;
  return { byServer, library: lib };
}

/** The median over rounds of `server`'s `metric` over `against`'s in the same round. */
function sameRoundRatio(cells, server, against, metric) {
  const scenario = metricScenario(metric);
  const ratios = [];
  for (const cell of cells) {
    if (cell.server !== server || cell.scenario !== scenario || !cell.ok) continue;
    const other = cells.find((c) => c.server === against && c.scenario === scenario && c.round === cell.round && c.ok);
    if (other) ratios.push(cell.metrics[metric] / other.metrics[metric]);
  }
  return ratios.length ? median(ratios) : NaN;
}

/** Each target with the measured figure and whether it is met. */
export function checkTargets(summary, cells = []) {
  return TARGETS.map((target) => {
    if (target.library) {
      const lib = summary.library[TARGET_SERVER];
      if (!lib?.ok) return { ...target, measured: NaN, met: false, failure: lib?.failure ?? 'not measured' };
      return { ...target, measured: lib.gzip, met: lib.gzip < target.value };
    }
    const scenario = summary.byServer[target.server ?? TARGET_SERVER]?.[metricScenario(target.metric)];
    if (!scenario) return { ...target, measured: NaN, met: false, failure: 'not measured' };
    if (!scenario.ok) return { ...target, measured: NaN, met: false, failure: scenario.failure };
    const measured = target.against ? sameRoundRatio(cells, target.server ?? TARGET_SERVER, target.against, target.metric) : scenario.ratio[target.metric];
    if (!Number.isFinite(measured)) return { ...target, measured, met: false, failure: `${target.against} not measured` };
    const met = target.op === '>=' ? measured >= target.value : measured <= target.value;
    return { ...target, measured, met };
  });
}

function formatValue(metric, value) {
  if (!Number.isFinite(value)) return '-';
  const unit = METRICS[metric].unit;
  if (unit === 'B') return kb(value);
  if (unit === 'µs') return value >= 1000 ? `${(value / 1000).toFixed(2)} ms` : `${Math.round(value)} µs`;
  if (unit === 'ms') return `${value.toFixed(2)} ms`;
  if (unit === '%') return `${Math.round(value)}%`;
  return `${human(value)}${unit}`;
}

/** The rows of the results table: one per metric, one column per server. */
export function tableRows(servers, summary, metrics) {
  const rows = [];
  for (const metric of metrics) {
    const scenario = metricScenario(metric);
    if (!servers.some((s) => summary.byServer[s.id]?.[scenario])) continue;
    const cells = servers.map((server) => {
      const entry = summary.byServer[server.id]?.[scenario];
      if (!entry) return '';
      if (!entry.ok) return 'FAILED';
      const value = formatValue(metric, entry.median[metric]);
      if (server.id === BASELINE || METRICS[metric].better === 'none') return value;
      const ratio = entry.ratio[metric];
      return Number.isFinite(ratio) ? `${value} (${ratio.toFixed(2)}×)` : value;
    });
    rows.push([METRICS[metric].label, ...cells]);
  }
  const libs = servers.map((s) => {
    const lib = summary.library[s.id];
    if (!lib) return s.id === BASELINE ? 'n/a (native WebSocket)' : '';
    return lib.ok ? kb(lib.gzip) : 'FAILED';
  });
  if (libs.some((v) => v && !v.startsWith('n/a'))) rows.push(['Browser library, minified + gzip', ...libs]);
  return rows;
}

/** A fixed-width text table for the terminal. */
export function textTable(header, rows) {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => String(r[i] ?? '').length)));
  const line = (r) => r.map((c, i) => String(c ?? '').padEnd(widths[i])).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A Markdown table. */
export function markdownTable(header, rows) {
  const esc = (c) => String(c ?? '').replace(/\|/g, '\\|');
  return [`| ${header.map(esc).join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join(
    '\n',
  );
}

/** Every failure of the run, one line each. */
export function failures(cells) {
  return cells.filter((c) => !c.ok).map((c) => `${c.server} / ${c.scenario} / round ${c.round + 1}: ${c.failure}`);
}

/**
 * The per-transformer comparison: @primus/core against Primus 8 running the same transformer.
 * `short` is the column heading.
 */
export const PAIR_METRICS = [
  { metric: 'echoPerCpuSec', short: 'Echo /CPU-s' },
  { metric: 'rttP99Us', short: 'Round trip p99' },
  { metric: 'deliveriesPerCpuSec', short: 'Broadcast /CPU-s' },
  { metric: 'setupPerSec', short: 'Setup /s' },
  { metric: 'setupCpuUs', short: 'Setup CPU /conn' },
  { metric: 'heapPerConn', short: 'Heap /idle conn' },
];

/**
 * The transformer a server runs. Runs saved before servers recorded it are read from the id:
 * `primus8` is Primus 8 with websockets, `primus8/<name>` and `primus-ts/<name>` the others.
 */
export function transformerOf(server) {
  if (server.transformer) return server.transformer;
  if (server.id === 'primus8') return 'websockets';
  if (server.kind === 'primus8' || server.kind === 'primus-ts') return server.id.split('/')[1];
  return undefined;
}

/** Primus 8 with a transformer other than websockets: measured for the per-transformer comparison only. */
export function isPrimus8Extra(server) {
  return server.kind === 'primus8' && transformerOf(server) !== 'websockets';
}

/**
 * For every transformer both @primus/core and Primus 8 ran: ours ÷ Primus 8 for each of
 * PAIR_METRICS, taken round by round (both sides from the same round) and then the median, with
 * whether ours is ahead (better in the metric's direction).
 */
export function comparePairs(cells, servers) {
  const pairs = [];
  for (const ours of servers) {
    // The lean variant differs from primus-ts/websockets in memory only; it is not a transformer.
    if (ours.kind !== 'primus-ts' || ours.scenarios || ours.after || ours.id.endsWith('-lean')) continue;
    const transformer = transformerOf(ours);
    const theirs = servers.find((s) => s.kind === 'primus8' && transformerOf(s) === transformer);
    if (!theirs) continue;
    const metrics = {};
    for (const { metric } of PAIR_METRICS) {
      const scenario = metricScenario(metric);
      const mine = cells.filter((c) => c.server === ours.id && c.scenario === scenario);
      const other = cells.filter((c) => c.server === theirs.id && c.scenario === scenario);
      if (!mine.length || !other.length) continue;
      const failed = mine.find((c) => !c.ok) ?? other.find((c) => !c.ok);
      if (failed) {
        metrics[metric] = { failure: `${failed.server}: ${failed.failure}` };
        continue;
      }
      const ratios = [];
      for (const c of mine) {
        const o = other.find((x) => x.round === c.round);
        if (o) ratios.push(c.metrics[metric] / o.metrics[metric]);
      }
      const ratio = median(ratios);
      if (!Number.isFinite(ratio)) continue;
      const better = METRICS[metric].better;
      metrics[metric] = {
        ratio,
        ours: median(mine.map((c) => c.metrics[metric])),
        theirs: median(other.map((c) => c.metrics[metric])),
        rounds: ratios.length,
        ratios,
        ahead: better === 'higher' ? ratio > 1 : ratio < 1,
      };
    }
    pairs.push({ transformer, ours: ours.id, theirs: theirs.id, metrics });
  }
  return pairs;
}

/**
 * Rows of the per-transformer table: one per transformer, one cell per PAIR_METRICS entry, as
 * "1.23× ahead" / "0.87× behind" (ours ÷ Primus 8). `behind` formats the word for a figure where
 * ours is behind, so Markdown can bold it.
 */
export function pairRows(pairs, { behind = (w) => w } = {}) {
  return pairs.map((pair) => [
    pair.transformer,
    ...PAIR_METRICS.map(({ metric }) => {
      const m = pair.metrics[metric];
      if (!m) return '-';
      if (m.failure) return 'FAILED';
      return `${m.ratio.toFixed(2)}× ${m.ahead ? 'ahead' : behind('behind')}`;
    }),
  ]);
}

/** The figures where ours is behind (or failed), one line each, for the terminal and the docs. */
/** Whether any pair has a figure: a run of other scenarios (the library alone, say) has none. */
export function pairsMeasured(pairs) {
  return pairs.some((pair) => PAIR_METRICS.some(({ metric }) => pair.metrics[metric]));
}

export function pairShortfalls(pairs) {
  const lines = [];
  for (const pair of pairs) {
    for (const { metric } of PAIR_METRICS) {
      const m = pair.metrics[metric];
      if (!m) continue;
      const label = METRICS[metric].label.charAt(0).toLowerCase() + METRICS[metric].label.slice(1);
      if (m.failure) lines.push(`${pair.transformer}: ${label} failed (${m.failure})`);
      else if (!m.ahead) {
        // The ratio is the median of same-round ratios, which can differ from the ratio of the
        // two medians shown; with several rounds, each round's ratio shows how steady it is.
        const rounds = m.ratios?.length > 1 ? `; by round ${m.ratios.map((r) => `${r.toFixed(2)}×`).join(', ')}` : '';
        lines.push(`${pair.transformer}: ${label} ${m.ratio.toFixed(2)}× (${formatValue(metric, m.ours)} vs ${formatValue(metric, m.theirs)}${rounds})`);
      }
    }
  }
  return lines;
}

/**
 * What the @primus/metrics plugin costs: echoes per CPU-second of METRICS_SERVER over those of
 * TARGET_SERVER, round by round, and the median. Undefined when the run did not measure both.
 */
export function pluginCost(cells) {
  const ratios = [];
  for (const c of cells) {
    if (c.server !== METRICS_SERVER || c.scenario !== 'echo' || !c.ok) continue;
    const plain = cells.find((p) => p.server === TARGET_SERVER && p.scenario === 'echo' && p.round === c.round && p.ok);
    if (plain) ratios.push(c.metrics.echoPerCpuSec / plain.metrics.echoPerCpuSec);
  }
  return ratios.length ? { ratio: median(ratios), ratios } : undefined;
}

/**
 * What connection-state recovery costs: RECOVERY_SERVER over TARGET_SERVER, round by round, for
 * echoes and broadcast deliveries per CPU-second and heap per idle connection, with medians.
 */
export function recoveryCost(cells) {
  const cost = {};
  for (const [scenario, metric] of [
    ['echo', 'echoPerCpuSec'],
    ['broadcast', 'deliveriesPerCpuSec'],
    ['idle', 'heapPerConn'],
  ]) {
    const ratios = [];
    for (const c of cells) {
      if (c.server !== RECOVERY_SERVER || c.scenario !== scenario || !c.ok) continue;
      const plain = cells.find((p) => p.server === TARGET_SERVER && p.scenario === scenario && p.round === c.round && p.ok);
      if (plain) ratios.push(c.metrics[metric] / plain.metrics[metric]);
    }
    if (ratios.length) cost[metric] = { ratio: median(ratios), ratios };
  }
  return Object.keys(cost).length ? cost : undefined;
}
