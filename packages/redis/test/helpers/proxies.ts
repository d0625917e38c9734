import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exited, freePort, onCleanup } from './processes';

/** The deployment configurations, exactly as docs/operations.md and the README show them. */
export const DEPLOY_DIR = path.resolve(__dirname, '../../deploy');

/** The addresses the templates use for the three servers, in order, and what each proxy listens on. */
const TEMPLATE_SERVERS = ['10.0.0.11:8080', '10.0.0.12:8080', '10.0.0.13:8080'];
const TEMPLATE_LISTEN = { nginx: 'listen 80;', haproxy: 'bind :80' } as const;

export type ProxyKind = keyof typeof TEMPLATE_LISTEN;

/** A proxy in front of the test's servers. */
export interface ProxyProcess {
  kind: ProxyKind;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The configuration it runs, as written to its directory. */
  config: string;
}

/**
 * The template of `kind` with its listen port and server addresses replaced, and nothing else:
 * each placeholder must appear exactly once, so a template edited out of shape fails here.
 */
export function fillTemplate(kind: ProxyKind, port: number, servers: readonly number[]): string {
  const file = kind === 'nginx' ? 'nginx.conf' : 'haproxy.cfg';
  let text = readFileSync(path.join(DEPLOY_DIR, file), 'utf8');
  const replacements: Array<[string, string]> = [
    [TEMPLATE_LISTEN[kind], kind === 'nginx' ? `listen 127.0.0.1:${port};` : `bind 127.0.0.1:${port}`],
    ...TEMPLATE_SERVERS.map((address, i): [string, string] => [address, `127.0.0.1:${servers[i]}`]),
  ];
  for (const [from, to] of replacements) {
    const count = text.split(from).length - 1;
    if (count !== 1) throw new Error(`${file} should contain "${from}" exactly once, found it ${count} times`);
    text = text.replace(from, to);
  }
  return text;
}

const BINARIES = { nginx: ['/usr/sbin/nginx', '/usr/local/sbin/nginx'], haproxy: ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy'] };

function binary(kind: ProxyKind): string {
  const found = BINARIES[kind].find((file) => existsSync(file));
  if (!found) throw new Error(`${kind} is not installed: run \`node scripts/system-deps.mjs\` (Debian package ${kind})`);
  return found;
}

/**
 * What the proxy needs around the template to run unprivileged in a directory of its own: pid,
 * logs and temporary files there, in the foreground, and no privileges to drop (so it also runs
 * as root in CI, where nginx would otherwise hand its work to an unprivileged user that cannot
 * read the directory).
 */
function wrap(kind: ProxyKind, dir: string): { files: Record<string, string>; args: string[] } {
  if (kind === 'nginx') {
    const main = [
      'daemon off;',
      'master_process off;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log warn;`,
      'events { worker_connections 1024; }',
      'http {',
      `  access_log ${dir}/access.log;`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((temp) => `  ${temp}_temp_path ${dir}/${temp};`),
      `  include ${dir}/primus.conf;`,
      '}',
    ].join('\n');
    return { files: { 'nginx.conf': main }, args: ['-p', dir, '-e', `${dir}/error.log`, '-c', `${dir}/nginx.conf`] };
  }
  const global = ['global', `  pidfile ${dir}/haproxy.pid`, '  maxconn 4096', ''].join('\n');
  return { files: { 'global.cfg': global }, args: ['-db', '-f', `${dir}/global.cfg`, '-f', `${dir}/primus.cfg`] };
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Start nginx or HAProxy in front of the servers listening on `servers` (three ports), with the
 * configuration from `deploy/`; it stops at cleanup.
 */
export async function startProxy(kind: ProxyKind, servers: readonly number[]): Promise<ProxyProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), `primus-${kind}-`));
  const port = await freePort();
  const config = fillTemplate(kind, port, servers);
  const { files, args } = wrap(kind, dir);
  writeFileSync(path.join(dir, kind === 'nginx' ? 'primus.conf' : 'primus.cfg'), config);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);

  const child: ChildProcess = spawn(binary(kind), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => void (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => void (output += chunk.toString()));
  onCleanup(async () => {
    child.kill('SIGTERM');
    await exited(child, 3000);
    rmSync(dir, { recursive: true, force: true });
  });

  const log = (): string => {
    const file = path.join(dir, 'error.log');
    return output + (existsSync(file) ? readFileSync(file, 'utf8') : '');
  };
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${kind} exited (${child.exitCode ?? child.signalCode}) before it listened:\n${log()}`);
    if (await accepts(port)) break;
    if (Date.now() - started > 10_000) throw new Error(`${kind} did not listen within 10 s:\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { kind, port, url: `http://127.0.0.1:${port}`, config };
}
