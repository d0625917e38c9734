// ESLint: rules a type checker does not give, on every TypeScript file of the packages, examples and
// template. Formatting is Prettier's (prettier.config.mjs); eslint-config-prettier turns off every
// rule that would disagree with it.
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

// What a transformer may import of the core and the client: the contract and the public entries
// (scripts/check-boundaries.mjs checks the same of the core, including `import()` types).
const transformerBoundary = {
  paths: [
    {
      name: '@primus/core',
      message: 'A transformer imports the core through its contract only: @primus/core/contract (docs/writing-a-transformer.md).',
    },
  ],
  patterns: [
    {
      group: ['@primus/core/*', '!@primus/core/contract'],
      message: 'Only @primus/core/contract is the transformer contract.',
    },
    {
      group: ['@primus/client/*', '@primus/protocol/*'],
      message: 'Use the public entry of the package, not its files.',
    },
    {
      regex: '^(\\.\\./)+(packages/)?(core|client|protocol)/',
      message: "A transformer does not reach into another package's files: import its public entry.",
    },
  ],
};

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/generated/**', '**/node_modules/**', '**/.tsbuild/**', '**/coverage/**', 'bench/**', 'packages/*/build/**'],
  },
  {
    files: ['packages/*/{src,test}/**/*.ts', 'examples/*/{src,test}/**/*.ts', 'templates/*/{src,test}/**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A promise nobody awaits loses its rejection: handle it, or mark a deliberate fire-and-forget with `void`.
      '@typescript-eslint/no-floating-promises': 'error',
      // Type-only imports are erased by every compiler, whatever its isolatedModules handling.
      // (`import('x').T` types stay allowed: they load nothing either.)
      // `{}` means "any non-nullish value", rarely what was meant; the few deliberate ones say so.
      '@typescript-eslint/no-empty-object-type': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
    },
  },
  {
    files: ['packages/transformer-*/src/**/*.ts', 'examples/transformer-*/src/**/*.ts', 'templates/*/src/**/*.ts'],
    ignores: ['packages/transformer-test-suite/**'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', transformerBoundary] },
  },
  prettier,
);
