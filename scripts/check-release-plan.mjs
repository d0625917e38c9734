#!/usr/bin/env node
// Checks that the next release is what users expect: every published @primus/* package released
// together at one version (the changesets `fixed` group), that version the family's current one
// bumped by the largest change planned, never a major by accident, no private package released,
// and every range a published package declares on another family package satisfied by the new
// version (a peer range it leaves makes changesets plan a major for the dependents).
//
//   node scripts/check-release-plan.mjs               check the plan of the changesets in .changeset/
//   node scripts/check-release-plan.mjs --plan f.json check a plan written by `changeset status --output`
//
// A deliberate major (1.0.0) is allowed with RELEASE_ALLOW_MAJOR=1.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEPENDENCY_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies'];
const ORDER = ['none', 'patch', 'minor', 'major'];

/** Every package of the workspace, from the `packages:` globs of pnpm-workspace.yaml (`dir/*` or `dir`). */
export function workspacePackages(dir = root) {
  const yaml = readFileSync(path.join(dir, 'pnpm-workspace.yaml'), 'utf8');
  const globs = [];
  let inPackages = false;
  for (const line of yaml.split('\n')) {
    if (/^\S/.test(line)) inPackages = /^packages:\s*$/.test(line);
    const entry = inPackages && /^\s+-\s+['"]?([^'"#\s]+)['"]?/.exec(line);
    if (entry) globs.push(entry[1]);
  }
  const dirs = [];
  for (const glob of globs) {
    if (glob.endsWith('/*')) {
      const parent = path.join(dir, glob.slice(0, -2));
      if (!existsSync(parent)) continue;
      for (const name of readdirSync(parent).sort()) dirs.push(path.join(parent, name));
    } else dirs.push(path.join(dir, glob));
  }
  return dirs.filter((d) => existsSync(path.join(d, 'package.json'))).map((d) => ({ dir: d, json: JSON.parse(readFileSync(path.join(d, 'package.json'), 'utf8')) }));
}

/** Ask changesets for the release plan (`changeset status --output`). */
function readPlan() {
  const tmp = mkdtempSync(path.join(tmpdir(), 'release-plan-'));
  const output = path.join(tmp, 'plan.json');
  try {
    const bin = path.join(root, 'node_modules', '.bin', 'changeset');
    const run = spawnSync(bin, ['status', `--output=${output}`], { cwd: root, encoding: 'utf8' });
    if (run.status !== 0 || !existsSync(output)) {
      throw new Error(`\`changeset status\` failed (exit ${run.status}):\n${run.stdout}${run.stderr}${run.error ? String(run.error) : ''}`);
    }
    return JSON.parse(readFileSync(output, 'utf8'));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The problems with `plan` for the workspace `packages`; an empty list when it is fine. */
export function checkPlan(plan, packages, { allowMajor = false } = {}) {
  const problems = [];
  const byName = new Map(packages.map((p) => [p.json.name, p.json]));
  const published = packages.filter((p) => !p.json.private).map((p) => p.json);
  const releases = plan.releases.filter((r) => r.type !== 'none');
  if (releases.length === 0) return { problems, next: null };

  // The family's next version: its current one bumped by the largest change a changeset asks for.
  const asked = plan.changesets.flatMap((c) => c.releases).filter((r) => !byName.get(r.name)?.private);
  const bump = asked.reduce((max, r) => (ORDER.indexOf(r.type) > ORDER.indexOf(max) ? r.type : max), 'patch');
  const current = published.map((p) => p.version).reduce((max, v) => (semver.gt(v, max) ? v : max), '0.0.0');
  const next = semver.inc(current, bump);

  for (const release of releases) {
    const pkg = byName.get(release.name);
    if (!pkg) problems.push(`${release.name} is in the plan but not in the workspace.`);
    else if (pkg.private) problems.push(`${release.name} is private but planned for release at ${release.newVersion}; private packages stay out.`);
  }
  if (bump === 'major' && !allowMajor) {
    const who = [...new Set(asked.filter((r) => r.type === 'major').map((r) => r.name))].join(', ');
    problems.push(`a changeset asks for a major of ${who}; while the family is 0.x, breaking changes are minor. If 1.0.0 is intended, run with RELEASE_ALLOW_MAJOR=1.`);
  }
  // changesets reads a workspace:^ / ~ / * peer as that range on the current version, and plans a
  // major for the dependent once the new version leaves it.
  for (const pkg of published) {
    for (const [name, spec] of Object.entries(pkg.peerDependencies ?? {})) {
      const target = byName.get(name);
      if (!target || target.private || !spec.startsWith('workspace:')) continue;
      const op = spec.slice('workspace:'.length);
      const seen = op === '^' || op === '~' ? `${op}${target.version}` : op === '*' ? target.version : op;
      if (semver.validRange(seen) && !semver.satisfies(next, seen) && bump !== 'major') {
        problems.push(
          `${pkg.name}: peerDependencies["${name}"] is "${spec}", which changesets reads as "${seen}"; ${next} leaves it, so it plans a major ` +
            `for ${pkg.name} and, through the fixed group, for every package. Use "workspace:>=0.1.0 <1.0.0" (see .changeset/README.md).`,
        );
      }
    }
  }
  for (const pkg of published) {
    const release = releases.find((r) => r.name === pkg.name);
    if (!release) problems.push(`${pkg.name} is published but not in the plan; every @primus/* package is released at ${next} (add it to the \`fixed\` group).`);
    else if (release.newVersion !== next) {
      problems.push(`${pkg.name} would be released at ${release.newVersion}, not at the family's next version ${next} (${current} + ${bump}).`);
    }
  }
  // What pnpm publishes: workspace:^ / ~ / * become that operator on the version being released.
  for (const pkg of published) {
    for (const field of DEPENDENCY_FIELDS) {
      for (const [name, spec] of Object.entries(pkg[field] ?? {})) {
        const target = byName.get(name);
        if (!target || target.private) continue;
        let range = spec.startsWith('workspace:') ? spec.slice('workspace:'.length) : spec;
        if (range === '^' || range === '~') range = `${range}${next}`;
        if (range === '*') range = next;
        if (!semver.validRange(range)) problems.push(`${pkg.name}: ${field}["${name}"] is "${spec}", not a version range.`);
        else if (!semver.satisfies(next, range)) {
          problems.push(`${pkg.name}: ${field}["${name}"] is "${spec}", which ${name}@${next} does not satisfy.`);
        }
      }
    }
  }
  return { problems, next };
}

function main() {
  const args = process.argv.slice(2);
  const planFile = args[0] === '--plan' ? args[1] : args.find((a) => a.startsWith('--plan='))?.slice('--plan='.length);
  const plan = planFile ? JSON.parse(readFileSync(planFile, 'utf8')) : readPlan();
  const packages = workspacePackages();
  const { problems, next } = checkPlan(plan, packages, { allowMajor: process.env.RELEASE_ALLOW_MAJOR === '1' });
  if (problems.length) {
    console.error(`Release plan check failed:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    process.exit(1);
  }
  if (!next) console.log('Release plan: no release planned (no changesets).');
  else {
    const names = plan.releases
      .filter((r) => r.type !== 'none')
      .map((r) => r.name)
      .sort();
    console.log(`Release plan: ${names.length} packages at ${next}: ${names.join(', ')}.`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
