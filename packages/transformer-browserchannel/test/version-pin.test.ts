import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';

// This transformer reaches into browserchannel: src/transport.ts adjusts fields of its
// closure-compiled clients by their minified names (ChannelFields), and
// src/browserchannel-server.ts catches the session id generator its server module creates while
// it loads. A different build of browserchannel can rename or move any of them without a semver
// signal, so the dependency is pinned to the version these tests ran against.

const packageDir = path.join(__dirname, '..');
const manifest = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

describe('the browserchannel dependency', () => {
  it('is pinned to one exact version', () => {
    expect(manifest.dependencies.browserchannel).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('is installed at the pinned version', () => {
    const pinned = manifest.dependencies.browserchannel;
    const installed = (createRequire(path.join(packageDir, 'package.json'))('browserchannel/package.json') as { version: string }).version;
    if (installed !== pinned) {
      throw new Error(
        `browserchannel ${installed} is installed, but @primus/transformer-browserchannel is pinned to ${pinned}. ` +
          "The transformer addresses minified field names of browserchannel's closure-compiled clients (src/transport.ts, " +
          "ChannelFields) and its server module's session id generator (src/browserchannel-server.ts); before moving the pin, " +
          "check those against the new build and run this package's tests, browser suite included.",
      );
    }
  });
});
