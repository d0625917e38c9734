#!/usr/bin/env node
'use strict';
// Builds the native binding with node-gyp against the system's libwebsockets. It runs as the
// package's install script, from `npm rebuild` / `pnpm rebuild`, and from the loader on first use
// when the package manager skipped install scripts (pnpm and npm only run them for packages the
// user approved).
//
//   node scripts/build.cjs            build unless build/Release/primus_lws.node is up to date
//   node scripts/build.cjs --force    always rebuild
//   node scripts/build.cjs --check    only check the prerequisites
//   node scripts/build.cjs --asan     rebuild with AddressSanitizer (for the memory-safety run)

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const binary = path.join(root, 'build', 'Release', 'primus_lws.node');
// Outside build/: node-gyp rebuild deletes that directory.
const asanBinary = path.join(root, 'build-asan', 'primus_lws.node');
const sources = ['binding.gyp', 'native/binding.c'].map((file) => path.join(root, file));

/** The one sentence a user sees when the system library is missing. */
const INSTALL_HINT =
  '@primus/transformer-lws needs libwebsockets 4.1 or later built with libuv support, plus pkg-config and a C compiler: on Debian or Ubuntu run "sudo apt-get install pkg-config build-essential libwebsockets-dev", then reinstall the package.';

class BuildError extends Error {}

function run(command, args, options = {}) {
  return spawnSync(command, args, { encoding: 'utf8', ...options });
}

function pkgConfig(...args) {
  const result = run('pkg-config', [...args, 'libwebsockets']);
  if (result.error || result.status !== 0) return null;
  return result.stdout.trim();
}

/** Throws a BuildError with the install hint when libwebsockets cannot be used. */
function checkPrerequisites() {
  if (process.platform === 'win32') throw new BuildError('@primus/transformer-lws supports Linux and macOS only; use the websockets transformer on Windows.');
  if (pkgConfig('--exists') === null) throw new BuildError(INSTALL_HINT);
  if (pkgConfig('--atleast-version=4.1') === null) throw new BuildError(INSTALL_HINT);
  const includedir = pkgConfig('--variable=includedir');
  const libdir = pkgConfig('--variable=libdir');
  const config = includedir ? path.join(includedir, 'lws_config.h') : '';
  const text = config && fs.existsSync(config) ? fs.readFileSync(config, 'utf8') : '';
  if (!/^#define LWS_WITH_LIBUV\b/m.test(text)) throw new BuildError(INSTALL_HINT);
  // Distributions build the libuv support as a plugin that is loaded at run time.
  if (/^#define LWS_WITH_EVLIB_PLUGINS\b/m.test(text) && libdir && !fs.existsSync(path.join(libdir, 'libwebsockets-evlib_uv.so'))) {
    throw new BuildError(INSTALL_HINT);
  }
}

/** node-gyp: the one the package manager provides to install scripts, or npm's own. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    (() => {
      try {
        return require.resolve('node-gyp/bin/node-gyp.js', { paths: [root, process.cwd()] });
      } catch {
        return undefined;
      }
    })(),
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  for (const candidate of candidates) if (candidate && fs.existsSync(candidate)) return candidate;
  throw new BuildError('@primus/transformer-lws needs node-gyp to build its binding: install npm (which bundles it) or run "npm install -g node-gyp".');
}

/** Node's own headers when they sit next to the binary, so node-gyp downloads nothing. */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'common.gypi')) ? [`--nodedir=${prefix}`] : [];
}

function upToDate() {
  if (!fs.existsSync(binary)) return false;
  const built = fs.statSync(binary).mtimeMs;
  return sources.every((file) => fs.statSync(file).mtimeMs <= built);
}

function nodeGyp(args, quiet) {
  const result = run(process.execPath, [findNodeGyp(), ...args, ...nodedirArgs()], { cwd: root, stdio: quiet ? 'pipe' : 'inherit' });
  if (result.error || result.status !== 0) {
    const output = quiet ? `\n${(result.stdout || '') + (result.stderr || '')}`.trimEnd() : '';
    throw new BuildError(`@primus/transformer-lws: building the native binding failed (node-gyp exited with ${result.status ?? result.error}).${output}`);
  }
}

/**
 * Build the binding; `quiet` keeps node-gyp's output unless it fails. `asan` builds an
 * AddressSanitizer variant into build-asan/ (load it with PRIMUS_LWS_BINDING and libasan
 * preloaded) and leaves the regular one in place.
 */
function build({ force = false, asan = false, quiet = false } = {}) {
  checkPrerequisites();
  if (asan) {
    nodeGyp(['rebuild', '--sanitize=address'], quiet);
    fs.mkdirSync(path.dirname(asanBinary), { recursive: true });
    fs.copyFileSync(binary, asanBinary);
    nodeGyp(['rebuild'], quiet);
    return asanBinary;
  }
  if (!force && upToDate()) return binary;
  nodeGyp(['rebuild'], quiet);
  return binary;
}

module.exports = { build, checkPrerequisites, binary, asanBinary, INSTALL_HINT, BuildError };

if (require.main === module) {
  const flags = new Set(process.argv.slice(2));
  try {
    if (flags.has('--check')) checkPrerequisites();
    else build({ force: flags.has('--force'), asan: flags.has('--asan') });
  } catch (err) {
    if (!(err instanceof BuildError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}
