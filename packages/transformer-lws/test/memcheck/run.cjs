#!/usr/bin/env node
'use strict';
// The memory-safety runs of the package's tests (never the browser suite, whose Chromium would
// inherit the preloaded sanitizer):
//
//   node test/memcheck/run.cjs asan       conformance, interop, package and stress tests against an
//                                         AddressSanitizer build of the binding, libasan preloaded
//   node test/memcheck/run.cjs valgrind   conformance, interop and stress tests (scaled down) under
//                                         valgrind's memcheck, which also sees inside libwebsockets
//
// Either fails when the tool reports an error in the binding or in libwebsockets.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
const repo = path.join(root, '..', '..');
const testFiles = (names) => names.map((name) => path.join('packages', 'transformer-lws', 'test', `${name}.test.ts`));
// jest's exports map hides its bin script; find it next to its package.json.
const jest = path.join(path.dirname(require.resolve('jest/package.json', { paths: [repo, root] })), 'bin', 'jest.js');
const mode = process.argv[2] ?? 'asan';

function run(command, args, env) {
  const result = spawnSync(command, args, { cwd: repo, stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status ?? 1;
}

if (mode === 'asan') {
  const { build } = require(path.join(root, 'scripts', 'build.cjs'));
  const binding = build({ asan: true, quiet: true });
  const libasan = spawnSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).stdout.trim();
  if (!libasan || !fs.existsSync(libasan)) {
    console.error('memcheck: libasan.so not found (install gcc)');
    process.exit(1);
  }
  // Node itself leaks at exit by design; leak reports would drown the signal.
  const status = run(process.execPath, [jest, ...testFiles(['conformance', 'interop', 'lws', 'stress']), '--no-watchman'], {
    PRIMUS_LWS_BINDING: binding,
    LD_PRELOAD: libasan,
    ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1:halt_on_error=1',
  });
  process.exit(status);
}

if (mode === 'valgrind') {
  const logs = fs.mkdtempSync(path.join(os.tmpdir(), 'primus-lws-valgrind-'));
  const status = run(
    'valgrind',
    [
      '--tool=memcheck',
      '--error-limit=no',
      // V8 writes the code it runs; valgrind must notice.
      '--smc-check=all-non-file',
      '--num-callers=40',
      '--leak-check=full',
      `--suppressions=${path.join(__dirname, 'node.supp')}`,
      `--log-file=${path.join(logs, 'vg.%p.log')}`,
      process.execPath,
      jest,
      // The package tests push tens of megabytes through back-pressure: AddressSanitizer covers them.
      ...testFiles(['conformance', 'interop', 'stress']),
      '--no-watchman',
      '-i',
    ],
    { PRIMUS_LWS_STRESS_SCALE: process.env.PRIMUS_LWS_STRESS_SCALE ?? '0.1' },
  );
  // An error whose stack passes through the binding or libwebsockets, or memory they lost.
  const ours = /binding\.c|primus_lws\.node|libwebsockets/;
  let findings = 0;
  for (const file of fs.readdirSync(logs)) {
    const blocks = fs.readFileSync(path.join(logs, file), 'utf8').split(/\n==\d+== \n/);
    for (const block of blocks) {
      const isError = /Invalid (read|write|free)|uninitialised|Mismatched free|definitely lost/.test(block);
      // Node-API's own reference bookkeeping for our handle is freed with the environment,
      // which the main thread never tears down.
      const nodeApi = /napi_create_external|napi_create_reference/.test(block);
      if (isError && ours.test(block) && !nodeApi) {
        findings++;
        console.error(block);
      }
    }
  }
  console.log(`memcheck: valgrind logs in ${logs}; ${findings} finding(s) in the binding or libwebsockets`);
  process.exit(status || (findings ? 1 : 0));
}

console.error(`memcheck: unknown mode "${mode}"; use asan or valgrind`);
process.exit(2);
