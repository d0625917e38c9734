#!/usr/bin/env node
// TypeScript project references follow package.json. Every workspace package has a composite
// project for its sources (`<package>/tsconfig.json`) and one for its tests
// (`<package>/test/tsconfig.json`); the root tsconfig.json lists them all, so `tsc -b` checks the
// whole repository. tsconfig.base.json maps every `@primus/*` name to that package's sources, and a
// composite project may only compile files of its own or of a project it references: importing a
// workspace package the project does not reference fails `tsc -b` (TS6307). This script keeps the
// references equal to what package.json declares, so that failure means "not declared":
//
// - a source project references the workspace packages in dependencies, peerDependencies and
//   optionalDependencies (what a user's install provides);
// - a test project references its own source project, those packages, the devDependencies, and
//   the packages whose build the package's turbo `test` task depends on (packages the tests use
//   but cannot list as devDependencies without a dependency cycle, such as the core's tests using
//   @primus/transformer-ws).
//
//   node scripts/check-project-references.mjs          check; exit code 1 and one line per difference
//   node scripts/check-project-references.mjs --write  rewrite the `references` lists to match
//
// Run by `pnpm test` (and so by CI) before `tsc -b`. Packages with a standalone tsconfig (the
// transformer template, which is copied out of the repository) are listed in STANDALONE and only
// have to be in the root solution.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const write = process.argv.includes('--write');
const STANDALONE = new Set(['templates/transformer-template']);
const problems = [];

const readJson = (file) => {
  const { config, error } = ts.readConfigFile(file, ts.sys.readFile);
  if (error) throw new Error(`${relative(root, file)}: ${ts.flattenDiagnosticMessageText(error.messageText, '\n')}`);
  return config;
};

/** Workspace packages: directory (relative to the root) by package name. */
const packages = new Map();
for (const parent of ['packages', 'examples', 'templates']) {
  for (const name of readdirSync(join(root, parent)).sort()) {
    const file = join(root, parent, name, 'package.json');
    if (existsSync(file)) packages.set(JSON.parse(readFileSync(file, 'utf8')).name, `${parent}/${name}`);
  }
}

/** Packages whose build a package's turbo `test` task waits for, by package name. */
const testBuilds = new Map();
const turbo = JSON.parse(readFileSync(join(root, 'turbo.json'), 'utf8'));
for (const [task, { dependsOn = [] }] of Object.entries(turbo.tasks)) {
  const [pkg, name] = task.split('#');
  if (name !== 'test' || !pkg) continue;
  testBuilds.set(
    pkg,
    dependsOn.filter((dep) => dep.endsWith('#build')).map((dep) => dep.slice(0, -'#build'.length)),
  );
}

const workspace = (deps) => Object.keys(deps ?? {}).filter((name) => packages.has(name));

/** Compare (or rewrite) the references of one project with the directories it should reference. */
function checkProject(configFile, expectedDirs, why, allowedDirs = []) {
  const rel = relative(root, configFile);
  if (!existsSync(configFile)) {
    problems.push(`${rel}: missing (${why})`);
    return;
  }
  const here = dirname(configFile);
  const expected = [...new Set(expectedDirs.map((dir) => resolve(root, dir)))].sort();
  const config = readJson(configFile);
  const actual = (config.references ?? []).map((ref) => resolve(here, ref.path)).sort();
  if (!config.compilerOptions?.composite) problems.push(`${rel}: needs "composite": true to be referenced`);
  const missing = expected.filter((dir) => !actual.includes(dir));
  const allowed = allowedDirs.map((dir) => resolve(root, dir));
  const extra = actual.filter((dir) => !expected.includes(dir) && !allowed.includes(dir));
  if (missing.length === 0 && extra.length === 0) return;
  if (write) {
    const text = readFileSync(configFile, 'utf8');
    const kept = actual.filter((dir) => allowed.includes(dir) && !expected.includes(dir));
    const list = [...expected, ...kept].map((dir) => `    { "path": "${relative(here, dir) || '.'}" }`).join(',\n');
    const block = list === '' ? '"references": []' : `"references": [\n${list}\n  ]`;
    const next = /"references"\s*:\s*\[[^\]]*\]/.test(text) ? text.replace(/"references"\s*:\s*\[[^\]]*\]/, block) : text.replace(/\n}\s*$/, `,\n  ${block}\n}\n`);
    writeFileSync(configFile, next);
    console.log(`${rel}: references rewritten`);
    return;
  }
  for (const dir of missing) problems.push(`${rel}: does not reference ${relative(root, dir)} (${why})`);
  for (const dir of extra) problems.push(`${rel}: references ${relative(root, dir)}, which package.json does not declare`);
}

const solution = [];
for (const [name, dir] of packages) {
  const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  const hasSrc = existsSync(join(root, dir, 'src'));
  const hasTest = existsSync(join(root, dir, 'test'));
  if (STANDALONE.has(dir)) {
    solution.push(dir);
    continue;
  }
  const runtime = [...workspace(pkg.dependencies), ...workspace(pkg.peerDependencies), ...workspace(pkg.optionalDependencies)];
  const forTests = [...runtime, ...workspace(pkg.devDependencies), ...(testBuilds.get(name) ?? [])].filter((dep) => dep !== name);
  const projectDir = (dep) => {
    const depDir = packages.get(dep);
    return existsSync(join(root, depDir, 'src')) || STANDALONE.has(depDir) ? depDir : undefined;
  };
  if (hasSrc) {
    solution.push(dir);
    checkProject(join(root, dir, 'tsconfig.json'), runtime.map(projectDir).filter(Boolean), `${name} declares it`);
  }
  if (hasTest) {
    solution.push(`${dir}/test`);
    const refs = forTests.map(projectDir).filter(Boolean);
    if (hasSrc) refs.push(dir);
    // Tests may also use the test helpers of a package they declare (the redis test's processes).
    const helpers = forTests.map((dep) => `${packages.get(dep)}/test`).filter((testDir) => existsSync(join(root, testDir)));
    checkProject(join(root, dir, 'test', 'tsconfig.json'), refs, `${name} declares it or its tests' turbo task builds it`, helpers);
  }
}

// The root solution lists every project, so `tsc -b` at the root checks them all.
const rootConfig = readJson(join(root, 'tsconfig.json'));
const listed = new Set((rootConfig.references ?? []).map((ref) => relative(root, resolve(root, ref.path))));
for (const dir of solution) if (!listed.has(dir)) problems.push(`tsconfig.json: the root solution does not reference ${dir}`);
for (const dir of listed) if (!solution.includes(dir)) problems.push(`tsconfig.json: references ${dir}, which is not a workspace project`);

if (problems.length > 0) {
  console.error(`Project references differ from package.json (${problems.length}):`);
  for (const problem of problems) console.error(`  ${problem}`);
  console.error('Run `node scripts/check-project-references.mjs --write` after changing dependencies.');
  process.exit(1);
}
if (!write) console.log(`Project references: ${solution.length} projects reference exactly what their package.json declares.`);
