/**
 * Every chaos scenario records one row of figures; `npm run chaos` prints them as one table at the
 * end. Rows are appended as JSON lines to `$CHAOS_RESULTS_FILE` (set by the chaos runner); without
 * it (a plain `npm test`), rows are only checked, not collected.
 */
import { appendFileSync } from 'node:fs';

export interface ChaosRow {
  scenario: string;
  /** Runs (campaigns, harvests, requests…) the scenario made. */
  runs: number;
  /** Kills, restarts or faults injected, with a word on what, e.g. "12 SIGKILL". */
  injected: string;
  products: number;
  lost: number;
  duplicated: number;
  corruptAccepted: number;
  secretsFound: number;
}

/** The scale chosen by the runner: `full` for `npm run chaos`, `short` inside `npm test`. */
export const CHAOS_SCALE: 'full' | 'short' = process.env.CHAOS_SCALE === 'full' ? 'full' : 'short';

export function recordChaosRow(row: ChaosRow): void {
  const file = process.env.CHAOS_RESULTS_FILE;
  if (file) appendFileSync(file, `${JSON.stringify(row)}\n`);
}
