#!/usr/bin/env node
/**
 * `npm run chaos`: runs every chaos scenario (test/chaos) at full scale, one test file after the
 * other, then prints the table of their figures and fails when jest failed or any measured figure
 * is not 0 (a product lost, duplicated or corrupt accepted, a secret found, a file or upload left
 * behind in the sink, an order created from bad input). A figure a scenario does not measure is `null` in its row: printed as `—`, and listed.
 *
 * Each scenario appends one JSON row to $CHAOS_RESULTS_FILE (test/chaos/chaos-record.ts); this
 * script sets it to a fresh file. Extra arguments go to jest, e.g.
 * `npm run chaos -- test/chaos/worker-kills.test.ts`. `CHAOS_SEED` replays a fault schedule.
 */
'use strict';
const { spawn } = require('node:child_process');
const { existsSync, mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const scratch = mkdtempSync(path.join(tmpdir(), 'dedl-chaos-results-'));
const resultsFile = path.join(scratch, 'rows.jsonl');
const extraArgs = process.argv.slice(2);
const jestArgs = [require.resolve('jest/bin/jest', { paths: [root] }), '--runInBand'];
jestArgs.push(...(extraArgs.some((a) => !a.startsWith('-')) ? extraArgs : ['test/chaos', ...extraArgs]));

const started = Date.now();
const jest = spawn(process.execPath, jestArgs, {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, CHAOS_SCALE: 'full', CHAOS_RESULTS_FILE: resultsFile },
});
// Ctrl-C reaches jest through the terminal; wait for it to clean up rather than dying first.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => jest.kill(signal));

jest.on('exit', (code, signal) => {
  const rows = readRows();
  rmSync(scratch, { recursive: true, force: true });
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  process.stdout.write(
    `\n${process.env.CHAOS_TITLE ?? 'Chaos suite (full scale)'}, ${minutes} min:\n\n${table(rows)}\n`,
  );

  const problems = [];
  const unmeasured = [];
  if (code !== 0) problems.push(`jest ${signal ? `was stopped by ${signal}` : `exited with ${code}`}`);
  if (rows.length === 0) problems.push('no scenario recorded a row');
  for (const row of rows) {
    for (const field of FIGURES) {
      const value = row[field];
      if (value === null || value === undefined) unmeasured.push(`${row.scenario}: ${field}`);
      else if (value !== 0) problems.push(`${row.scenario}: ${field} = ${value}`);
    }
  }
  if (unmeasured.length > 0) {
    process.stdout.write(`\nNot measured (—):\n${unmeasured.map((u) => `  - ${u}`).join('\n')}\n`);
  }
  if (problems.length > 0) {
    process.stdout.write(`\nFAILED:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(
    '\nEvery measured figure is 0: nothing lost, duplicated or corrupt accepted, no secret found, nothing left behind.\n',
  );
});

/** The figures that must be 0 when measured. */
const FIGURES = ['lost', 'duplicated', 'corruptAccepted', 'secretsFound', 'leftBehind', 'ordersFromBadInput'];

/** A figure's cell: `—` when the scenario did not measure it. */
const cell = (value) => (value === null || value === undefined ? '—' : String(value));

function readRows() {
  if (!existsSync(resultsFile)) return [];
  return readFileSync(resultsFile, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

/** The rows as a Markdown table (readable in a terminal, pasteable into the README). */
function table(rows) {
  const columns = [
    ['scenario', (r) => r.scenario],
    ['runs', (r) => r.runs],
    ['kills/faults injected', (r) => r.injected],
    ['products', (r) => r.products],
    ['lost', (r) => cell(r.lost)],
    ['duplicated', (r) => cell(r.duplicated)],
    ['corrupt accepted', (r) => cell(r.corruptAccepted)],
    ['secrets found', (r) => cell(r.secretsFound)],
    ['left behind', (r) => cell(r.leftBehind)],
    ['orders from bad input', (r) => cell(r.ordersFromBadInput)],
  ];
  const cells = [columns.map(([name]) => name), ...rows.map((r) => columns.map(([, get]) => String(get(r))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i].length)));
  const numeric = columns.map((_, i) => i > 0 && i !== 2);
  const line = (values) =>
    `| ${values.map((v, i) => (numeric[i] ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (numeric[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(cells[0]), rule, ...cells.slice(1).map(line)].join('\n');
}
