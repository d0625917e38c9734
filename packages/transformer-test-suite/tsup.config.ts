import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // The corpus and the soak's scripts are found next to dist/ through __dirname, in the ESM build too.
  shims: true,
});
