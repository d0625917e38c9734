// A third-party transformer swaps into the demo by its package name, as a user would run it: the
// demo's server and its Node client as separate processes, the transformer found in the demo's
// dependencies (examples/transformer-websocket-node).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, it } from '@jest/globals';

const demo = join(__dirname, '..');
const root = join(demo, '..', '..');
// pnpm's jest launcher sets NODE_PATH to its hoisted packages, which a user's shell would not have.
const env = { ...process.env, NODE_PATH: '' };
const started: ChildProcess[] = [];

afterEach(() => {
  for (const child of started.splice(0)) child.kill();
});

/** Start the demo server on a free port and resolve with its URL once it listens. */
function startDemo(transformer: string): Promise<string> {
  const child = spawn(process.execPath, [join(demo, 'server.mjs'), '--transformer', transformer, '--port', '0', '--host', '127.0.0.1'], { cwd: root, env });
  started.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk));
    child.once('exit', (code) => reject(new Error(`the demo exited with ${code}: ${err || out}`)));
  });
}

it.each(['primus-transformer-websocket-node', 'websocket-node'])(
  'runs over the transformer named %s',
  async (name) => {
    const url = await startDemo(name);
    const spec = (await (await fetch(`${url}/primus/spec`)).json()) as { transformer: string };
    expect(spec.transformer).toBe('websocket-node');

    // The Node client takes the transformer the server reports ('websocket-node') and finds its
    // package by the naming convention; it exits once the server relayed its message.
    const { stdout } = await promisify(execFile)(process.execPath, [join(demo, 'node-client.mjs'), url, '--name', 'outsider', '--say', 'hello', '--exit'], {
      cwd: root,
      env,
      timeout: 20000,
    });
    expect(stdout).toContain(`connected to ${url} (websocket-node) as outsider`);
    expect(stdout).toMatch(/outsider: hello/);
  },
  30000,
);
