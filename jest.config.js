/**
 * One jest run covers unit, integration and replay tests. The global setup starts the real local
 * stack (Temporal dev server, versitygw) once per run; tests read its addresses from
 * test/helpers/stack.ts. TypeScript is transformed by swc (type checking is `npm run typecheck`).
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Cluster scenarios run in `npm run test:cluster` (jest.cluster.config.js), on their own stack.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/cluster/'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  setupFiles: ['<rootDir>/test/helpers/setup-file.ts'],
  testTimeout: 60_000,
  maxWorkers: 2,
};
