// Temporary shim: the browser bundle is built by the repository's scripts/bundle-browser.mjs.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
execFileSync(process.execPath, [join(pkg, '../../scripts/bundle-browser.mjs'), 'src/browser.ts', 'src/generated/library.ts', 'library'], { cwd: pkg, stdio: 'inherit' });
