/**
 * One classification for everything that can go wrong talking to the Hook, its identity
 * providers and its storage. Each class has a literal `name` — Temporal uses it as the failure
 * type matched by `nonRetryableErrorTypes`, so names are part of the wire contract — and says
 * whether retrying can help. Messages are redacted: they end up in workflow history.
 */
import { REDACTED, redactText, redactUrl } from '../shared/redact';
import { isSecretName } from '../shared/secret-patterns';

export interface HookErrorContext {
  method?: string;
  url?: string;
  status?: number;
  /** The server's own explanation (`detail`, `error_description`), redacted and shortened. */
  detail?: string;
  cause?: unknown;
}

export abstract class HookError extends Error {
  abstract override readonly name: string;
  /** Whether the same request may succeed later. */
  abstract readonly retryable: boolean;
  readonly method?: string;
  readonly url?: string;
  readonly status?: number;
  readonly detail?: string;

  constructor(message: string, context: HookErrorContext = {}) {
    const where = context.method && context.url ? ` (${context.method} ${redactUrl(context.url)})` : '';
    const detail = context.detail ? `: ${shorten(redactText(context.detail))}` : '';
    super(redactText(`${message}${where}${detail}`), { cause: context.cause });
    this.method = context.method;
    this.url = context.url === undefined ? undefined : redactUrl(context.url);
    this.status = context.status;
    this.detail = context.detail === undefined ? undefined : shorten(redactText(context.detail));
  }
}

/** 400, 404, 405, 409, 422: the request is wrong and will stay wrong. Thrown by every Hook call. */
export class HookRequestError extends HookError {
  override readonly name = 'HookRequestError';
  readonly retryable = false;
}

/** 401 after one token renewal, or a login that failed (wrong password, OTP, terms not accepted). */
export class HookAuthError extends HookError {
  override readonly name = 'HookAuthError';
  readonly retryable = false;
}

/** 403: authenticated, but the account lacks the role or quota (e.g. no `hook-workflows`). */
export class HookForbiddenError extends HookError {
  override readonly name = 'HookForbiddenError';
  readonly retryable = false;
}

/** 429, or 503 with `Retry-After`: come back later, not before `retryAfterMs`. */
export class HookRateLimitError extends HookError {
  override readonly name = 'HookRateLimitError';
  readonly retryable = true;
  constructor(
    message: string,
    context: HookErrorContext,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message, context);
  }
}

/** 5xx: the service failed; the Hook's docs say to retry after a couple of minutes. */
export class HookServerError extends HookError {
  override readonly name = 'HookServerError';
  readonly retryable = true;
}

/** The connection failed, was reset, or a timeout passed before an answer came. */
export class HookConnectionError extends HookError {
  override readonly name = 'HookConnectionError';
  readonly retryable = true;
}

/** A 2xx answer whose body is not what the API promises (e.g. an HTML page from a proxy). */
export class HookResponseError extends HookError {
  override readonly name = 'HookResponseError';
  readonly retryable = true;
}

/**
 * Secret option values inside an answer (`{"Name": "…password", "Value": …}`, the Hook echoes
 * passwords as Fernet tokens) masked before the answer is kept anywhere.
 */
function maskSecretValues(raw: string): string {
  const mask = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(mask);
    if (typeof node !== 'object' || node === null) return node;
    const entries = Object.entries(node as Record<string, unknown>);
    const name = (node as Record<string, unknown>)['Name'];
    const secret = typeof name === 'string' && isSecretName(name);
    return Object.fromEntries(entries.map(([k, v]) => [k, secret && k === 'Value' && v !== null ? REDACTED : mask(v)]));
  };
  let text: string;
  try {
    text = JSON.stringify(mask(JSON.parse(raw)));
  } catch {
    text = raw;
  }
  return text.replace(/gAAAAA[A-Za-z0-9_=-]{8,}/g, REDACTED);
}

/** How much of an unreadable answer is kept for a bug report. */
const RAW_ANSWER_LIMIT = 4000;

/**
 * A 2xx JSON answer whose shape we cannot read (a field missing or of another type than every
 * recorded answer had). Asking again gets the same answer, so it is not retried: the message names
 * the field, and `rawAnswer` keeps the answer (redacted, truncated) for a bug report.
 */
export class HookUnreadableAnswerError extends HookError {
  override readonly name = 'HookUnreadableAnswerError';
  readonly retryable = false;
  /** The answer as received, secrets masked, cut at a few kB. */
  readonly rawAnswer: string;

  constructor(
    message: string,
    context: HookErrorContext,
    /** The fields that could not be read, as `path: reason`. */
    readonly fields: readonly string[],
    rawAnswer: string,
  ) {
    super(message, { ...context, detail: fields.join('; ') });
    const masked = redactText(maskSecretValues(rawAnswer));
    this.rawAnswer = masked.length > RAW_ANSWER_LIMIT ? `${masked.slice(0, RAW_ANSWER_LIMIT)}…(truncated)` : masked;
  }
}

/** A signed TEMPORARY link past its 14 days (or otherwise refused): re-ordering is the only cure. */
export class LinkExpiredError extends HookError {
  override readonly name = 'LinkExpiredError';
  readonly retryable = false;
}

/**
 * The server does not serve this route in this form (400, 404, 405, 501): where the Hook's
 * documentation offers another route for the same thing, the caller tries that one.
 */
export function isRouteNotServed(err: unknown): boolean {
  return err instanceof HookError && [400, 404, 405, 501].includes(err.status ?? 0);
}

/** Builds the error for a non-2xx status. `detail` is the server's message, if any. */
export function hookErrorFromStatus(status: number, context: HookErrorContext, retryAfterMs?: number): HookError {
  const ctx = { ...context, status };
  if (status === 429 || (status === 503 && retryAfterMs !== undefined)) {
    return new HookRateLimitError(`Hook asked to slow down (HTTP ${status})`, ctx, retryAfterMs);
  }
  if (status === 401) return new HookAuthError('Hook rejected the credentials (HTTP 401)', ctx);
  if (status === 403) return new HookForbiddenError('Hook refused access (HTTP 403)', ctx);
  if (status >= 500) return new HookServerError(`Hook failed (HTTP ${status})`, ctx);
  if (status === 408) return new HookConnectionError('Hook timed out the request (HTTP 408)', ctx);
  return new HookRequestError(`Hook refused the request (HTTP ${status})`, ctx);
}

/**
 * `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP date; undefined when absent
 * or unparsable. Never negative.
 */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return undefined;
  const trimmed = raw.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Wraps a low-level failure (socket, DNS, timeout) into a HookConnectionError; passes HookErrors through. */
export function toHookError(err: unknown, context: HookErrorContext): HookError {
  if (err instanceof HookError) return err;
  const cause = err instanceof Error && err.message === 'fetch failed' && err.cause ? err.cause : err;
  const code = (cause as { code?: string }).code;
  const reason = code ?? (cause instanceof Error ? cause.message : String(cause));
  return new HookConnectionError(`Connection to the Hook failed (${reason})`, { ...context, cause });
}

export function isRetryable(err: unknown): boolean {
  return err instanceof HookError ? err.retryable : true;
}

function shorten(text: string, max = 500): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
