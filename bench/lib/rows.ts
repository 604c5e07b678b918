/**
 * What every bench script hands the runner (bench/run-all.ts): rows of one table. Run with
 * `--json`, a script prints as its LAST stdout line `{"rows":[…]}`; everything before it is for
 * people. `met` is null for a figure that has no aim (reported only).
 */
export interface BenchRow {
  /** Which benchmark, e.g. "2. Download to S3". */
  benchmark: string;
  /** The measured figure, with its unit. */
  figure: string;
  /** The baseline it is compared to, measured in the same invocation (or the ideal). */
  baseline: string;
  /** figure / baseline in the direction the aim is stated; null when there is none. */
  ratio: number | null;
  aim: string;
  met: boolean | null;
  /** How it was measured, and why an aim was missed. */
  note: string;
}

export const jsonMode = process.argv.includes('--json');

/** Prints the rows: as a readable table always (stderr in --json mode), then the JSON line. */
export function emitRows(rows: BenchRow[]): void {
  const text = rows
    .map(
      (r) =>
        `${r.benchmark}: ${r.figure} | baseline ${r.baseline} | ratio ${r.ratio ?? '—'} | aim ${r.aim} | ${verdict(r.met)}\n  ${r.note}`,
    )
    .join('\n');
  (jsonMode ? process.stderr : process.stdout).write(`${text}\n`);
  if (jsonMode) process.stdout.write(`${JSON.stringify({ rows })}\n`);
}

export function verdict(met: boolean | null): string {
  return met === null ? 'n/a' : met ? 'met' : 'MISS';
}

/** Runs a bench's main and exits with its outcome (servers and sockets must not hold the process). */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}

/** Progress for people: stderr, so stdout stays one JSON line in --json mode. */
export function say(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export const MiB = 1024 * 1024;

/** Bytes per second as "123 MB/s" (decimal megabytes, as curl reports). */
export function mbps(bytes: number, seconds: number): string {
  return `${Math.round(bytes / 1e6 / seconds)} MB/s`;
}
