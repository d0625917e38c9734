const fs = require('node:fs');
const path = require('node:path');

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

// Only packages that exist are mapped, so a missing transformer still fails the way it does for
// users (MODULE_NOT_FOUND) instead of with a mapping error.
const packagesDir = path.join(__dirname, 'packages');
const moduleNameMapper = {};
for (const dir of fs.readdirSync(packagesDir)) {
  if (fs.existsSync(path.join(packagesDir, dir, 'src/index.ts'))) {
    moduleNameMapper[`^@primus/${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`] = `<rootDir>/packages/${dir}/src/index.ts`;
  }
}

// Subpath exports: the transformer contract entry of @primus/core.
moduleNameMapper['^@primus/core/contract$'] = '<rootDir>/packages/core/src/contract-entry.ts';

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
      testMatch: ['<rootDir>/packages/*/test/**/*.test.ts', '<rootDir>/examples/*/test/**/*.test.ts', '<rootDir>/templates/*/test/**/*.test.ts'],
    },
  ],
};
