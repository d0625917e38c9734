import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

// Transformers, parsers and plugins named by package, loaded the way an application installs
// them: the core is bundled on its own (CommonJS and ES module builds, as tsup builds them) into
// an application folder whose node_modules holds the packages, and run by plain Node.

const run = promisify(execFile);
const root = join(__dirname, '..', '..');

/** A transformer module's source that reports `name`. */
function transformerSource(name: string, esm: boolean): string {
  const value = `{ name: ${JSON.stringify(name)}, server() { return {}; }, client: { connect() {} }, browser() { return 'null'; } }`;
  return esm ? `export default ${value};\n` : `module.exports = ${value};\n`;
}

let app = '';

function write(file: string, content: string): void {
  mkdirSync(dirname(join(app, file)), { recursive: true });
  writeFileSync(join(app, file), content);
}

/** Install a package into the application's node_modules. */
function install(name: string, manifest: Record<string, unknown>, files: Record<string, string>): void {
  write(`node_modules/${name}/package.json`, JSON.stringify({ name, version: '1.0.0', ...manifest }));
  for (const [file, content] of Object.entries(files)) write(`node_modules/${name}/${file}`, content);
}

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'primus-named-'));
  const alias = { '@primus/client': join(root, 'client', 'src', 'index.ts'), '@primus/parser-json': join(root, 'parser-json', 'src', 'index.ts') };
  const common = { entryPoints: [join(root, 'core', 'src', 'index.ts')], bundle: true, platform: 'node' as const, logLevel: 'silent' as const, alias };
  await build({ ...common, outfile: join(app, 'core.cjs'), format: 'cjs', define: { __PRIMUS_ESM__: 'false' } });
  await build({
    ...common,
    outfile: join(app, 'core.mjs'),
    format: 'esm',
    define: { __PRIMUS_ESM__: 'true' },
    banner: { js: "import { createRequire as __primusCreateRequire } from 'node:module';\nconst require = __primusCreateRequire(import.meta.url);" },
  });

  install('primus-transformer-pigeon', { main: 'index.js' }, { 'index.js': transformerSource('pigeon', false) });
  // The convention tries @primus/transformer-<name> before primus-transformer-<name>.
  install('@primus/transformer-owl', { main: 'index.js' }, { 'index.js': transformerSource('owl-ours', false) });
  install('primus-transformer-owl', { main: 'index.js' }, { 'index.js': transformerSource('owl-theirs', false) });
  // Only an ES module build.
  install('@acme/primus-heron', { type: 'module', exports: { '.': { import: './index.js' } } }, { 'index.js': transformerSource('heron', true) });
  // Both builds: each build of the core must pick its own kind.
  install(
    'primus-transformer-dual',
    { type: 'module', main: './index.cjs', exports: { '.': { import: { types: './index.d.ts', default: './index.js' }, require: './index.cjs' } } },
    { 'index.js': transformerSource('dual-esm', true), 'index.cjs': transformerSource('dual-cjs', false) },
  );
  install('primus-transformer-broken', { main: 'index.js' }, { 'index.js': "require('a-dependency-that-is-not-installed');\n" });
  install('not-a-transformer', { main: 'index.js' }, { 'index.js': 'module.exports = { hello: 1 };\n' });
  install(
    'primus-parser-upper',
    { main: 'index.js' },
    {
      'index.js': "module.exports = { name: 'upper', encode: (d) => JSON.stringify(d).toUpperCase(), decode: (r) => JSON.parse(r) };\n",
    },
  );
  install('primus-plugin-stamp', { type: 'module', exports: { import: './index.js' } }, { 'index.js': 'export default { server(primus) { primus.stamped = true; } };\n' });
});

afterAll(() => rmSync(app, { recursive: true, force: true }));

type Outcome = { transformer: string; parser: string; stamped: boolean } | { code: string; message: string };

/** Construct a Primus with each of `cases` in the application, through the given build of the core. */
async function construct(format: 'cjs' | 'esm', cases: Record<string, unknown>[]): Promise<Outcome[]> {
  const load = format === 'cjs' ? "const { Primus } = require('./core.cjs');" : "import { Primus } from './core.mjs';";
  const script = `${load}
    import('node:events').then(({ EventEmitter }) => {
      const out = ${JSON.stringify(cases)}.map((options) => {
        try {
          const primus = new Primus(new EventEmitter(), options);
          const result = { transformer: primus.spec.transformer, parser: primus.parser.name, stamped: primus.stamped === true };
          primus.destroy({ close: false });
          return result;
        } catch (err) {
          return { code: err.code, message: err.message };
        }
      });
      console.log(JSON.stringify(out));
    });`;
  const file = join(app, `app-${format}.${format === 'cjs' ? 'cjs' : 'mjs'}`);
  writeFileSync(file, script);
  // pnpm's jest launcher sets NODE_PATH to its hoisted packages, which an application would not see.
  const { stdout } = await run(process.execPath, [file], { cwd: app, env: { ...process.env, NODE_PATH: '' } });
  return JSON.parse(stdout) as Outcome[];
}

describe.each(['cjs', 'esm'] as const)('names resolved by the %s build of the core', (format) => {
  it('loads a transformer by its package name, scoped or not, and by the convention', async () => {
    const [byPackage, byShortName, scopedEsmOnly, ours] = await construct(format, [
      { transformer: 'primus-transformer-pigeon' },
      { transformer: 'Pigeon' },
      { transformer: '@acme/primus-heron' },
      { transformer: 'owl' },
    ]);
    expect(byPackage).toMatchObject({ transformer: 'pigeon' });
    expect(byShortName).toMatchObject({ transformer: 'pigeon' });
    expect(scopedEsmOnly).toMatchObject({ transformer: 'heron' });
    expect(ours).toMatchObject({ transformer: 'owl-ours' });
  });

  it(`loads the ${format === 'cjs' ? 'CommonJS' : 'ES module'} build of a package that has both`, async () => {
    const [dual] = await construct(format, [{ transformer: 'dual' }]);
    expect(dual).toMatchObject({ transformer: format === 'cjs' ? 'dual-cjs' : 'dual-esm' });
  });

  it('loads parsers and plugins by package name and by the convention', async () => {
    const [parserByName, parserByPackage, plugin] = await construct(format, [
      { transformer: 'pigeon', parser: 'upper' },
      { transformer: 'pigeon', parser: 'primus-parser-upper' },
      { transformer: 'pigeon', plugin: 'stamp' },
    ]);
    expect(parserByName).toMatchObject({ parser: 'upper' });
    expect(parserByPackage).toMatchObject({ parser: 'upper' });
    expect(plugin).toMatchObject({ stamped: true });
  });

  it('names the package to install when nothing provides a name', async () => {
    const [bare, scoped, conventional, parser, plugin] = await construct(format, [
      { transformer: 'carrier-pigeon' },
      { transformer: '@acme/primus-nothing' },
      { transformer: 'primus-transformer-nothing' },
      { transformer: 'pigeon', parser: 'ejson' },
      { transformer: 'pigeon', plugin: 'rooms' },
    ]);
    expect(bare).toMatchObject({ code: 'PRIMUS_ERR_UNKNOWN_TRANSFORMER' });
    expect((bare as { message: string }).message).toContain('tried @primus/transformer-carrier-pigeon, primus-transformer-carrier-pigeon, carrier-pigeon');
    expect((bare as { message: string }).message).toContain('npm install primus-transformer-carrier-pigeon');
    expect(scoped).toEqual({ code: 'PRIMUS_ERR_MISSING_TRANSFORMER', message: expect.stringContaining('npm install @acme/primus-nothing') });
    expect(conventional).toEqual({ code: 'PRIMUS_ERR_MISSING_TRANSFORMER', message: expect.stringContaining('npm install primus-transformer-nothing') });
    expect(parser).toEqual({ code: 'PRIMUS_ERR_MISSING_PARSER', message: expect.stringContaining('npm install @primus/parser-ejson') });
    expect((parser as { message: string }).message).toContain('primus-parser-ejson');
    expect(plugin).toEqual({ code: 'PRIMUS_ERR_PLUGIN', message: expect.stringContaining('tried @primus/plugin-rooms, primus-plugin-rooms, rooms') });
  });

  it('reports what went wrong inside an installed package instead of calling it missing', async () => {
    const [broken, invalid, path] = await construct(format, [{ transformer: 'broken' }, { transformer: 'not-a-transformer' }, { transformer: './local/file.js' }]);
    expect(broken).toMatchObject({ code: 'MODULE_NOT_FOUND', message: expect.stringContaining('a-dependency-that-is-not-installed') });
    expect(invalid).toEqual({ code: 'PRIMUS_ERR_INVALID_TRANSFORMER', message: expect.stringContaining('The package not-a-transformer does not export a transformer') });
    expect(path).toMatchObject({ code: 'PRIMUS_ERR_UNKNOWN_TRANSFORMER' });
  });
});
