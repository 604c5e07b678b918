/**
 * Reading an activity failure for "it ran out of time" (workflow-safe: no Node built-ins).
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
