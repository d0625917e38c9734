// Make sure the system packages this repository needs are present: libwebsockets (the lws
// transformer's native addon is built against it when the workspace installs), and, for the tests,
// Debian's Chromium (browser tests), redis-server and redis-sentinel (cluster and failover tests),
// nginx and HAProxy (the deployment tests put them in front of a cluster). As root on Debian or
// Ubuntu they are installed with apt-get; anywhere else the script names what to install and fails.
//
//   node scripts/system-deps.mjs          everything the tests need
//   node scripts/system-deps.mjs --build  only what installing and building need (the demo)
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const buildOnly = process.argv.includes('--build');

function hasLibwebsockets() {
  try {
    execFileSync('pkg-config', ['--exists', 'libwebsockets'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const needed = [
  { pkgs: ['pkg-config', 'libwebsockets-dev'], present: hasLibwebsockets },
  ...(buildOnly
    ? []
    : [
        { pkgs: ['chromium'], present: () => existsSync(process.env.PRIMUS_CHROMIUM || '/usr/bin/chromium') },
        { pkgs: ['redis-server'], present: () => existsSync('/usr/bin/redis-server') },
        { pkgs: ['redis-sentinel'], present: () => existsSync('/usr/bin/redis-sentinel') },
        { pkgs: ['nginx'], present: () => existsSync('/usr/sbin/nginx') },
        { pkgs: ['haproxy'], present: () => existsSync('/usr/sbin/haproxy') },
      ]),
];

const missing = needed.filter(({ present }) => !present()).flatMap(({ pkgs }) => pkgs);
if (missing.length === 0) process.exit(0);

const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
if (!canInstall) {
  console.error(`This needs the system packages ${missing.join(', ')}. Install them (Debian/Ubuntu: sudo apt-get install ${missing.join(' ')}) and run the command again.`);
  process.exit(1);
}
console.log(`Installing ${missing.join(', ')} with apt-get...`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
