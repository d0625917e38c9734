import { defineConfig } from 'tsup';

export default defineConfig({
  // `@primus/core/contract` is the transformer contract alone: transformers load it, not the server.
  entry: { index: 'src/index.ts', contract: 'src/contract-entry.ts' },
  format: ['esm', 'cjs'],
  // Each entry self-contained: the contract's two small helpers are copied rather than split into
  // a shared chunk, so a transformer loads one file of the core.
  splitting: false,
  // tsconfig.json is a composite project for `tsc -b`; the published declarations are built from
  // the entry alone, and leave out what is marked @internal (which `tsc -b` keeps: the tests of the
  // core and of the transformers use it).
  dts: { compilerOptions: { composite: false, stripInternal: true } },
  clean: true,
  sourcemap: true,
  target: 'node20',
  // Transformer, parser and plugin packages are loaded by name at run time (src/load-package.ts):
  // the ESM build needs a require, and knows it is the ESM build.
  esbuildOptions(options, { format }) {
    options.define = { ...options.define, __PRIMUS_ESM__: format === 'esm' ? 'true' : 'false' };
  },
  banner: ({ format }) =>
    format === 'esm' ? { js: "import { createRequire as __primusCreateRequire } from 'node:module';\nconst require = __primusCreateRequire(import.meta.url);" } : {},
});
