// One jest run for the whole monorepo. Workspace packages resolve to their TypeScript sources so
// every test sees a single copy of each module.
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022', keepClassNames: true },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

const moduleNameMapper = {
  '^@primus/(core|client|parser-json|transformer-ws|transformer-test-suite)$': '<rootDir>/packages/$1/src/index.ts',
};

const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)sx?$': swc },
  moduleNameMapper,
};

module.exports = {
  watchman: false,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/packages/*/test/**/*.test.ts'],
    },
  ],
};
