import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { PACKAGE_ROOT } from '../src/native';

// The install step: what a user sees when libwebsockets is missing, and what the loader does
// when the package manager skipped the install script.

const script = join(PACKAGE_ROOT, 'scripts', 'build.cjs');
const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe('installing', () => {
  it('fails with one sentence that says what to install when libwebsockets is missing', () => {
    // pkg-config finds nothing in an empty search path, as on a machine without the -dev package.
    const result = spawnSync(process.execPath, [script, '--check'], { env: { ...process.env, PKG_CONFIG_LIBDIR: '/nonexistent', PKG_CONFIG_PATH: '' }, encoding: 'utf8' });
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^@primus\/transformer-lws needs libwebsockets .* apt-get install .*libwebsockets-dev.*\.$/);
  });

  it('builds the binding from a clean copy of the package, as its install script does', () => {
    const copy = mkdtempSync(join(tmpdir(), 'primus-lws-install-'));
    try {
      for (const entry of ['binding.gyp', 'native', 'scripts']) cpSync(join(PACKAGE_ROOT, entry), join(copy, entry), { recursive: true });
      const result = spawnSync(process.execPath, [join(copy, 'scripts', 'build.cjs')], { cwd: copy, encoding: 'utf8' });
      expect(result.status).toBe(0);
      const built = join(copy, 'build', 'Release', 'primus_lws.node');
      expect(existsSync(built)).toBe(true);
      // Loads, and is linked against the system's libwebsockets.
      expect((require(built) as { version: string }).version).toMatch(/^4\./);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 120000);

  it('reports the install hint at new Primus() when the binding is missing and cannot be built', () => {
    process.env.PRIMUS_LWS_BINDING = join(PACKAGE_ROOT, 'build', 'missing', 'primus_lws.node');
    process.env.PKG_CONFIG_LIBDIR = '/nonexistent';
    process.env.PKG_CONFIG_PATH = '';
    jest.isolateModules(() => {
      const { Primus } = require('@primus/core') as typeof import('@primus/core');
      const { default: lws } = require('../src') as typeof import('../src');
      let error: (Error & { code?: string }) | undefined;
      try {
        new Primus(http.createServer(), { transformer: lws });
      } catch (err) {
        error = err as Error & { code?: string };
      }
      expect(error?.code).toBe('LWS_ERR_BINDING');
      expect(error?.message).toMatch(/needs libwebsockets .*libwebsockets-dev/);
    });
  });
});
