/**
 * The one place errors become Temporal failures. Permanent problems (bad request, bad
 * credentials, expired link, corrupt product) are non-retryable; rate limits carry the server's
 * Retry-After as `nextRetryDelay`; everything else is retryable under the activity's policy.
 * Sink errors (storage/sink-errors.ts): a folder or bucket that cannot be written becomes
 * `SinkUnwritable`, retried briefly (a permission being fixed, a mount coming back) and then
 * non-retryable; a full disk becomes `SinkFull`, retried under the policy (the `.part` is kept).
 * Every message is redacted again here, because failures are stored in workflow history.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { HookError, HookRateLimitError, HookUnreadableAnswerError } from '../hook/errors';
import { redactText } from '../shared/redact';
import { isIntegrityError } from '../storage/errors';
import { classifySinkError } from '../storage/sink-errors';

/** Attempts a permanent sink error gets before it stops retrying: a short, bounded retry. */
export const PERMANENT_SINK_ATTEMPTS = 3;

export function toApplicationFailure(
  err: unknown,
  secrets: readonly string[] = [],
  attempt = currentAttempt(),
): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  // Error-like, not `instanceof Error`: errors made in another realm (Node's own, seen from a vm
  // context such as jest's) are errors all the same.
  const error = isErrorLike(err) ? err : new Error(String(err));
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
  const sink = classifySinkError(err);
  if (sink.kind === 'permanent') {
    return ApplicationFailure.create({
      type: 'SinkUnwritable',
      message: `${sink.code}: ${message} (${sink.fix})`,
      nonRetryable: attempt >= PERMANENT_SINK_ATTEMPTS,
    });
  }
  if (sink.kind === 'disk_full') {
    return ApplicationFailure.create({ type: 'SinkFull', message: `${sink.code}: ${message} (${sink.fix})` });
  }
  return ApplicationFailure.create({ type: name, message, nonRetryable: false });
}

function isErrorLike(err: unknown): err is Error {
  return (
    err instanceof Error || (typeof err === 'object' && err !== null && typeof (err as Error).message === 'string')
  );
}

/** The attempt of the activity running now (1 outside an activity). */
function currentAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
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
