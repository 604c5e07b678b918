/**
 * Counts deliveries, failures and retries by watching what the activities return and throw, so
 * the activities themselves stay free of metrics code. What it counts, and from where:
 *
 * - delivered + bytes: a `deliverProduct` result (TEMPORARY), each found item of a
 *   `verifyPrivateOutput` result (PRIVATE);
 * - failed: an item the Hook reports failed or cancelled, seen first in a `submitOrder` or
 *   `pollOrder` result (exactly the items the workflow then marks failed); a PRIVATE item without
 *   output; a `deliverProduct` that fails for good (non-retryable, or its last attempt);
 * - retries: any activity attempt that fails with a failure Temporal will retry. `pollOrder`'s
 *   "not ready yet" is its poll loop (a benign failure), not a retry, and is not counted.
 *
 * Attempts that never end on this worker (it crashed, or the attempt timed out) are not seen
 * here; Temporal's server-side metrics and the workflow history show those.
 */
import type { Context as ActivityContext } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory, CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type {
  DeliveryRecord,
  OrderItemView,
  OrderSnapshot,
  PollOrderInput,
  PrivateItemResult,
  SubmittedOrder,
} from '../activities/contract';
import type { HarvestActivities } from '../activities';
import type { HarvestMetrics } from './metrics';

type ActivityName = keyof HarvestActivities;

export function activityMetricsInterceptor(metrics: HarvestMetrics): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const activity = ctx.info.activityType as ActivityName;
        let result: unknown;
        try {
          result = await next(input);
        } catch (err) {
          countFailure(metrics, ctx, activity, err);
          throw err;
        }
        countResult(metrics, activity, input.args, result);
        return result;
      },
    },
  });
}

function countResult(metrics: HarvestMetrics, activity: ActivityName, args: unknown[], result: unknown): void {
  switch (activity) {
    case 'deliverProduct':
      metrics.delivered('TEMPORARY', (result as DeliveryRecord).size);
      return;
    case 'verifyPrivateOutput':
      for (const item of result as PrivateItemResult[]) {
        if (item.problem) metrics.failed('output_missing');
        else
          metrics.delivered(
            'PRIVATE',
            item.objects.reduce((sum, o) => sum + o.size, 0),
          );
      }
      return;
    case 'submitOrder':
      countHookFailures(metrics, (result as SubmittedOrder).items, new Set());
      return;
    case 'pollOrder':
      countHookFailures(metrics, (result as OrderSnapshot).items, new Set((args[0] as PollOrderInput).handled));
      return;
    default:
      return;
  }
}

/** Items the Hook gave up on that the workflow has not handled yet: it marks exactly these failed. */
function countHookFailures(metrics: HarvestMetrics, items: OrderItemView[], handled: Set<string>): void {
  for (const item of items) {
    if (handled.has(item.itemId)) continue;
    if (item.status === 'failed') metrics.failed('hook_failed');
    else if (item.status === 'cancelled') metrics.failed('hook_cancelled');
  }
}

function countFailure(metrics: HarvestMetrics, ctx: ActivityContext, activity: ActivityName, err: unknown): void {
  if (isCancellation(err, ctx)) return;
  if (err instanceof ApplicationFailure && err.category === ApplicationFailureCategory.BENIGN) return;
  const type = failureType(err);
  if (willRetry(ctx, err, type)) metrics.retried(activity, type);
  else if (activity === 'deliverProduct') metrics.failed(type);
}

function failureType(err: unknown): string {
  if (err instanceof ApplicationFailure) return err.type ?? 'Error';
  return err instanceof Error ? err.name : 'Error';
}

/** Temporal's own rule: retryable failure type, and attempts left under the activity's retry policy. */
function willRetry(ctx: ActivityContext, err: unknown, type: string): boolean {
  if (err instanceof ApplicationFailure && err.nonRetryable) return false;
  const policy = ctx.info.retryPolicy;
  if (policy?.nonRetryableErrorTypes?.includes(type)) return false;
  const maximumAttempts = policy?.maximumAttempts ?? 0;
  return maximumAttempts === 0 || ctx.info.attempt < maximumAttempts;
}

function isCancellation(err: unknown, ctx: ActivityContext): boolean {
  return err instanceof CancelledFailure || ctx.cancellationSignal.aborted;
}
