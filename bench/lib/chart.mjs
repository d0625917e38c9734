// The results chart: one SVG, built as a plain string, with a small panel per headline figure.
// Each panel shows every server as a bar relative to raw ws (1.0), the target as a dashed line,
// and the absolute figure next to each bar, so the whole run reads at a glance. Primus 8 with
// transformers other than websockets gets no bars (four more per panel would bury the rest); a
// grid at the bottom shows @primus/core against Primus 8 per transformer instead.
import { comparePairs, isPrimus8Extra, PAIR_METRICS, TARGET_SERVER } from './report.mjs';
import { metricScenario } from './scenarios.mjs';
import { human, kb } from './stats.mjs';

const WIDTH = 980;
const COLUMNS = 2;
const PANEL_W = (WIDTH - 30) / COLUMNS;
const LABEL_W = 206;
const ROW_H = 22;
const BAR_H = 14;
const HEAD_H = 44;
const FOOT_H = 14;

/** The panels, in reading order. */
export const PANELS = [
  { title: 'Echo throughput per server CPU-second', metric: 'echoPerCpuSec', better: 'higher', target: 1.25, format: (v) => `${human(v)}/CPU-s` },
  { title: 'Echo round trip, p99', metric: 'rttP99Us', better: 'lower', target: 1.1, format: (v) => `${(v / 1000).toFixed(2)} ms` },
  { title: 'Broadcast: deliveries per server CPU-second', metric: 'deliveriesPerCpuSec', better: 'higher', target: 1.2, format: (v) => `${human(v)}/CPU-s` },
  { title: 'Broadcast: time to last delivery, p50', metric: 'ttldP50Ms', better: 'lower', format: (v) => `${v.toFixed(2)} ms` },
  { title: 'Connection setup rate', metric: 'setupPerSec', better: 'higher', format: (v) => `${human(v)}/s` },
  { title: 'Heap per idle connection', metric: 'heapPerConn', better: 'lower', target: 1.3, format: kb },
  { title: 'Browser library, minified + gzip', library: true, better: 'lower', target: 6000, format: kb },
];

const COLORS = { raw: '#6b7280', 'primus-ts': '#60a5fa', primus8: '#ea580c', happn: '#7c3aed', socketio: '#059669' };
/** The server the targets are about stands out; the other @primus/core transformers share a lighter blue. */
const TARGET_COLOR = '#1d4ed8';

function esc(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function text(x, y, content, attrs = '') {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(content)}</text>`;
}

/** Rows of one panel: { server, value, ratio, failure } for every server that has the figure. */
function panelRows(panel, servers, summary) {
  const rows = [];
  for (const server of servers) {
    if (panel.library) {
      const lib = summary.library[server.id];
      if (!lib) continue;
      rows.push({ server, value: lib.ok ? lib.gzip : NaN, ratio: lib.ok ? lib.gzip : NaN, failure: lib.ok ? null : lib.failure });
      continue;
    }
    const scenario = summary.byServer[server.id]?.[metricScenario(panel.metric)];
    if (!scenario) continue;
    if (!scenario.ok) rows.push({ server, value: NaN, ratio: NaN, failure: scenario.failure });
    else rows.push({ server, value: scenario.median[panel.metric], ratio: scenario.ratio[panel.metric], failure: null });
  }
  return rows;
}

function panel(p, servers, summary, x0, y0) {
  const rows = panelRows(p, servers, summary);
  const out = [];
  const height = HEAD_H + rows.length * ROW_H + FOOT_H;
  out.push(`<rect x="${x0}" y="${y0}" width="${PANEL_W - 10}" height="${height}" rx="6" fill="#ffffff" stroke="#e5e7eb"/>`);
  const relative = !p.library;
  const hint = relative ? `× raw ws, ${p.better} is better` : `${p.better} is better`;
  out.push(text(x0 + 12, y0 + 20, p.title, 'font-size="14" font-weight="600" fill="#111827"'));
  out.push(text(x0 + 12, y0 + 36, hint, 'font-size="11" fill="#6b7280"'));

  const barX = x0 + LABEL_W;
  const barMax = PANEL_W - 10 - LABEL_W - 124;
  const finite = rows.map((r) => r.ratio).filter(Number.isFinite);
  // One far outlier (a polling transport at 14×) would squash every other bar; cap the axis and
  // mark the bars that run past it as broken.
  const cap = relative ? 3 : Infinity;
  const top = Math.min(Math.max(...finite, p.target ?? 0, relative ? 1 : 0), cap) * 1.08 || 1;
  const scale = (v) => (Math.min(Math.max(0, v), top) / top) * barMax;
  const plotTop = y0 + HEAD_H - 4;
  const plotBottom = y0 + HEAD_H + rows.length * ROW_H - 4;

  // Reference lines go under the bars and labels.
  if (relative) {
    const x = barX + scale(1);
    out.push(`<line x1="${x.toFixed(1)}" y1="${plotTop}" x2="${x.toFixed(1)}" y2="${plotBottom}" stroke="#6b7280" stroke-width="1"/>`);
  }
  if (p.target !== undefined) {
    const x = barX + scale(p.target);
    out.push(`<line x1="${x.toFixed(1)}" y1="${plotTop}" x2="${x.toFixed(1)}" y2="${plotBottom}" stroke="#dc2626" stroke-width="1.5" stroke-dasharray="4 3"/>`);
    const label = relative ? `target for websockets: ${p.target}×` : `target: under ${p.format(p.target)}`;
    out.push(text(x, plotBottom + 12, label, 'font-size="10" text-anchor="middle" fill="#dc2626"'));
  }

  rows.forEach((row, i) => {
    const y = y0 + HEAD_H + i * ROW_H;
    const ours = row.server.id === TARGET_SERVER;
    out.push(text(barX - 8, y + BAR_H - 2, row.server.label, `font-size="12" text-anchor="end" fill="#111827"${ours ? ' font-weight="600"' : ''}`));
    if (row.failure) {
      const room = Math.floor((PANEL_W - 10 - LABEL_W - 12) / 6.2) - 8;
      const reason = row.failure.length > room ? `${row.failure.slice(0, room - 1)}…` : row.failure;
      out.push(text(barX + 2, y + BAR_H - 2, `FAILED: ${reason}`, 'font-size="11" font-weight="600" fill="#b91c1c"'));
      return;
    }
    if (!Number.isFinite(row.ratio)) {
      out.push(text(barX + 2, y + BAR_H - 2, 'n/a', 'font-size="11" fill="#6b7280"'));
      return;
    }
    const w = scale(row.ratio);
    const color = ours ? TARGET_COLOR : (COLORS[row.server.kind] ?? '#374151');
    out.push(`<rect x="${barX}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" rx="2" fill="${color}"${ours ? '' : ' fill-opacity="0.75"'}/>`);
    if (row.ratio > top) {
      const bx = barX + w - 14;
      out.push(`<path d="M${bx} ${y + BAR_H + 1} l5 ${-BAR_H - 2} M${bx + 5} ${y + BAR_H + 1} l5 ${-BAR_H - 2}" stroke="#ffffff" stroke-width="2"/>`);
    }
    const label = relative ? `${row.ratio.toFixed(2)}×  ${p.format(row.value)}` : p.format(row.value);
    out.push(text(barX + w + 6, y + BAR_H - 2, label, `font-size="11" fill="#111827" stroke="#ffffff" stroke-width="3" paint-order="stroke"${ours ? ' font-weight="600"' : ''}`));
  });

  return { svg: out.join('\n'), height };
}

const PAIR_LABEL_W = 130;
const PAIR_ROW_H = 22;

/** A grid of ours ÷ Primus 8 per transformer and metric, green where ours is ahead, red where behind. */
function pairPanel(pairs, x0, y0) {
  const width = COLUMNS * PANEL_W - 10;
  const out = [];
  const height = HEAD_H + PAIR_ROW_H * (pairs.length + 1) + FOOT_H;
  out.push(`<rect x="${x0}" y="${y0}" width="${width}" height="${height}" rx="6" fill="#ffffff" stroke="#e5e7eb"/>`);
  out.push(text(x0 + 12, y0 + 20, '@primus/core ÷ Primus 8 with the same transformer', 'font-size="14" font-weight="600" fill="#111827"'));
  out.push(text(x0 + 12, y0 + 36, 'same round; green: ours ahead, red: ours behind', 'font-size="11" fill="#6b7280"'));
  const colW = (width - 24 - PAIR_LABEL_W) / PAIR_METRICS.length;
  const cellX = (i) => x0 + 12 + PAIR_LABEL_W + i * colW;
  let y = y0 + HEAD_H;
  PAIR_METRICS.forEach((m, i) => {
    out.push(text(cellX(i) + colW / 2, y + 14, m.short, 'font-size="11" font-weight="600" text-anchor="middle" fill="#374151"'));
  });
  for (const pair of pairs) {
    y += PAIR_ROW_H;
    out.push(text(x0 + 12, y + 14, pair.transformer, 'font-size="12" fill="#111827"'));
    PAIR_METRICS.forEach(({ metric }, i) => {
      const m = pair.metrics[metric];
      const [fill, ink, label] = !m
        ? ['#f3f4f6', '#6b7280', '-']
        : m.failure
          ? ['#f3f4f6', '#b91c1c', 'FAILED']
          : m.ahead
            ? ['#dcfce7', '#166534', `${m.ratio.toFixed(2)}×`]
            : ['#fee2e2', '#991b1b', `${m.ratio.toFixed(2)}×`];
      out.push(`<rect x="${(cellX(i) + 3).toFixed(1)}" y="${y + 1}" width="${(colW - 6).toFixed(1)}" height="${PAIR_ROW_H - 4}" rx="3" fill="${fill}"/>`);
      out.push(text(cellX(i) + colW / 2, y + 14, label, `font-size="11" font-weight="600" text-anchor="middle" fill="${ink}"`));
    });
  }
  return { svg: out.join('\n'), height };
}

/** The whole chart for a summarized run. */
export function renderChart(run) {
  const { summary } = run;
  const servers = run.servers.filter((s) => !isPrimus8Extra(s));
  const parts = [];
  const columnY = new Array(COLUMNS).fill(64);
  PANELS.forEach((p, i) => {
    const column = i % COLUMNS;
    const x = 10 + column * PANEL_W;
    const { svg, height } = panel(p, servers, summary, x, columnY[column]);
    parts.push(svg);
    columnY[column] += height + 12;
  });
  const pairs = run.pairs ?? comparePairs(run.cells, run.servers);
  if (pairs.length) {
    const { svg, height } = pairPanel(pairs, 10, Math.max(...columnY));
    parts.push(svg);
    columnY.fill(Math.max(...columnY) + height + 12);
  }
  const height = Math.max(...columnY) + 4;
  const subtitle = `${run.env.cpuModel} × ${run.env.cpus}, Node ${run.env.node}, ${run.config.rounds} alternating round(s), ${run.startedAt.slice(0, 10)}${run.env.noisy ? ' (shared machine: noisy)' : ''}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif">`,
    `<rect width="${WIDTH}" height="${height}" fill="#f9fafb"/>`,
    text(14, 26, 'Primus for TypeScript vs. raw ws, Primus 8, happn-primus and Socket.IO 4', 'font-size="17" font-weight="700" fill="#111827"'),
    text(14, 46, subtitle, 'font-size="11" fill="#4b5563"'),
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
