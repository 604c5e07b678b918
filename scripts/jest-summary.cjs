#!/usr/bin/env node
/**
 * Prints the one summary line CI reads — `N passed, N failed` (`, N skipped` when any) — from one
 * or more jest `--json` results files (several runs of one CI, e.g. `npm test` and
 * `npm run test:cluster`, added up). Exits non-zero when a file is missing, when any test or suite
 * failed, or when no test ran at all (a run that tests nothing must not look green).
 */
'use strict';
const { readFileSync } = require('node:fs');

const files = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
let success = files.length > 0;
for (const file of files) {
  let results;
  try {
    results = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    process.stderr.write(`No jest results at ${file}: ${err.message}\n`);
    success = false;
    continue;
  }
  passed += results.numPassedTests ?? 0;
  // A suite that fails to load (syntax error, failing beforeAll) has no failed tests of its own: count it.
  failed += (results.numFailedTests ?? 0) + (results.numRuntimeErrorTestSuites ?? 0);
  skipped += (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
  if (results.success === false || (results.numPassedTests ?? 0) === 0) success = false;
}

process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
if (passed + failed === 0) process.stderr.write('No test ran.\n');
process.exit(failed > 0 || !success ? 1 : 0);
