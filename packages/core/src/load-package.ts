import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join } from 'node:path';
import { PrimusError } from './errors';

// Loading transformer, parser and plugin packages by name.
//
// `new Primus()` is synchronous, so a named package is loaded with `require()`. In the CommonJS
// build of the core that loads the package's CommonJS build, as in any CommonJS application. The
// ES module build of the core must load the package's ES module build instead: the CommonJS build
// would bring its own CommonJS copy of `@primus/core` and `@primus/client`, two copies of each in
// one process. So that build reads the package's `exports` map with the `import` conditions and
// `require()`s the ES module file it names: Node 20.19 and later (and 22.12 and later) load ES
// modules synchronously that way, into the same module cache `import` uses, so the application
// and the core share one instance of the package and, through it, of the core. Older Node
// versions cannot; there the CommonJS build is loaded with a warning.

/** Set by the build: true in the ES module build of the core, false in the CommonJS build. */
declare const __PRIMUS_ESM__: boolean | undefined;
const ESM_BUILD = typeof __PRIMUS_ESM__ !== 'undefined' && __PRIMUS_ESM__;

const IMPORT_CONDITIONS = ['node', 'import', 'default'];

/** What a name stands for; it picks the naming convention. */
export type PackageKind = 'transformer' | 'parser' | 'plugin';

const PACKAGE_NAME = /^(@[a-z0-9][\w.~-]*\/)?[a-z0-9][\w.~-]*$/i;

/** Whether `name` can be an npm package name (optionally scoped); paths and URLs cannot. */
export function isPackageName(name: string): boolean {
  return PACKAGE_NAME.test(name);
}

/**
 * The packages a name may stand for, in the order they are tried. A scoped name (`@acme/x`) or a
 * name already in the convention (`primus-transformer-x`) is only itself; any other name `x` is
 * `@primus/<kind>-x`, then `primus-<kind>-x`, then the package `x` itself.
 */
export function packageCandidates(kind: PackageKind, name: string): string[] {
  if (name.startsWith('@') || name.toLowerCase().startsWith(`primus-${kind}-`)) return [name];
  const lower = name.toLowerCase();
  return [...new Set([`@primus/${kind}-${lower}`, `primus-${kind}-${lower}`, name])];
}

/**
 * The `require` functions to resolve from: the core's own, then the application's (the working
 * directory and the main module), because with pnpm's strict layout the core cannot see packages
 * that only the application depends on.
 */
function requirers(): NodeJS.Require[] {
  const list: NodeJS.Require[] = [require, createRequire(join(process.cwd(), 'noop.js'))];
  if (require.main?.filename) list.push(createRequire(require.main.filename));
  // An ES module entry point has no require.main; the script node was started with stands in.
  else if (process.argv[1] && isAbsolute(process.argv[1])) list.push(createRequire(process.argv[1]));
  return list;
}

function isNotFound(err: unknown, name: string): boolean {
  return (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes(`'${name}'`);
}

/** The target an `exports` entry names for `conditions`; null when the entry refuses them. */
function exportTarget(entry: unknown, conditions: readonly string[]): string | null {
  if (typeof entry === 'string') return entry;
  if (Array.isArray(entry)) {
    for (const item of entry) {
      const target = exportTarget(item, conditions);
      if (target !== null) return target;
    }
    return null;
  }
  if (entry && typeof entry === 'object') {
    for (const [condition, value] of Object.entries(entry)) {
      if (!conditions.includes(condition)) continue;
      const target = exportTarget(value, conditions);
      if (target !== null) return target;
    }
  }
  return null;
}

interface Manifest {
  type?: string;
  main?: string;
  exports?: unknown;
}

/** The file a package's main entry maps to under `conditions`, or null when it has none. */
function entryPoint(dir: string, manifest: Manifest, conditions: readonly string[]): string | null {
  const { exports } = manifest;
  if (exports === undefined || exports === null) {
    return manifest.type === 'module' ? join(dir, manifest.main ?? 'index.js') : null;
  }
  const subpaths = typeof exports === 'object' && !Array.isArray(exports) && Object.keys(exports).some((key) => key.startsWith('.'));
  const target = exportTarget(subpaths ? (exports as Record<string, unknown>)['.'] : exports, conditions);
  return target?.startsWith('./') ? join(dir, target) : null;
}

/** The package's folder as `req` would find it, or undefined when it is not installed there. */
function packageDir(req: NodeJS.Require, name: string): string | undefined {
  for (const base of req.resolve.paths(name) ?? []) {
    const dir = join(base, name);
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return undefined;
}

let warnedFallback = false;

/** Load `name` the way an ES module application imports it, or undefined when `req` cannot find it. */
function loadAsImport(req: NodeJS.Require, name: string): { value: unknown } | undefined {
  const dir = packageDir(req, name);
  if (!dir) return undefined;
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
  const file = entryPoint(dir, manifest, IMPORT_CONDITIONS);
  // A CommonJS-only package: an ES module application gets its CommonJS build too.
  if (!file) return { value: req(name) };
  try {
    return { value: req(file) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // This Node cannot require() ES modules (before 20.19), or the module awaits at its top level.
    if (code !== 'ERR_REQUIRE_ESM' && code !== 'ERR_REQUIRE_ASYNC_MODULE') throw err;
    if (!warnedFallback) {
      warnedFallback = true;
      process.emitWarning(
        `${name} was loaded as CommonJS next to the ES module build of @primus/core, so the process holds two copies of the core. ` +
          'Use Node 20.19 or later, or import the package and pass the object instead of its name.',
        { code: 'PRIMUS_WARN_COMMONJS_FALLBACK' },
      );
    }
    return { value: req(name) };
  }
}

/** Load `name` the way a CommonJS application requires it, or undefined when `req` cannot find it. */
function loadAsRequire(req: NodeJS.Require, name: string): { value: unknown } | undefined {
  try {
    return { value: req(name) };
  } catch (err) {
    if (isNotFound(err, name)) return undefined;
    // An ES module-only package has no `require` entry: load its `import` entry.
    if ((err as NodeJS.ErrnoException).code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') {
      const dir = packageDir(req, name);
      const file = dir && entryPoint(dir, JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest, IMPORT_CONDITIONS);
      if (file) return { value: req(file) };
    }
    throw err;
  }
}

/**
 * Load an installed package by its name, in the module system the core itself was loaded in.
 * Returns undefined when no package of that name is installed; errors thrown while loading an
 * installed package propagate.
 */
export function loadOptional(name: string): unknown {
  for (const req of requirers()) {
    const loaded = ESM_BUILD ? loadAsImport(req, name) : loadAsRequire(req, name);
    if (loaded) return loaded.value;
  }
  return undefined;
}

/**
 * Load the first installed package of `packageCandidates(kind, name)`: `{ pkg, module }`, or
 * undefined when none is installed.
 */
export function loadNamed(kind: PackageKind, name: string): { pkg: string; module: unknown } | undefined {
  for (const pkg of packageCandidates(kind, name)) {
    const module = loadOptional(pkg);
    if (module !== undefined) return { pkg, module };
  }
  return undefined;
}

/**
 * Load a plugin package named in the `plugin` option or `use(name, 'package')`: the first
 * installed of `packageCandidates('plugin', name)`. Throws `PRIMUS_ERR_PLUGIN` naming the package
 * to install.
 */
export function loadPlugin(name: string): { default?: unknown } {
  const candidates = isPackageName(name) ? packageCandidates('plugin', name) : [];
  if (!candidates.length) throw new PrimusError('PRIMUS_ERR_PLUGIN', `The plugin "${name}" is not a package name: pass the plugin object instead`);
  const found = loadNamed('plugin', name);
  if (!found) {
    const install = candidates.length > 1 ? `${candidates[candidates.length - 1]} (tried ${candidates.join(', ')})` : candidates[0];
    throw new PrimusError('PRIMUS_ERR_PLUGIN', `Cannot find the plugin package "${name}": install it first: npm install ${install}`);
  }
  return found.module as { default?: unknown };
}
