/**
 * `npm run bench`: runs every benchmark one after the other, each as a child process
 * (`node --import tsx bench/<script> --json`), collects the rows each prints as its last stdout
 * line, prints one table, and writes it into BENCHMARKS.md (between the markers) with the date,
 * the machine and the commands. A script that fails, times out or prints no rows shows up in the
 * table as a failed row with the reason; the others still run.
 *
 *   node --import tsx bench/run-all.ts [--built] [--only download-s3,polling] [--no-write]
 *
 * --built    the worker-footprint bench runs the built CLI (bin/ + dist/; build first) rather than
 *            the sources through tsx, whose loader adds memory a deployed worker does not have.
 * --only     runs a subset (the file is then not written unless --write is given too).
 * Environment: BENCH_SCRIPT_TIMEOUT_S (per script, default 600). Children inherit the environment,
 * so every script's own BENCH_* settings apply.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as prettier from 'prettier';
import { type BenchRow, verdict } from './lib/rows';

interface Script {
  file: string;
  /** The row name used when the script produces none. */
  benchmark: string;
}

const SCRIPTS: Script[] = [
  { file: 'download.ts', benchmark: '1. Download to a local file' },
  { file: 'download-s3.ts', benchmark: '2. Download to S3' },
  { file: 'campaign.ts', benchmark: '3. Campaign throughput' },
  { file: 'private-verify.ts', benchmark: '4. PRIVATE verification' },
  { file: 'polling.ts', benchmark: '5. Polling' },
  { file: 'worker-footprint.ts', benchmark: '6. Worker footprint' },
  { file: 'temporal-stacks.ts', benchmark: '7. Temporal cluster vs dev server' },
  { file: 'download-ranged.ts', benchmark: '8. Parallel ranges (shaped link, CPU per GiB, RSS)' },
];

const BEGIN = '<!-- bench:begin (written by bench/run-all.ts; edit outside the markers) -->';
const END = '<!-- bench:end -->';
const ROOT = path.join(__dirname, '..');
const TIMEOUT_S = Number(process.env['BENCH_SCRIPT_TIMEOUT_S'] ?? 600);

interface Outcome {
  script: Script;
  command: string;
  seconds: number;
  rows: BenchRow[];
}

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

async function runScript(script: Script, env: NodeJS.ProcessEnv): Promise<Outcome> {
  const args = ['--import', 'tsx', path.join('bench', script.file), '--json'];
  const command = `node ${args.join(' ')}`;
  process.stderr.write(`\n== ${command}\n`);
  const started = Date.now();
  const failed = (reason: string): Outcome => ({
    script,
    command,
    seconds: (Date.now() - started) / 1000,
    rows: [
      {
        benchmark: script.benchmark,
        figure: 'failed',
        baseline: '—',
        ratio: null,
        aim: '—',
        met: false,
        note: `the bench did not produce a result: ${reason}`,
      },
    ],
  });

  // Its own process group, so a timeout can stop the servers it started along with it.
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderrTail = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    process.stderr.write(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-2000);
    process.stderr.write(chunk);
  });
  let timedOut = false;
  const stopGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stopGroup('SIGTERM');
    setTimeout(() => stopGroup('SIGKILL'), 10_000).unref();
  }, TIMEOUT_S * 1000);
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(-1));
    child.once('close', (exitCode) => resolve(exitCode));
  });
  clearTimeout(timer);

  if (timedOut) return failed(`timed out after ${TIMEOUT_S} s`);
  const lastLine = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0) {
    const reason = stderrTail.trim().split('\n').filter(Boolean).pop() ?? 'no output';
    return failed(`exit code ${code}: ${reason.slice(0, 200)}`);
  }
  const rows = parseRows(lastLine);
  if (!rows) return failed('its last stdout line is not {"rows":[…]} (does it support --json?)');
  return { script, command, seconds: (Date.now() - started) / 1000, rows };
}

function parseRows(line: string): BenchRow[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  const rows = (parsed as { rows?: unknown }).rows;
  if (!Array.isArray(rows) || rows.length === 0) return undefined;
  const valid = rows.every(
    (r: Partial<BenchRow>) =>
      typeof r === 'object' &&
      typeof r.benchmark === 'string' &&
      typeof r.figure === 'string' &&
      typeof r.baseline === 'string' &&
      (typeof r.ratio === 'number' || r.ratio === null) &&
      typeof r.aim === 'string' &&
      (typeof r.met === 'boolean' || r.met === null),
  );
  return valid ? (rows as BenchRow[]) : undefined;
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function table(rows: BenchRow[]): string {
  const lines = [
    '| Benchmark | Figure | Baseline (same run) | Ratio | Aim | Result | Note |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const result = r.figure === 'failed' ? '**FAILED**' : r.met === false ? '**MISS**' : verdict(r.met);
    lines.push(
      `| ${[r.benchmark, r.figure, r.baseline, r.ratio === null ? '—' : String(r.ratio), r.aim, result, r.note ?? '']
        .map(cell)
        .join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

function machine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  const memory = (os.totalmem() / 1024 ** 3).toFixed(1);
  return `${cpus.length} × ${model}, ${memory} GiB memory, ${os.type()} ${os.release()} (${os.arch()}), Node ${process.version}`;
}

function report(outcomes: Outcome[], started: Date, totalSeconds: number, invocation: string): string {
  const rows = outcomes.flatMap((o) => o.rows);
  const failed = rows.filter((r) => r.figure === 'failed').length;
  const misses = rows.filter((r) => r.met === false && r.figure !== 'failed').length;
  return [
    BEGIN,
    '',
    `**Run:** ${started.toISOString()} — ${Math.round(totalSeconds / 60)} min in all; ${misses} aims missed of ${rows.filter((r) => r.met !== null && r.figure !== 'failed').length}` +
      (failed ? `; ${failed} bench${failed > 1 ? 'es' : ''} failed.` : '.'),
    '',
    `**Machine:** ${machine()}; load average at the start ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ')}.`,
    '',
    `**Command:** \`${invocation}\`, which ran:`,
    '',
    ...outcomes.map((o) => `- \`${o.command}\` (${Math.round(o.seconds)} s)`),
    '',
    table(rows),
    '',
    END,
  ].join('\n');
}

/** The file when it does not exist yet (its prose lives outside the markers and is kept). */
const INTRO = `# Benchmarks

Reproduce with \`npm run bench\`. Every figure is compared to a baseline measured in the same
invocation on the same machine; misses are shown as **MISS** with the reason.

## Latest run

`;

async function writeReport(block: string): Promise<string> {
  const file = path.join(ROOT, 'BENCHMARKS.md');
  const current = await readFile(file, 'utf8').catch(() => '');
  const begin = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  const next =
    begin >= 0 && end > begin
      ? `${current.slice(0, begin)}${block}${current.slice(end + END.length)}`
      : `${current || INTRO}${current ? '\n' : ''}${block}\n`;
  // Formatted as `npm run format:check` expects, so a bench run leaves the tree clean.
  const options = (await prettier.resolveConfig(file)) ?? {};
  await writeFile(file, await prettier.format(next, { ...options, filepath: file }));
  return file;
}

async function main(): Promise<void> {
  const only = option('--only')
    ?.split(',')
    .map((name) => name.replace(/\.ts$/, ''));
  const scripts = only ? SCRIPTS.filter((s) => only.includes(s.file.replace(/\.ts$/, ''))) : SCRIPTS;
  if (scripts.length === 0)
    throw new Error(`--only matched no script (have: ${SCRIPTS.map((s) => s.file).join(', ')})`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...(process.argv.includes('--built') ? { BENCH_WORKER_BUILT: '1' } : {}),
  };
  const started = new Date();
  const outcomes: Outcome[] = [];
  for (const script of scripts) outcomes.push(await runScript(script, env));
  const totalSeconds = (Date.now() - started.getTime()) / 1000;

  const invocation =
    process.env['npm_lifecycle_event'] === 'bench'
      ? 'npm run bench'
      : `node --import tsx bench/run-all.ts ${process.argv.slice(2).join(' ')}`.trim();
  const block = report(outcomes, started, totalSeconds, invocation);
  process.stdout.write(`\n${table(outcomes.flatMap((o) => o.rows))}\n\n`);
  process.stdout.write(`${outcomes.length} benches in ${(totalSeconds / 60).toFixed(1)} min on ${machine()}\n`);
  const write = process.argv.includes('--write') || (!only && !process.argv.includes('--no-write'));
  if (write) process.stdout.write(`written to ${await writeReport(block)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
