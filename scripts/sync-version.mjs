#!/usr/bin/env node
// Run after `changeset version` (the root `version-packages` script does): writes the version of
// packages/core/package.json into packages/core/src/version.ts, which the server reports in
// `/primus/spec` and compiles into every client.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const core = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../packages/core');
const { version } = JSON.parse(readFileSync(path.join(core, 'package.json'), 'utf8'));
const file = path.join(core, 'src/version.ts');
const text = `/** The version of @primus/core; a test keeps it equal to package.json's. */\nexport const VERSION = '${version}';\n`;
if (readFileSync(file, 'utf8') !== text) {
  writeFileSync(file, text);
  console.log(`packages/core/src/version.ts: ${version}`);
}
