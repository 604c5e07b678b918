/**
 * Every chaos scenario records one row of figures; `npm run chaos` prints them as one table at the
 * end. Rows are appended as JSON lines to `$CHAOS_RESULTS_FILE` (set by the chaos runner); without
 * it (a plain `npm test`), rows are only checked, not collected.
 */
import { appendFileSync } from 'node:fs';

/**
 * A figure the scenario measured (counted from what the sink, the Hook, the histories and logs
 * hold), or `null` when the scenario does not measure it: printed as `—`, never as a 0.
 */
export type Figure = number | null;

export interface ChaosRow {
  scenario: string;
  /** Runs (campaigns, harvests, requests…) the scenario made. */
  runs: number;
  /** Kills, restarts or faults injected, with a word on what, e.g. "12 SIGKILL". */
  injected: string;
  products: number;
  lost: Figure;
  duplicated: Figure;
  corruptAccepted: Figure;
  /** Occurrences of the scenario's secrets in histories, logs and outputs. */
  secretsFound: Figure;
  /**
   * What the run left in the sink that must not stay: `.part` files, unfinished multipart uploads,
   * and other files or objects that are neither products nor the files written beside them
   * (temporary files of a cut write), counted by the sink audit (test/helpers/sink-audit.ts).
   */
  leftBehind: Figure;
  /** Hook orders created from input that had to be refused (bad input, a refused sink); absent: not measured. */
  ordersFromBadInput?: Figure;
}

/** The scale chosen by the runner: `full` for `npm run chaos`, `short` inside `npm test`. */
export const CHAOS_SCALE: 'full' | 'short' = process.env.CHAOS_SCALE === 'full' ? 'full' : 'short';

export function recordChaosRow(row: ChaosRow): void {
  const file = process.env.CHAOS_RESULTS_FILE;
  if (file) appendFileSync(file, `${JSON.stringify({ ordersFromBadInput: null, ...row })}\n`);
}

/**
 * Where each secret appears in `places` (one `where: abc…` per occurrence, a secret cut to three
 * characters so the message leaks nothing; a pattern, e.g. any JWT, by its source); [] when none does.
 */
export function secretsIn(
  secrets: readonly (string | RegExp)[],
  places: readonly { where: string; text: string }[],
): string[] {
  return places.flatMap(({ where, text }) =>
    secrets
      .filter((secret) => (typeof secret === 'string' ? text.includes(secret) : secret.test(text)))
      .map((secret) => `${where}: ${typeof secret === 'string' ? `${secret.slice(0, 3)}…` : String(secret)}`),
  );
}
