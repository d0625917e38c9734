import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm', 'cjs'],
  // tsconfig.json is a composite project for `tsc -b`; the published declarations are built from
  // the entry alone.
  dts: { entry: 'src/index.ts', compilerOptions: { composite: false } },
  clean: true,
  sourcemap: true,
  target: 'node20',
});
