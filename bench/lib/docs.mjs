// docs/performance.md, written from a run. Everything is regenerated except the text between the
// notes markers, which is kept from the existing file so hand-written analysis survives a rerun.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { BASELINE, comparePairs, failures, markdownTable, PAIR_METRICS, pairRows, pairShortfalls, pairsMeasured, TARGET_SERVER, tableRows } from './report.mjs';
import { METRICS, metricScenario } from './scenarios.mjs';

const NOTES_START = '<!-- notes: kept when bench/run.mjs --docs rewrites this file -->';
const NOTES_END = '<!-- /notes -->';

function keptNotes(path) {
  if (!existsSync(path)) return '';
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf(NOTES_START);
  const end = text.indexOf(NOTES_END);
  if (start === -1 || end === -1 || end < start) return '';
  return text.slice(start + NOTES_START.length, end).trim();
}

function scenarioText(cfg) {
  return [
    `- **Echo throughput**: ${cfg.echo.clients} clients, each keeping ${cfg.echo.window} messages in flight, ${cfg.echo.measureMs / 1000} s measured after ${cfg.echo.warmupMs / 1000} s of warm-up. The figure is echoes divided by the server process's CPU time (user + system, from \`process.cpuUsage()\`), so it measures the server's cost per message rather than how fast the load generator could go.`,
    `- **Round trip**: ${cfg.latency.clients} clients, one message in flight each, ${cfg.latency.measureMs / 1000} s measured; p50 and p99 over every round trip.`,
    `- **Broadcast**: ${cfg.broadcast.clients.toLocaleString('en-US')} clients; the server broadcasts ${cfg.broadcast.count} messages, one at a time, the next once every client has the previous. "Time to last delivery" runs from the server's broadcast call to the last client's receipt (one monotonic clock, shared by the processes). raw ws is the hand-written loop \`const s = JSON.stringify(m); for (const c of wss.clients) c.send(s)\`.`,
    `- **Connection setup**: ${cfg.setup.count.toLocaleString('en-US')} connections, ${cfg.setup.concurrency} handshakes at a time; each counts once it has echoed one message.`,
    `- **Idle memory**: heap and RSS of the server after full garbage collections, with ${cfg.idle.count.toLocaleString('en-US')} idle connections (each proven with one echo) minus the same before they connected, divided by the count.`,
    `- **Browser library**: the client script each server gives browsers (\`primus.library()\`; Socket.IO's \`socket.io.min.js\`), minified with esbuild and gzipped at level 9.`,
  ].join('\n');
}

function spreadTable(run) {
  const metrics = ['echoPerCpuSec', 'rttP99Us', 'deliveriesPerCpuSec', 'setupPerSec'];
  const rows = metrics.map((metric) => [
    METRICS[metric].label,
    ...run.servers.map((s) => {
      const entry = run.summary.byServer[s.id]?.[metricScenario(metric)];
      if (!entry?.ok || !Number.isFinite(entry.spread[metric])) return '-';
      return `${Math.round(100 * entry.spread[metric])}%`;
    }),
  ]);
  return markdownTable(['Spread between rounds, (max − min) / median', ...run.servers.map((s) => s.label)], rows);
}

/** The per-transformer comparison with Primus 8, or nothing when the run has no pair. */
function pairSection(run) {
  const pairs = run.pairs ?? comparePairs(run.cells, run.servers);
  if (!pairs.length) return '';
  const table = markdownTable(['Transformer', ...PAIR_METRICS.map((m) => m.short)], pairRows(pairs, { behind: (w) => `**${w}**` }));
  const behind = pairShortfalls(pairs);
  const oneRound = run.config.otherTransformerRounds < run.config.rounds;
  return `
### Per transformer: @primus/core vs Primus 8 with the same transformer

Each figure of \`primus-ts/<transformer>\` divided by the same figure of Primus 8.0.9 running that
transformer (\`primus8\` for websockets, \`primus8/<transformer>\` for the others), both from the
same round; "ahead" means ours is better (higher for rates, lower for round trip, CPU and heap).${
    oneRound
      ? ` Apart from websockets, both sides ran ${run.config.otherTransformerRounds === 1 ? 'one round' : `${run.config.otherTransformerRounds} rounds`}; on a shared machine such ratios move by 10% or more from run to run, so read one within that of 1 as even (\`--other-rounds\` measures more rounds).`
      : ''
  } Setup per second is wall-clock and includes each side's client (ours or Primus 8's, over the same framework client library); setup CPU per connection is the server's alone. Both sides of these pairs ping every 10 minutes (\`primus8/<transformer>\` runs with \`pingInterval: 600000\`; see [bench/README.md](../bench/README.md)); \`primus8\` keeps its 30 s default.

${table}

${behind.length ? `Behind Primus 8 (ours vs Primus 8):\n\n${behind.map((line) => `- ${line}`).join('\n')}` : pairsMeasured(pairs) ? 'Ahead of Primus 8 on every figure.' : 'No per-transformer figures in this run.'}
`;
}

/** Write the performance page for `run`; `chartPath` and `jsonPath` are relative to the page. */
export function writeDocs(path, run, chartPath, jsonPath) {
  const notes = keptNotes(path);
  const env = run.env;
  const servers = run.servers;
  const header = ['', ...servers.map((s) => s.label)];
  const rows = tableRows(servers, run.summary, Object.keys(METRICS));
  const targetRows = run.targets.map((t) => [
    t.text,
    t.failure ? `failed: ${t.failure}` : t.library ? `${t.measured.toLocaleString('en-US')} bytes` : `${t.measured.toFixed(3)}×`,
    t.info ? '' : t.met ? 'met' : '**not met**',
  ]);
  const failed = failures(run.cells);
  const load = env.loadAverage;
  const machine = `${env.cpuModel}, ${env.cpus} CPUs, ${env.memoryGB} GB, ${env.platform}, Node ${env.node}`;
  const noisy = env.noisy
    ? `The machine was shared with other work during this run (1-minute load average ${load.meanDuringRun.toFixed(1)} on ${env.cpus} CPUs on average), so absolute figures are noisy and lower than on an idle machine. The ratios compare servers measured seconds apart in alternating order and are the figures to read; the spread table below shows how much the rounds disagreed.`
    : `1-minute load average ${load.meanDuringRun.toFixed(1)} on ${env.cpus} CPUs on average during the run.`;

  const text = `# Performance

<!-- Generated by \`bench/run.mjs --docs\` (see bench/README.md). Only the notes section is kept when it is regenerated. -->

How \`@primus/core\` compares with raw [ws](https://github.com/websockets/ws) 8 (the ceiling for
anything built on it), Primus 8.0.9 (with websockets, and with each other transformer both have),
happn-primus 6.0.1 (the implementation this one replaces) and Socket.IO 4 (WebSocket transport
only). Servers and load generators run as separate processes on 127.0.0.1; every scenario runs
each server in turn, round after round, so that a slow moment on the machine falls on all of them. Every message is checked (sequence numbers and exact content); a run
that loses or corrupts one reports a failure instead of a figure.

Run it yourself with \`npx pnpm@12.4.2 --filter @primus/bench bench\` (about ${Math.max(1, Math.round(run.durationS / 60))} minutes); see
[bench/README.md](../bench/README.md).

## Latest run

${run.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${run.config.rounds} alternating rounds, ${Math.round(run.durationS / 60)} minutes.
Machine: ${machine}.
${noisy}${env.note ? `\n\n${env.note}` : ''}

![Results: each server relative to raw ws, with the targets as dashed lines](${chartPath})

### Targets for the websockets transformer

Ratios of \`${TARGET_SERVER}\` to raw ws measured in the same run (median over rounds of the
per-round ratio).

${markdownTable(['Target', 'Measured', ''], targetRows)}
${pairSection(run)}
### All figures

Medians over rounds; in brackets, the median over rounds of the ratio to ${servers.find((s) => s.id === BASELINE)?.label ?? BASELINE} in the
same round (which can differ from the ratio of the two medians shown).${
    run.config.otherTransformerRounds < run.config.rounds
      ? ` Transformers other than websockets (ours and Primus 8's) ran ${run.config.otherTransformerRounds === 1 ? 'one round' : `${run.config.otherTransformerRounds} rounds`} only, to keep the run bounded; their figures are single measurements.`
      : ''
  }
Raw data: [${jsonPath.split('/').pop()}](${jsonPath}).

${markdownTable(header, rows)}

${spreadTable(run)}
${failed.length ? `\n### Failures\n\nThese cells lost or corrupted messages (or did not finish) and have no figure:\n\n${failed.map((f) => `- ${f}`).join('\n')}\n` : ''}
## What is measured

Each server is a small echo-and-broadcast application with default options. The load generators
are raw \`ws\` clients that speak each server's wire format (JSON text frames for the Primus family,
answering Primus 8's heartbeat; Engine.IO v4 framing for Socket.IO), so the client side costs the
same whichever server is measured. Transformers other than websockets are driven by a client
library: ours by \`@primus/client\`, Primus 8's by Primus 8's own Node client (it speaks Primus 8's
heartbeat), both over the same framework client library (engine.io-client, sockjs-client,
faye-websocket, browserchannel). Each message is a small JSON object: a client number, a sequence
number and a 64-character string with multi-byte characters (${run.config.payloadBytes} bytes as JSON). raw ws decodes and encodes each message as
any JSON application would, so the gap to it is the framework's own work.

${scenarioText(run.config)}

## Notes

${NOTES_START}
${notes}
${NOTES_END}
`;
  writeFileSync(path, text);
}
