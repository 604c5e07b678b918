/**
 * The failure vocabulary the workflows, the activities and the client share: the refused-request
 * failure, the sink failure types, and how to read the message of a failure chain. Workflow-safe
 * (`@temporalio/common` only). Whether a failure is retried is decided where it is made
 * (activities/failures.ts sets `nonRetryable`), so no workflow lists failure types to stop.
 */
import { ApplicationFailure } from '@temporalio/common';

/** The type of a failure for a request that is wrong and will stay wrong; its details are the problems. */
export const INVALID_REQUEST = 'InvalidRequest';

/**
 * The type of an update a campaign refuses because it is finishing (writing its records after the
 * last product settled): the client then waits for its end and treats it as finished.
 */
export const CAMPAIGN_FINISHING = 'CampaignFinishing';

/** Failure types of a sink that did not take a product; the workflow reports the item `undelivered`. */
export const SINK_FAILURE_TYPES: readonly string[] = ['SinkUnwritable', 'SinkFull'];

/**
 * A request problem found before anything was ordered: non-retryable, the message lists every
 * field, the details hold the problems (the client shows them one a line).
 * @param subject what was refused, e.g. `harvest request`
 */
export function invalidRequest(subject: string, problems: readonly string[]): ApplicationFailure {
  return ApplicationFailure.create({
    type: INVALID_REQUEST,
    message: `Invalid ${subject}: ${problems.join('; ')}`,
    nonRetryable: true,
    details: [problems],
  });
}

/** Failures that only wrap another (an activity's, a child's, a workflow's as the client sees it). */
const WRAPPERS = new Set(['ActivityFailure', 'ChildWorkflowFailure', 'WorkflowFailedError']);

/** What went wrong at the bottom of a failure chain, without the wrapping. */
export function innermostMessage(err: unknown): string {
  let current: unknown = err;
  while (
    current instanceof Error &&
    current.cause instanceof Error &&
    (WRAPPERS.has(current.name) || !current.message)
  ) {
    current = current.cause;
  }
  return current instanceof Error ? current.message : String(current);
}
