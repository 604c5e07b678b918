/** The problems of the non-retryable InvalidRequest a workflow failed with, found in its failure chain. */
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';

export async function refusal(run: Promise<unknown>): Promise<string[]> {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof WorkflowFailedError)) throw new Error(`the workflow did not fail: ${String(err)}`);
  for (let current: unknown = err; current instanceof Error; current = current.cause) {
    if (current instanceof ApplicationFailure && current.type === 'InvalidRequest') {
      if (!current.nonRetryable) throw new Error('an InvalidRequest must be non-retryable');
      return (current.details?.[0] ?? []) as string[];
    }
  }
  throw new Error(`not an InvalidRequest failure: ${String(err)}`);
}
