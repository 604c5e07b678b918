/**
 * Prints how a followed or awaited harvest ended — the report, the refusal, the cancellation —
 * for people or as one JSON document, and returns the exit code.
 */
import type { FollowResult } from './follow';
import { type CliIO, line, printJson } from './io';
import { EXIT } from './exit-codes';
import { formatHarvestReport } from './render';

/** The exit code of a harvest end, without printing anything. */
export function exitCodeOf(end: FollowResult): number {
  return end.kind === 'detached' ? EXIT.DETACHED : end.exitCode;
}

export function presentEnd(io: CliIO, json: boolean, end: FollowResult, workflowId: string): number {
  switch (end.kind) {
    case 'report':
      if (json) {
        printJson(io.stdout, { workflowId, exitCode: end.exitCode, outcome: end.report.outcome, report: end.report });
      } else {
        for (const text of formatHarvestReport(end.report)) line(io.stdout, text);
      }
      return end.exitCode;
    case 'invalid':
      if (json) {
        printJson(io.stdout, {
          workflowId,
          exitCode: end.exitCode,
          error: { kind: 'invalid_request', message: 'the worker refused the request', problems: end.problems },
        });
      } else {
        line(io.stderr, `dedl-harvest: the worker refused the harvest request (${workflowId}); nothing was ordered:`);
        for (const problem of end.problems) line(io.stderr, `  - ${problem}`);
      }
      return end.exitCode;
    case 'cancelled':
    case 'terminated':
    case 'timed_out':
      if (json) {
        printJson(io.stdout, {
          workflowId,
          exitCode: end.exitCode,
          outcome: end.kind,
          message: end.message,
          report: end.progress,
        });
      } else {
        line(io.stdout, `Harvest ${workflowId}: ${end.message}.`);
        if (end.progress) for (const text of formatHarvestReport(end.progress)) line(io.stdout, text);
      }
      return end.exitCode;
    case 'failed':
      if (json) {
        printJson(io.stdout, { workflowId, exitCode: end.exitCode, error: { kind: 'failed', message: end.message } });
      } else {
        line(io.stderr, `dedl-harvest: ${end.message} (${workflowId})`);
      }
      return end.exitCode;
    case 'detached':
      if (json) {
        printJson(io.stdout, { workflowId, exitCode: EXIT.DETACHED, outcome: 'running' });
      } else {
        line(
          io.stderr,
          `Stopped following; the harvest goes on. Follow it again with: dedl-harvest watch ${workflowId}`,
        );
      }
      return EXIT.DETACHED;
  }
}
