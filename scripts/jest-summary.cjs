#!/usr/bin/env node
/**
 * Prints the one summary line CI reads — `N passed, N failed` (`, N skipped` when any) — from a
 * jest `--json` results file. Exits non-zero when the file is missing, when any test or suite
 * failed, or when no test ran at all (a run that tests nothing must not look green).
 */
'use strict';
const { readFileSync } = require('node:fs');

const file = process.argv[2];
let results;
try {
  results = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  process.stderr.write(`No jest results at ${file}: ${err.message}\n`);
  process.exit(1);
}

const passed = results.numPassedTests ?? 0;
// A suite that fails to load (syntax error, failing beforeAll) has no failed tests of its own: count it.
const failed = (results.numFailedTests ?? 0) + (results.numRuntimeErrorTestSuites ?? 0);
const skipped = (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);

process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
if (passed + failed === 0) process.stderr.write('No test ran.\n');
process.exit(failed > 0 || passed === 0 || results.success === false ? 1 : 0);
