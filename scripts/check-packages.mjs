#!/usr/bin/env node
// Checks every published package the way a user receives it: packed with `pnpm pack` (workspace:
// ranges replaced, only the `files` shipped), then
//   - publint: package.json fields against the files in the tarball (warnings fail, suggestions print);
//   - @arethetypeswrong/cli: every entry point resolves to types that match its JavaScript, for
//     require and import, under node10, node16 and bundler resolution;
//   - one copy of the core and the client: a package that uses @primus/core or @primus/client
//     declares it as a peer dependency (only the core depends on the client), every peer range on
//     them is the same across the family, and no built file carries their code or that of
//     @primus/protocol, whose error classes must stay one copy too (source maps list only the
//     package's own sources).
//
//   node scripts/check-packages.mjs                 every published package (run `pnpm build` first)
//   node scripts/check-packages.mjs core ws         only the packages whose directory or name matches
//   node scripts/check-packages.mjs --keep DIR      leave the tarballs in DIR
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

/** The packages `changeset publish` would publish: every non-private package under packages/. */
export function publishedPackages() {
  const dir = path.join(root, 'packages');
  return readdirSync(dir)
    .sort()
    .filter((name) => existsSync(path.join(dir, name, 'package.json')))
    .map((name) => ({ dir: path.join(dir, name), short: name, json: JSON.parse(readFileSync(path.join(dir, name, 'package.json'), 'utf8')) }))
    .filter((pkg) => !pkg.json.private);
}

/** Pack one package with pnpm into `dest`; returns the tarball's path. */
export async function pack(pkg, dest) {
  const before = new Set(existsSync(dest) ? readdirSync(dest) : []);
  await run(bin('pnpm'), ['pack', '--pack-destination', dest], { cwd: pkg.dir, maxBuffer: 16 << 20 });
  const created = readdirSync(dest).filter((file) => file.endsWith('.tgz') && !before.has(file));
  const expected = `${pkg.json.name.replace(/^@/, '').replace('/', '-')}-${pkg.json.version}.tgz`;
  if (!created.includes(expected) && !existsSync(path.join(dest, expected))) throw new Error(`pnpm pack in ${pkg.dir} did not write ${expected}`);
  return path.join(dest, expected);
}

/** Run a tool, returning its output and whether it succeeded. */
async function tool(file, args) {
  try {
    const { stdout, stderr } = await run(file, args, { cwd: root, maxBuffer: 16 << 20, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
    return { ok: true, output: `${stdout}${stderr}` };
  } catch (error) {
    return { ok: false, output: `${error.stdout ?? ''}${error.stderr ?? ''}${error.stdout || error.stderr ? '' : String(error)}` };
  }
}

async function publint(tarball) {
  // --strict: warnings fail too; suggestions are printed without failing.
  const result = await tool(bin('publint'), ['run', tarball, '--strict']);
  const problems = /^(Errors|Warnings):/m.test(result.output);
  return { ok: result.ok && !problems, output: result.output.trim() };
}

async function attw(tarball) {
  // The library checks in this process (TypeScript loads once for all packages); the CLI draws its
  // table only for a package with problems.
  const { checkPackage, createPackageFromTarballData } = await import('@arethetypeswrong/core');
  const analysis = await checkPackage(createPackageFromTarballData(new Uint8Array(readFileSync(tarball))));
  if (analysis.types === false) return { ok: false, output: 'the package ships no types' };
  if (analysis.problems.length === 0) return { ok: true, output: '' };
  const result = await tool(bin('attw'), [tarball, '--format', 'table-flipped']);
  return { ok: false, output: result.output.trim() };
}

const FAMILY = ['@primus/core', '@primus/client'];

/** Every file under `dir`, relative to it. */
function files(dir, prefix = '') {
  return readdirSync(path.join(dir, prefix)).flatMap((name) => {
    const rel = path.join(prefix, name);
    return statSync(path.join(dir, rel)).isDirectory() ? files(dir, rel) : [rel];
  });
}

/**
 * The one-copy rules, read from the unpacked tarball: which of the core and the client its built
 * files name, how its package.json declares them, and whether any built file carries their code.
 */
export function oneCopyProblems(unpacked, name) {
  const json = JSON.parse(readFileSync(path.join(unpacked, 'package.json'), 'utf8'));
  const problems = [];
  const shipped = files(unpacked);
  const code = shipped.filter((file) => /\.(c|m)?js$/.test(file) || /\.d\.(c|m)?ts$/.test(file));
  for (const family of FAMILY) {
    if (family === name) continue;
    // import ... from 'x', import 'x', import('x'), require('x'), export ... from 'x'
    const quoted = new RegExp(`(?:\\bfrom|\\bimport|\\brequire)\\s*\\(?\\s*["']${family.replace('/', '\\/')}(/[^"']*)?["']`);
    const users = code.filter((file) => quoted.test(readFileSync(path.join(unpacked, file), 'utf8')));
    const dependency = json.dependencies?.[family];
    const peer = json.peerDependencies?.[family];
    const coreOwnsClient = name === '@primus/core' && family === '@primus/client';
    if (coreOwnsClient) {
      if (!dependency) problems.push(`${family} must be a dependency of the core (it serves the client library)`);
      if (peer) problems.push(`${family} is both a dependency and a peer dependency`);
      continue;
    }
    if (dependency) {
      problems.push(`${family} is in "dependencies" (${dependency}): an application could then hold a second copy; declare it in "peerDependencies"`);
    }
    if (users.length > 0 && !peer && !json.peerDependenciesMeta?.[family]?.optional) {
      problems.push(`${users.join(', ')} import${users.length === 1 ? 's' : ''} ${family}, which is not in "peerDependencies"`);
    }
  }
  // Source maps name every module a bundle was built from: only the package's own sources belong.
  for (const map of shipped.filter((file) => file.endsWith('.map'))) {
    const { sources = [] } = JSON.parse(readFileSync(path.join(unpacked, map), 'utf8'));
    const foreign = sources.filter((source) => {
      const normal = source.replace(/\\/g, '/');
      return (/(^|\/)(core|client|protocol)\/src\//.test(normal) && !normal.startsWith('../src/')) || /node_modules\/@primus\/(core|client|protocol)\//.test(normal);
    });
    if (foreign.length > 0) problems.push(`${map} was built from ${foreign.join(', ')}: the core, the client or the protocol kernel is bundled in; mark it external`);
  }
  // Without source maps, esbuild's module comments (`// ../core/src/primus.ts`) give it away.
  for (const file of code.filter((file) => /\.(c|m)?js$/.test(file))) {
    const text = readFileSync(path.join(unpacked, file), 'utf8');
    const marker = /^\/\/ (?:\.\.\/)+(?:packages\/)?(core|client|protocol)\/src\/\S+$|^\/\/ \S*node_modules\/@primus\/(core|client|protocol)\/\S+$/m.exec(text);
    if (marker) problems.push(`${file} contains a module of @primus/${marker[1] ?? marker[2]} (${marker[0].slice(3)}): mark it external`);
  }
  return { problems, peers: Object.fromEntries(FAMILY.map((family) => [family, json.peerDependencies?.[family]]).filter(([, range]) => range)) };
}

/** Every package's peer range on the core (and on the client) is the same one. */
export function peerRangeProblems(peersByPackage) {
  const problems = [];
  for (const family of FAMILY) {
    const ranges = new Map();
    for (const [name, peers] of Object.entries(peersByPackage)) {
      if (!peers[family]) continue;
      ranges.set(peers[family], [...(ranges.get(peers[family]) ?? []), name]);
    }
    if (ranges.size > 1) {
      problems.push(`packages declare different peer ranges on ${family}: ${[...ranges].map(([range, names]) => `"${range}" (${names.join(', ')})`).join('; ')}`);
    }
  }
  return problems;
}

async function main() {
  const args = process.argv.slice(2);
  let keep;
  const filters = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--keep') keep = args[++i];
    else filters.push(args[i]);
  }
  let packages = publishedPackages();
  if (filters.length > 0) packages = packages.filter((pkg) => filters.some((f) => pkg.short === f || pkg.json.name === f || pkg.short.endsWith(`-${f}`)));
  if (packages.length === 0) throw new Error(`no published package matches ${filters.join(' ')}`);
  for (const pkg of packages) {
    if (!existsSync(path.join(pkg.dir, 'dist'))) throw new Error(`${pkg.json.name} has no dist/: run \`pnpm build\` first`);
  }

  const work = mkdtempSync(path.join(tmpdir(), 'primus-check-packages-'));
  const dest = keep ? path.resolve(keep) : path.join(work, 'tarballs');
  mkdirSync(dest, { recursive: true });
  let failed = 0;
  const peers = {};
  try {
    // pnpm starts slowly: pack two at a time.
    const tarballs = new Map();
    const queue = [...packages];
    await Promise.all(
      [0, 1].map(async () => {
        for (let pkg = queue.shift(); pkg; pkg = queue.shift()) tarballs.set(pkg, await pack(pkg, dest));
      }),
    );
    for (const pkg of packages) {
      const tarball = tarballs.get(pkg);
      const unpacked = path.join(work, pkg.short);
      mkdirSync(unpacked);
      await run('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1']);
      const [lint, types] = await Promise.all([publint(tarball), attw(tarball)]);
      const copies = oneCopyProblems(unpacked, pkg.json.name);
      peers[pkg.json.name] = copies.peers;
      const ok = lint.ok && types.ok && copies.problems.length === 0;
      if (!ok) failed++;
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${pkg.json.name} (${path.basename(tarball)})`);
      if (!lint.ok || /Suggestions:/.test(lint.output)) console.log(indent(`publint:\n${lint.output}`));
      if (!types.ok) console.log(indent(`attw:\n${types.output}`));
      for (const problem of copies.problems) console.log(indent(`one copy: ${problem}`));
    }
    const rangeProblems = filters.length === 0 ? peerRangeProblems(peers) : [];
    for (const problem of rangeProblems) console.log(`FAIL ${problem}`);
    if (rangeProblems.length > 0) failed++;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (failed > 0) {
    console.log(`check-packages: problems in ${failed} of ${packages.length} packages (or their ranges), listed above`);
    process.exitCode = 1;
  } else console.log(`check-packages: all ${packages.length} packages are clean`);
}

function indent(text) {
  return text
    .split('\n')
    .map((line) => `     ${line}`)
    .join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
