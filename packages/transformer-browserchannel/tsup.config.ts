import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  // tsconfig.json is a composite project for `tsc -b`; the published declarations are built from
  // the entry alone.
  dts: { compilerOptions: { composite: false } },
  clean: true,
  sourcemap: true,
  target: 'node20',
  // browserchannel's files are located with require.resolve, which the ESM build needs a require for.
  banner: ({ format }) =>
    format === 'esm' ? { js: "import { createRequire as __primusCreateRequire } from 'node:module';\nconst require = __primusCreateRequire(import.meta.url);" } : {},
});
