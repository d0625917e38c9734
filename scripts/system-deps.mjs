// Make sure the system programs the tests drive are present: Debian's Chromium (browser tests) and
// redis-server (cluster tests). As root on Debian they are installed with apt-get; anywhere else
// the script says what to install and fails, so a test run never half-passes for want of them.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const needed = [
  { pkg: 'chromium', binary: '/usr/bin/chromium', env: 'PRIMUS_CHROMIUM' },
  { pkg: 'redis-server', binary: '/usr/bin/redis-server' },
];

const missing = needed.filter(({ binary, env }) => !existsSync((env && process.env[env]) || binary)).map(({ pkg }) => pkg);
if (missing.length === 0) process.exit(0);

const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
if (!canInstall) {
  console.error(`The tests need ${missing.join(' and ')}. Install them (Debian/Ubuntu: sudo apt-get install ${missing.join(' ')}) and run the tests again.`);
  process.exit(1);
}
console.log(`Installing ${missing.join(', ')} with apt-get for the tests...`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
