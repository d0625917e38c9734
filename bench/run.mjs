#!/usr/bin/env node
// The benchmark: starts every server and load generator as separate processes on 127.0.0.1 and
// runs each scenario for every server in turn, round after round (A B C, A B C, ...), so a slow
// patch on a shared machine lands on every server instead of on one. See README.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { renderChart } from './lib/chart.mjs';
import { writeDocs } from './lib/docs.mjs';
import { summarizeHeapProfile } from './lib/heapprofile.mjs';
import { summarizeProfile } from './lib/profile.mjs';
import {
  BASELINE,
  checkTargets,
  comparePairs,
  failures,
  METRICS_SERVER,
  PAIR_METRICS,
  pairRows,
  pairShortfalls,
  pairsMeasured,
  pluginCost,
  RECOVERY_SERVER,
  recoveryCost,
  summarize,
  tableRows,
  TARGET_SERVER,
  textTable,
} from './lib/report.mjs';
import { analyze, describe, parseInterleaved, runRound, summaryOf } from './lib/interleaved.mjs';
import { METRICS, SCENARIOS, startServer } from './lib/scenarios.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');

const HELP = `Usage: node run.mjs [options]

  --quick               a short pass (1 round, fewer clients) to check that everything works
  --rounds <n>          alternating rounds per scenario (default 3; 1 with --quick)
  --other-rounds <n>    rounds for transformers other than websockets, ours and Primus 8's (default 1;
                        at most --rounds)
  --servers <ids>       comma-separated server ids to run (default: all); the baseline "ws" is always included
  --scenarios <names>   comma-separated, from: ${Object.keys(SCENARIOS).join(', ')}, library (default: all)
  --profile <id>        run one scenario (echo, or the first of --scenarios) against <id> under --cpu-prof
                        and print its hottest functions
  --alloc-prof <id>     run the echo scenario against <id> with its allocations sampled over the measured
                        phase (freed objects kept) and print the bytes allocated per echo by function
  --interleaved <ids>   interleaved round trip instead of the scenarios: these servers (comma-separated,
                        the first is the reference) all run at once and one load generator drives them
                        in turn in short slices, shuffled; pooled p50/p99 per server, p99 ratios with a
                        bootstrap interval. An id may repeat (A/A check); <id>@busy=<µs> slows ws or a
                        primus-ts server by a busy-wait per message. --rounds: fresh processes each round
  --slices <n>          with --interleaved: slices per server per round (default 30; 8 with --quick)
  --slice-ms <ms>       with --interleaved: length of a slice (default 250; 200 with --quick)
  --seed <n>            with --interleaved: seed of the slice order and the bootstrap (default: from the clock)
  --docs                write docs/performance.md from this run
  --note <text>         a sentence about the machine or the run, shown with the results
  --report <file>       re-render a saved results/*.json (table, chart, and the docs with --docs)
  --list                list the servers this checkout can run, and exit
  --help                this text
`;

/** Load average the bench's own processes account for: a server and a load generator, busy at once. */
const BENCH_OWN_LOAD = 2;

/** The two sizes of run. Counts and durations are bounded so every process stops by itself. */
const CONFIGS = {
  full: {
    rounds: 3,
    concurrency: 50,
    echo: { clients: 50, window: 16, warmupMs: 1000, measureMs: 3000 },
    latency: { clients: 16, warmupMs: 1000, measureMs: 2500 },
    broadcast: { clients: 1000, count: 100, timeoutMs: 10_000 },
    setup: { count: 1500, concurrency: 50 },
    idle: { count: 10_000, rounds: 1 },
    // --interleaved: slices per server per round, each `sliceMs` long, its first `sliceWarmupMs`
    // not recorded; `warmupSlices` unrecorded slices of each server first.
    interleaved: { clients: 16, slices: 30, sliceMs: 250, sliceWarmupMs: 25, warmupSlices: 4 },
    // Transformers the targets are not about (ours and Primus 8's) run one round, so each one
    // that joins adds minutes, not a third of the run.
    otherTransformerRounds: 1,
  },
  quick: {
    rounds: 1,
    concurrency: 25,
    echo: { clients: 20, window: 8, warmupMs: 500, measureMs: 1500 },
    latency: { clients: 8, warmupMs: 300, measureMs: 1200 },
    broadcast: { clients: 200, count: 30, timeoutMs: 10_000 },
    setup: { count: 300, concurrency: 25 },
    idle: { count: 1000, rounds: 1 },
    interleaved: { clients: 8, slices: 8, sliceMs: 200, sliceWarmupMs: 20, warmupSlices: 2 },
    otherTransformerRounds: 1,
  },
};

/** 64 characters of message text, some of them multi-byte in UTF-8, so encoding bugs show. */
const PAYLOAD = 'Primus benchmark payload: ÅÉÎØÜ ü € 0123456789 abcdefghijklmnopq';

/** Every @primus/transformer-* package in this checkout that has been built. */
async function discoverTransformers() {
  const found = [];
  const skipped = [];
  const dir = join(repo, 'packages');
  for (const name of readdirSync(dir).sort()) {
    if (!name.startsWith('transformer-') || name === 'transformer-test-suite') continue;
    const pkgDir = join(dir, name);
    if (!existsSync(join(pkgDir, 'dist/index.js'))) {
      skipped.push(`${name} (not built)`);
      continue;
    }
    try {
      const mod = await import(pathToFileURL(join(pkgDir, 'dist/index.js')).href);
      const transformer = mod.default ?? mod;
      if (typeof transformer?.name !== 'string' || typeof transformer.server !== 'function') throw new Error('no transformer export');
      found.push({ name: transformer.name, dir: pkgDir });
    } catch (err) {
      skipped.push(`${name} (${err.message.split('\n')[0]})`);
    }
  }
  // The websockets transformer first: it is the one the targets are about.
  found.sort((a, b) => (a.name === 'websockets' ? -1 : b.name === 'websockets' ? 1 : a.name.localeCompare(b.name)));
  return { found, skipped };
}

/**
 * Primus 8's transformers other than websockets (which `primus8` covers). Each runs as
 * `primus8/<name>` next to `primus-ts/<name>` when that one is built, so every transformer of
 * ours is measured against Primus 8 with the same framework.
 */
const PRIMUS8_TRANSFORMERS = ['browserchannel', 'engine.io', 'faye', 'sockjs'];

function serverList(transformers) {
  return [
    { id: BASELINE, label: 'ws 8 (raw)', kind: 'raw', file: 'raw-ws', args: [], wire: 'json', path: '/' },
    // The issue's broadcast baseline: the same raw ws server, its broadcast framed once.
    {
      id: 'ws/frame-once',
      label: 'ws 8 (raw, broadcast framed once)',
      kind: 'raw',
      file: 'raw-ws',
      args: ['--frame-once', 'true'],
      wire: 'json',
      path: '/',
      scenarios: ['broadcast'],
    },
    ...transformers.map((t) => ({
      id: `primus-ts/${t.name}`,
      label: `@primus/core (${t.name})`,
      kind: 'primus-ts',
      file: 'primus-ts',
      args: ['--transformer', t.dir],
      transformer: t.name,
      transformerDir: t.dir,
      // Raw ws clients speak the websockets transformer's frames; other transformers frame
      // messages their own way, so their own client drives them.
      wire: t.name === 'websockets' ? 'json' : 'client',
      path: '/primus',
      otherTransformer: t.name !== 'websockets',
    })),
    // The same server without `spark.request` kept after `connection`: only memory differs.
    ...transformers
      .filter((t) => t.name === 'websockets')
      .map((t) => ({
        id: 'primus-ts/websockets-lean',
        label: '@primus/core (websockets, keepRequest: false)',
        kind: 'primus-ts',
        file: 'primus-ts',
        args: ['--transformer', t.dir, '--keep-request', 'false'],
        transformerDir: t.dir,
        wire: 'json',
        path: '/primus',
        scenarios: ['idle'],
      })),
    // The same server with the @primus/metrics plugin: what the plugin costs per message. It runs
    // right after primus-ts/websockets in each round (see runOrder) and is compared with it.
    ...transformers
      .filter((t) => t.name === 'websockets')
      .map((t) => ({
        id: METRICS_SERVER,
        label: '@primus/core (websockets, @primus/metrics)',
        kind: 'primus-ts',
        file: 'primus-ts',
        args: ['--transformer', t.dir, '--metrics', 'true'],
        transformerDir: t.dir,
        wire: 'json',
        path: '/primus',
        scenarios: ['echo'],
        after: TARGET_SERVER,
      })),
    // The same server with connection-state recovery on, its clients announcing it and
    // acknowledging every 256 messages: what recovery costs. Runs right after primus-ts/websockets.
    ...transformers
      .filter((t) => t.name === 'websockets')
      .map((t) => ({
        id: RECOVERY_SERVER,
        label: '@primus/core (websockets, recovery)',
        kind: 'primus-ts',
        file: 'primus-ts',
        args: ['--transformer', t.dir, '--recovery', 'true'],
        transformerDir: t.dir,
        wire: 'json-recovery',
        path: '/primus',
        scenarios: ['echo', 'broadcast', 'idle'],
        after: TARGET_SERVER,
      })),
    { id: 'primus8', label: 'Primus 8.0.9', kind: 'primus8', file: 'primus8', args: [], transformer: 'websockets', wire: 'json', path: '/primus' },
    // Other transformers frame messages their own way and Primus 8 has its own heartbeat, so
    // Primus 8's own client drives them, over the same framework client as ours. Their heartbeat
    // runs every 10 minutes, as ours is told to in the connect query: with the 30 s default, one
    // ping to thousands of long-polling connections (and their pongs, each a request) lands in
    // the middle of the idle scenario's handshakes on a loaded machine and stalls some past the
    // connect timeout. Primus 8 keeps one heartbeat timer for all sparks, so memory per
    // connection does not depend on the interval.
    ...transformers
      .filter((t) => PRIMUS8_TRANSFORMERS.includes(t.name))
      .map((t) => ({
        id: `primus8/${t.name}`,
        label: `Primus 8.0.9 (${t.name})`,
        kind: 'primus8',
        file: 'primus8',
        args: ['--transformer', t.name, '--ping-interval', '600000'],
        transformer: t.name,
        wire: 'primus8-client',
        path: '/primus',
        otherTransformer: true,
      })),
    { id: 'happn', label: 'happn-primus 6.0.1', kind: 'happn', file: 'happn', args: [], wire: 'json', path: '/primus' },
    { id: 'socketio', label: 'Socket.IO 4 (ws only)', kind: 'socketio', file: 'socketio', args: [], wire: 'eio', path: '/socket.io' },
  ];
}

/**
 * The order servers run in within a round: as listed, except that Primus 8 with a transformer
 * other than websockets runs right after ours with the same transformer. The two sides of each
 * per-transformer ratio are then measured seconds apart, not minutes, which matters on a shared
 * machine whose load changes. Tables keep the listed order.
 */
function runOrder(servers) {
  const partnerOf = (s) =>
    s.kind === 'primus-ts' ? servers.find((p) => (p.kind === 'primus8' && p.transformer === s.transformer && p.transformer !== 'websockets') || p.after === s.id) : undefined;
  const partners = new Set(servers.map(partnerOf).filter(Boolean));
  const order = [];
  for (const server of servers) {
    if (partners.has(server)) continue;
    order.push(server);
    const partner = partnerOf(server);
    if (partner) order.push(partner);
  }
  return order;
}

function libraryEntries(servers) {
  return servers.filter((s) => s.kind !== 'raw' && !s.scenarios).map((s) => ({ id: s.id, kind: s.kind, transformer: s.transformer, transformerDir: s.transformerDir }));
}

function measureLibraries(servers) {
  const proc = spawnSync(process.execPath, [join(here, 'library-size.mjs'), JSON.stringify(libraryEntries(servers))], { encoding: 'utf8', timeout: 120_000 });
  if (proc.status !== 0) {
    const failure = `library-size.mjs failed: ${(proc.stderr || proc.error?.message || '').trim().split('\n').slice(-3).join(' ')}`;
    return libraryEntries(servers).map((e) => ({ id: e.id, ok: false, failure }));
  }
  return JSON.parse(proc.stdout.trim().split('\n').pop());
}

function environment(note) {
  const cpus = os.cpus();
  return {
    node: process.versions.node,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: (cpus[0]?.model ?? 'unknown CPU').replace(/\s+/g, ' ').trim(),
    cpus: cpus.length,
    memoryGB: Math.round(os.totalmem() / 1e9),
    note: note ?? null,
  };
}

async function runCell(server, scenario, round, cfg, options) {
  const started = Date.now();
  const load1 = os.loadavg()[0];
  let child;
  try {
    child = await startServer(server, { payload: PAYLOAD, profileDir: options.profileDir, allocProfDir: options.allocProfDir, lifetimeMs: 300_000 });
    const metrics = await SCENARIOS[scenario](server, child, cfg);
    return { server: server.id, scenario, round, ok: true, metrics, ms: Date.now() - started, load1 };
  } catch (err) {
    return { server: server.id, scenario, round, ok: false, failure: String(err?.message ?? err).split('\n')[0], ms: Date.now() - started, load1 };
  } finally {
    await child?.stop();
  }
}

function describeCell(cell) {
  if (!cell.ok) return `FAILED: ${cell.failure}`;
  const m = cell.metrics;
  switch (cell.scenario) {
    case 'echo':
      return `${Math.round(m.echoPerCpuSec)} echoes/CPU-s, ${Math.round(m.echoPerSec)}/s, server CPU ${Math.round(m.echoServerCpu)}%, load generator CPU ${Math.round(m.clientCpu)}%`;
    case 'latency':
      return `p50 ${Math.round(m.rttP50Us)} µs, p99 ${Math.round(m.rttP99Us)} µs (${m.samples} samples), load generator CPU ${Math.round(m.clientCpu)}%`;
    case 'broadcast':
      return `${Math.round(m.deliveriesPerCpuSec)} deliveries/CPU-s, ${Math.round(m.deliveriesPerSec)}/s, last delivery p50 ${m.ttldP50Ms.toFixed(2)} ms, load generator CPU ${Math.round(m.clientCpu)}%`;
    case 'setup':
      return `${Math.round(m.setupPerSec)} connections/s, ${Math.round(m.setupCpuUs)} µs server CPU each, load generator ${Math.round(m.setupClientCpuUs)} µs each (${Math.round(m.clientCpu)}%)`;
    case 'idle':
      return `heap ${Math.round(m.heapPerConn)} B, RSS ${Math.round(m.rssPerConn)} B per connection`;
    default:
      return '';
  }
}

async function main() {
  const { values } = parseArgs({
    // `pnpm run bench -- --quick` passes the `--` through; it separates nothing here.
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      'other-rounds': { type: 'string' },
      servers: { type: 'string' },
      scenarios: { type: 'string' },
      profile: { type: 'string' },
      'alloc-prof': { type: 'string' },
      interleaved: { type: 'string' },
      slices: { type: 'string' },
      'slice-ms': { type: 'string' },
      seed: { type: 'string' },
      docs: { type: 'boolean', default: false },
      note: { type: 'string' },
      list: { type: 'boolean', default: false },
      report: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (values.report) {
    report(values.report, values.docs);
    return;
  }

  const { found, skipped } = await discoverTransformers();
  let servers = serverList(found);
  if (values.list) {
    for (const s of servers) console.log(`${s.id.padEnd(24)} ${s.label}`);
    if (skipped.length) console.log(`\nTransformer packages not included: ${skipped.join(', ')}`);
    return;
  }
  if (skipped.length) console.log(`Transformer packages not included: ${skipped.join(', ')}`);

  const cfg = { ...structuredClone(values.quick ? CONFIGS.quick : CONFIGS.full), payload: PAYLOAD };
  if (values.rounds) cfg.rounds = Math.max(1, Number.parseInt(values.rounds, 10) || 1);
  if (values['other-rounds']) cfg.otherTransformerRounds = Math.max(1, Number.parseInt(values['other-rounds'], 10) || 1);
  cfg.otherTransformerRounds = Math.min(cfg.otherTransformerRounds, cfg.rounds);
  let scenarios = [...Object.keys(SCENARIOS), 'library'];
  if (values.scenarios) {
    scenarios = values.scenarios.split(',').map((s) => s.trim());
    const unknown = scenarios.filter((s) => s !== 'library' && !(s in SCENARIOS));
    if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(', ')}`);
  }
  if (values.interleaved) {
    await interleaved(parseInterleaved(values.interleaved, servers), cfg, values);
    return;
  }
  if (values.servers) {
    const wanted = new Set([BASELINE, ...values.servers.split(',').map((s) => s.trim())]);
    const unknown = [...wanted].filter((id) => !servers.some((s) => s.id === id));
    if (unknown.length) throw new Error(`unknown server(s): ${unknown.join(', ')} (see --list)`);
    servers = servers.filter((s) => wanted.has(s.id));
  }

  if (values.profile) {
    await profile(servers, values.profile, values.scenarios ? scenarios[0] : 'echo', cfg);
    return;
  }
  if (values['alloc-prof']) {
    await allocationProfile(servers, values['alloc-prof'], values.scenarios ? scenarios[0] : 'echo', cfg);
    return;
  }

  const startedAt = new Date().toISOString();
  const env = environment(values.note);
  const loadBefore = os.loadavg();
  console.log(
    `${values.quick ? 'Quick' : 'Full'} run: ${servers.map((s) => s.id).join(', ')}; ${cfg.rounds} round(s); ${env.cpus} CPUs; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );

  const cells = [];
  const wall = Date.now();
  const order = runOrder(servers);
  for (const scenario of scenarios.filter((s) => s !== 'library')) {
    const rounds = scenario === 'idle' ? Math.min(cfg.rounds, cfg.idle.rounds) : cfg.rounds;
    for (let round = 0; round < rounds; round++) {
      for (const server of order) {
        if (server.scenarios && !server.scenarios.includes(scenario)) continue;
        if (server.otherTransformer && round >= cfg.otherTransformerRounds) continue;
        const cell = await runCell(server, scenario, round, cfg, {});
        cells.push(cell);
        console.log(`  ${scenario.padEnd(9)} r${round + 1} ${server.id.padEnd(24)} ${describeCell(cell)}  [${(cell.ms / 1000).toFixed(1)} s]`);
      }
    }
  }
  const library = scenarios.includes('library') ? measureLibraries(servers) : [];
  const loadAfter = os.loadavg();
  // With other work on the machine the absolute figures drift; ratios from the same round hold up better.
  const meanLoad = cells.length ? cells.reduce((sum, c) => sum + c.load1, 0) / cells.length : loadAfter[0];
  env.loadAverage = { before: loadBefore, after: loadAfter, meanDuringRun: meanLoad };
  // The bench keeps a server and a load generator busy at once, about 2 of the load average by
  // itself (on 2 CPUs, an otherwise idle machine shows 2.3); other work is what comes on top.
  env.noisy = meanLoad - BENCH_OWN_LOAD > env.cpus * 0.5 || Boolean(values.note && /shared|noisy/i.test(values.note));

  const complete = !values.quick && !values.servers && !values.scenarios;
  const run = {
    startedAt,
    durationS: Math.round((Date.now() - wall) / 1000),
    quick: values.quick,
    complete,
    env,
    config: { ...cfg, payloadBytes: Buffer.byteLength(JSON.stringify(PAYLOAD)) },
    servers: servers.map(({ id, label, kind, wire, transformer }) => ({ id, label, kind, wire, transformer })),
    cells,
    library,
  };
  // Quick and partial runs are for checking the harness; only complete runs land in results/.
  publish(run, join(here, 'results', complete ? '' : 'tmp'), values.docs);
}

/**
 * Summarize a run, print its table and targets, write its JSON and chart (and the docs page when
 * asked), and set the exit status: 1 when any cell failed.
 */
function publish(run, outDir, docs, writeLatest = true) {
  run.summary = summarize(run.cells, run.servers, run.library);
  run.targets = checkTargets(run.summary, run.cells);
  run.pairs = comparePairs(run.cells, run.servers);
  const { servers, summary, targets, pairs } = run;

  const header = ['', ...servers.map((s) => s.label)];
  console.log(`\n${textTable(header, tableRows(servers, summary, Object.keys(METRICS)))}\n`);
  console.log(`Ratios are to ${servers[0].label} in the same round (median over rounds). Targets for ${TARGET_SERVER}:`);
  for (const t of targets) {
    const measured = t.library ? `${t.measured} bytes` : `${Number.isFinite(t.measured) ? t.measured.toFixed(3) : '-'}×`;
    console.log(`  ${t.info ? 'INFO   ' : t.met ? 'MET    ' : 'NOT MET'}  ${t.text}: ${t.failure ? `failed (${t.failure})` : measured}`);
  }
  if (pairs.length) {
    console.log('\nPer transformer: @primus/core vs Primus 8 with the same transformer (ours ÷ Primus 8 in the same round, median over rounds; "ahead" = ours is better):\n');
    console.log(textTable(['Transformer', ...PAIR_METRICS.map((m) => m.short)], pairRows(pairs)).replace(/^/gm, '  '));
    const behind = pairShortfalls(pairs);
    if (behind.length) console.log(`\n  Behind Primus 8 (ours vs Primus 8):\n    ${behind.join('\n    ')}`);
    else console.log(pairsMeasured(pairs) ? '\n  Ahead of Primus 8 on every figure.' : '\n  No per-transformer figures in this run.');
  }
  const cost = pluginCost(run.cells);
  if (cost) {
    console.log(
      `\n@primus/metrics: echoes per CPU-second with the plugin ÷ without, same round: ${cost.ratio.toFixed(3)}× (median of ${cost.ratios.map((r) => r.toFixed(3)).join(', ')}; target ≥ 0.97)`,
    );
  }
  const recovery = recoveryCost(run.cells);
  if (recovery) {
    const show = (r) => (r ? `${r.ratio.toFixed(3)}× (median of ${r.ratios.map((x) => x.toFixed(3)).join(', ')})` : 'not measured');
    console.log(
      `\nRecovery on ÷ off, same round (target ≥ 0.90): echoes per CPU-second ${show(recovery.echoPerCpuSec)}; broadcast deliveries per CPU-second ${show(recovery.deliveriesPerCpuSec)}; heap per idle connection ${show(recovery.heapPerConn)}`,
    );
  }
  const failed = failures(run.cells);
  if (failed.length) console.log(`\nFailures (reported instead of numbers):\n  ${failed.join('\n  ')}`);

  mkdirSync(outDir, { recursive: true });
  const stamp = run.startedAt.replace(/[:.]/g, '-').replace(/-\d+Z$/, 'Z');
  const jsonPath = join(outDir, `${stamp}.json`);
  const svgPath = join(outDir, `${stamp}.svg`);
  const json = JSON.stringify(run, null, 2) + '\n';
  const svg = renderChart(run);
  writeFileSync(jsonPath, json);
  writeFileSync(svgPath, svg);
  if (writeLatest) {
    writeFileSync(join(outDir, 'latest.json'), json);
    writeFileSync(join(outDir, 'latest.svg'), svg);
  }
  console.log(`\nWrote ${relative(process.cwd(), jsonPath)} and ${relative(process.cwd(), svgPath)} (${run.durationS} s)`);

  if (docs && !run.complete) {
    console.log('Not writing docs/performance.md: --docs needs a complete run (no --quick, --servers or --scenarios).');
  } else if (docs) {
    const docPath = join(repo, 'docs', 'performance.md');
    writeDocs(docPath, run, relative(dirname(docPath), svgPath), relative(dirname(docPath), jsonPath));
    console.log(`Wrote ${relative(process.cwd(), docPath)}`);
  }
  process.exitCode = failed.length ? 1 : 0;
}

/** Re-render a saved run (after a change to the tables, chart or docs page) without rerunning it. */
function report(file, docs) {
  if (file.includes(',')) {
    reportInterleaved(file.split(','));
    return;
  }
  const run = JSON.parse(readFileSync(file, 'utf8'));
  if (run.kind === 'interleaved') {
    reportInterleaved([file]);
    return;
  }
  const dir = dirname(resolve(file));
  // Re-rendering an older run must not replace latest.* with it.
  const newest = readdirSync(dir)
    .filter((f) => /^\d{4}-.*\.json$/.test(f))
    .sort()
    .pop();
  const stamp = run.startedAt.replace(/[:.]/g, '-').replace(/-\d+Z$/, 'Z');
  publish(run, dir, docs, `${stamp}.json` === newest);
}

/**
 * Interleaved round trip: every round starts all `entries` at once and runs one shuffled schedule
 * of slices through one load generator; the rounds' slices are pooled per server. Writes
 * results/<time>-interleaved.json (results/tmp/ with --quick).
 */
async function interleaved(entries, cfg, values) {
  const ic = { ...cfg.interleaved, concurrency: cfg.concurrency, payload: PAYLOAD };
  if (values.slices) ic.slices = Math.max(2, Number.parseInt(values.slices, 10) || 2);
  if (values['slice-ms']) ic.sliceMs = Math.max(20, Number.parseInt(values['slice-ms'], 10) || 20);
  ic.sliceWarmupMs = Math.min(ic.sliceWarmupMs, Math.floor(ic.sliceMs / 4));
  const seed = values.seed ? Number.parseInt(values.seed, 10) : Date.now() % 2 ** 31;
  const startedAt = new Date().toISOString();
  const env = environment(values.note);
  const loads = [os.loadavg()[0]];
  console.log(
    `Interleaved round trip: ${entries.map((e) => e.label).join(', ')}; ${cfg.rounds} round(s) of ${ic.slices} slices × ${ic.sliceMs} ms per server, ${ic.clients} clients each; seed ${seed}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const wall = Date.now();
  const rounds = [];
  for (let round = 0; round < cfg.rounds; round++) {
    const r = await runRound(entries, ic, round, seed + round);
    loads.push(os.loadavg()[0]);
    r.load1 = os.loadavg()[0];
    rounds.push(r);
    const one = analyze(entries, [r], { resamples: 500, seed });
    console.log(
      `  r${round + 1}: ${one.servers.map((s) => `${s.label} p50 ${Math.round(s.p50Us)} µs p99 ${Math.round(s.p99Us)} µs`).join('; ')}; load average ${r.load1.toFixed(2)}  [${((Date.now() - wall) / 1000).toFixed(0)} s]`,
    );
  }
  const result = analyze(entries, rounds, { seed });
  console.log(`\n${describe(result)}`);
  env.loadAverage = { samples: loads, mean: loads.reduce((a, b) => a + b, 0) / loads.length };
  console.log(`\n1-minute load average during the run: ${loads.map((l) => l.toFixed(1)).join(', ')} (${env.cpus} CPUs)`);
  const run = {
    kind: 'interleaved',
    startedAt,
    durationS: Math.round((Date.now() - wall) / 1000),
    quick: values.quick,
    seed,
    env,
    config: ic,
    servers: entries.map(({ id, label, wire, transformer, env: e }) => ({ id, label, wire, transformer, env: e })),
    rounds,
    result,
  };
  // The full run (every slice's histogram, a few MB) goes to results/tmp/; a summary without the
  // histograms to results/, unless --quick.
  const stamp = startedAt.replace(/[:.]/g, '-').replace(/-\d+Z$/, 'Z');
  mkdirSync(join(here, 'results', 'tmp'), { recursive: true });
  const written = [join(here, 'results', 'tmp', `${stamp}-interleaved.json`)];
  writeFileSync(written[0], JSON.stringify(run) + '\n');
  if (!values.quick) {
    written.push(join(here, 'results', `${stamp}-interleaved.json`));
    writeFileSync(written[1], JSON.stringify(summaryOf(run), null, 1) + '\n');
  }
  console.log(`Wrote ${written.map((p) => relative(process.cwd(), p)).join(' and ')} (${run.durationS} s)`);
}

/**
 * Print the analysis of one or more interleaved runs (`--report a.json,b.json`), their rounds
 * pooled as if they were one run's. Runs of different server lists are pooled on the servers
 * every run has: each block keeps the slices of those servers, in the order they ran.
 */
function reportInterleaved(files) {
  const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
  for (const run of runs) {
    if (run.kind !== 'interleaved') throw new Error(`${run.startedAt}: not an interleaved run`);
    if (run.summary) throw new Error(`${run.startedAt}: a summary without histograms; the full run is in results/tmp/ of the machine that ran it`);
  }
  const common = runs[0].servers.filter((s) => runs.every((run) => run.servers.some((t) => t.label === s.label)));
  if (common.length < 2) throw new Error('the runs have fewer than two servers in common');
  const rounds = runs.flatMap((run) => {
    const index = run.servers.map((s) => common.findIndex((c) => c.label === s.label));
    return run.rounds.map((r) => ({ ...r, slices: r.slices.filter((s) => index[s.server] !== -1).map((s) => ({ ...s, server: index[s.server] })) }));
  });
  const loads = runs.flatMap((run) => run.env.loadAverage?.samples ?? []);
  console.log(
    `${runs.length} run(s), ${rounds.length} round(s), ${rounds.reduce((n, r) => n + r.slices.length, 0)} slices of ${common.map((s) => s.label).join(', ')}; 1-minute load average ${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)}\n`,
  );
  console.log(describe(analyze(common, rounds, { seed: runs[0].seed })));
}

/** One scenario (echo unless --scenarios names another) against one server under --cpu-prof, then its hottest functions. */
async function profile(servers, id, scenario, cfg) {
  const server = servers.find((s) => s.id === id);
  if (!server) throw new Error(`unknown server ${id} (see --list)`);
  const profileDir = join(here, 'results', 'tmp', 'profiles', `${id.replace(/\W+/g, '-')}-${Date.now()}`);
  mkdirSync(profileDir, { recursive: true });
  if (!(scenario in SCENARIOS)) throw new Error(`cannot profile the ${scenario} scenario`);
  const cell = await runCell(server, scenario, 0, cfg, { profileDir });
  console.log(`${scenario} ${server.id}: ${describeCell(cell)}`);
  const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile was written to ${profileDir}`);
  console.log(`\n${summarizeProfile(join(profileDir, file), { top: 30 })}`);
  console.log(`\nProfile: ${relative(process.cwd(), join(profileDir, file))} (open it in Chrome DevTools > Performance)`);
}

/**
 * The echo scenario against one server with its allocations sampled between the load generator's
 * `start` and `end` marks, objects already freed included; then the bytes allocated per echo by
 * function.
 */
async function allocationProfile(servers, id, scenario, cfg) {
  const server = servers.find((s) => s.id === id);
  if (!server) throw new Error(`unknown server ${id} (see --list)`);
  if (scenario !== 'echo') throw new Error('--alloc-prof samples the echo scenario only (its phase is marked)');
  const dir = join(here, 'results', 'tmp', 'allocations', `${id.replace(/\W+/g, '-')}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const cell = await runCell(server, scenario, 0, cfg, { allocProfDir: dir });
  console.log(`${scenario} ${server.id}: ${describeCell(cell)}`);
  if (!cell.ok) throw new Error(`the ${scenario} cell failed`);
  const file = readdirSync(dir).find((f) => f.endsWith('.heapprofile'));
  if (!file) throw new Error(`no allocation profile was written to ${dir}`);
  console.log(`\n${summarizeHeapProfile(join(dir, file), { top: 30, units: cell.metrics.echoes })}`);
  console.log(`\nProfile: ${relative(process.cwd(), join(dir, file))} (open it in Chrome DevTools > Memory)`);
}

main().catch((err) => {
  console.error(err?.stack ?? err);
  process.exitCode = 2;
});
