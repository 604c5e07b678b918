/**
 * What `dedl-harvest` exits with. Scripts rely on these; `--help` lists them.
 */
import type { HarvestReport } from '../shared/harvest-report';

export const EXIT = {
  /** Every item delivered (or, for commands that harvest nothing, the command did what it was asked). */
  OK: 0,
  /** Anything else went wrong: no connection, unknown workflow id, a failed workflow, a bug. */
  ERROR: 1,
  /** Invalid input: the request was refused (each problem names its field), or the command line or configuration was. */
  INVALID: 2,
  /** The harvest finished but some items failed, or were made by the Hook but not delivered (`redeliver`). */
  ITEMS_FAILED: 3,
  /** The harvest was cancelled, terminated or ran out of time. */
  CANCELLED: 4,
  /** Ctrl-C while following a harvest or campaign: it goes on (the conventional exit code of SIGINT). */
  DETACHED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODE_HELP = `Exit codes:
  0  all items delivered (or the command did what it was asked)
  1  other error (connection, unknown workflow id, failed workflow, …)
  2  invalid input: the request was refused (every problem names its field), or the command line or configuration was
  3  the harvest finished but some items failed or were not delivered (see redeliver)
  4  the harvest was cancelled, terminated or timed out
  130 Ctrl-C while following a harvest (the harvest goes on)`;

/** The exit code of a finished harvest, from its report. */
export function exitCodeForReport(report: Pick<HarvestReport, 'outcome' | 'totals'>): ExitCode {
  switch (report.outcome) {
    case 'delivered':
      return EXIT.OK;
    case 'cancelled':
    case 'timed_out':
      return EXIT.CANCELLED;
    case 'partial':
    case 'failed':
      // Only timed-out or cancelled items left undelivered: that is a timeout, not an item failure.
      return report.totals.failed + (report.totals.undelivered ?? 0) > 0 ? EXIT.ITEMS_FAILED : EXIT.CANCELLED;
  }
}
