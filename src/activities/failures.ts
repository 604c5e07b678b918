/**
 * The one place errors become Temporal failures. Permanent problems (bad request, bad
 * credentials, expired link, corrupt product) are non-retryable; rate limits carry the server's
 * Retry-After as `nextRetryDelay`; everything else is retryable under the activity's policy.
 * Every message is redacted again here, because failures are stored in workflow history.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { HookError, HookRateLimitError, HookUnreadableAnswerError } from '../hook/errors';
import { redactText } from '../shared/redact';
import { isIntegrityError } from '../storage/errors';

export function toApplicationFailure(err: unknown, secrets: readonly string[] = []): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const error = err instanceof Error ? err : new Error(String(err));
  const message = redactText(error.message, secrets);
  if (error instanceof HookError) {
    return ApplicationFailure.create({
      type: error.name,
      message,
      nonRetryable: !error.retryable,
      nextRetryDelay: error instanceof HookRateLimitError ? error.retryAfterMs : undefined,
      // The unreadable answer goes with the failure (already redacted), for a bug report.
      details:
        error instanceof HookUnreadableAnswerError
          ? [{ fields: error.fields, answer: redactText(error.rawAnswer, secrets) }]
          : undefined,
    });
  }
  // The bytes themselves are wrong (size, error page, corrupt zip): fetching them again will not help.
  const name = error.name || 'Error';
  if (isIntegrityError(err)) {
    return ApplicationFailure.create({ type: 'IntegrityError', message: `${name}: ${message}`, nonRetryable: true });
  }
  return ApplicationFailure.create({ type: name, message, nonRetryable: false });
}

/** Runs an activity body and converts whatever it throws (cancellation passes through untouched). */
export async function translatingErrors<T>(secrets: readonly string[], body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if ((err as { name?: string }).name === 'CancelledFailure') throw err;
    throw toApplicationFailure(err, secrets);
  }
}

/** A request problem found before anything was ordered: the message lists every field. */
export function invalidRequest(problems: string[]): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'InvalidRequest',
    message: `Invalid harvest request: ${problems.join('; ')}`,
    nonRetryable: true,
    details: [problems],
  });
}
