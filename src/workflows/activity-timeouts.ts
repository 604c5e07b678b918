/**
 * Activity time limits shared by the workflows, and reading an activity failure for "it ran out of
 * time" (workflow-safe: no Node built-ins).
 */
import { ActivityFailure, TimeoutFailure } from '@temporalio/workflow';
import { RetryState, TimeoutType } from '@temporalio/common';

/**
 * The activity ran out of its schedule-to-close time. Two shapes: the timer fired during an
 * attempt (a TimeoutFailure), or an attempt ended just before it and Temporal did not start another
 * that would end after it — then the cause is that attempt's own failure (e.g. `OrderNotReady`)
 * and only the retry state says why (seen on a loaded machine: a harvest failed instead of
 * reporting its deadline).
 */
export function isScheduleToCloseTimeout(err: unknown): boolean {
  if (!(err instanceof ActivityFailure)) return false;
  if (err.retryState === RetryState.TIMEOUT) return true;
  return err.cause instanceof TimeoutFailure && err.cause.timeoutType === TimeoutType.SCHEDULE_TO_CLOSE;
}

/**
 * Heartbeat timeout of the short activities (Hook calls, ledger and manifest writes, catalogue
 * lookups): every activity heartbeats while it runs (src/activities/keep-alive.ts), so a worker
 * that dies mid-call is noticed in this time and the call retried, instead of after its whole
 * start-to-close. Well above the keep-alive period (a third of it), so a busy event loop is no death.
 */
export const SHORT_ACTIVITY_HEARTBEAT = '15 seconds';
