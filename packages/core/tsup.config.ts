import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // Transformer and parser packages are loaded by name at run time; the ESM build needs a require.
  banner: ({ format }) =>
    format === 'esm' ? { js: "import { createRequire as __primusCreateRequire } from 'node:module';\nconst require = __primusCreateRequire(import.meta.url);" } : {},
});
