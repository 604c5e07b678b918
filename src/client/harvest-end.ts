/**
 * How a harvest ended, from the workflow's result or failure: a report, a refused request (with
 * its problems), a cancellation or timeout, or another failure — each with its exit code.
 */
import {
  ApplicationFailure,
  CancelledFailure,
  type Client,
  TerminatedFailure,
  TimeoutFailure,
  type WorkflowHandle,
  WorkflowFailedError,
} from '@temporalio/client';
import { INVALID_REQUEST, innermostMessage } from '../shared/failures';
import type { HarvestOutcome, HarvestProgress, HarvestReport } from '../shared/harvest-report';
import { progressQuery } from '../shared/messages';
import { EXIT, type ExitCode, exitCodeForReport } from './exit-codes';

export type HarvestEnd =
  | { kind: 'report'; report: HarvestReport; exitCode: ExitCode }
  | { kind: 'invalid'; problems: string[]; exitCode: typeof EXIT.INVALID }
  | {
      kind: 'cancelled' | 'terminated' | 'timed_out';
      message: string;
      /** The workflow's last view of its items, when a worker could still answer. */
      progress?: EndedProgress;
      exitCode: typeof EXIT.CANCELLED;
    }
  | { kind: 'failed'; message: string; exitCode: typeof EXIT.ERROR };

/** Waits for the harvest to close and says how it ended; never throws for a workflow failure. */
export async function awaitHarvestEnd(client: Client, handle: WorkflowHandle): Promise<HarvestEnd> {
  try {
    const report = (await handle.result()) as HarvestReport;
    return { kind: 'report', report, exitCode: exitCodeForReport(report) };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    return describeFailure(client, handle, err);
  }
}

async function describeFailure(client: Client, handle: WorkflowHandle, err: WorkflowFailedError): Promise<HarvestEnd> {
  const invalid = findInvalidRequest(err);
  if (invalid) return { kind: 'invalid', problems: invalid, exitCode: EXIT.INVALID };
  const cause = err.cause;
  if (cause instanceof CancelledFailure) {
    const progress = await lastProgress(client, handle);
    return { kind: 'cancelled', message: 'the harvest was cancelled', progress, exitCode: EXIT.CANCELLED };
  }
  if (cause instanceof TerminatedFailure) {
    return { kind: 'terminated', message: `the harvest was terminated (${cause.message})`, exitCode: EXIT.CANCELLED };
  }
  if (cause instanceof TimeoutFailure) {
    return { kind: 'timed_out', message: 'the harvest workflow timed out', exitCode: EXIT.CANCELLED };
  }
  return { kind: 'failed', message: `the harvest failed: ${innermostMessage(err)}`, exitCode: EXIT.ERROR };
}

/** The problems of an `InvalidRequest` failure anywhere in the cause chain (the workflow's or the validate activity's). */
export function findInvalidRequest(err: unknown): string[] | undefined {
  for (let current: unknown = err; current instanceof Error; current = current.cause) {
    if (current instanceof ApplicationFailure && current.type === INVALID_REQUEST) {
      const [problems] = current.details ?? [];
      if (Array.isArray(problems) && problems.every((p) => typeof p === 'string') && problems.length > 0) {
        return problems as string[];
      }
      return current.message
        .replace(/^Invalid harvest request:\s*/, '')
        .split('; ')
        .filter(Boolean);
    }
  }
  return undefined;
}

/** The last progress of a harvest that ended without a report, with the outcome it ended with. */
type EndedProgress = HarvestProgress & { outcome: HarvestOutcome };

async function lastProgress(client: Client, handle: WorkflowHandle): Promise<EndedProgress | undefined> {
  try {
    const progress = await client.withDeadline(Date.now() + 3_000, () => handle.query(progressQuery));
    return { ...progress, outcome: 'cancelled' };
  } catch {
    return undefined;
  }
}
