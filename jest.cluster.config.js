/**
 * `npm run test:cluster`: the scenarios that matter at scale, against a Temporal cluster on
 * PostgreSQL (separate frontend, history, matching and worker processes) instead of the dev
 * server — the same e2e files as `npm test` runs for the main paths, plus test/cluster/ (faults a
 * dev server cannot show, and several worker processes as separate hosts).
 */
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: [
    '<rootDir>/test/e2e/harvest-temporary.test.ts',
    '<rootDir>/test/e2e/harvest-private.test.ts',
    '<rootDir>/test/e2e/campaign-quota.test.ts',
    '<rootDir>/test/e2e/schedule.test.ts',
    '<rootDir>/test/e2e/download-task-queue.test.ts',
    '<rootDir>/test/cluster/**/*.test.ts',
  ],
  testPathIgnorePatterns: [],
};
