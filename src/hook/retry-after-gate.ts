/**
 * Obeys `Retry-After` for the whole worker: once a server says "not before T", no request goes to
 * that origin before T — the call fails at once with a rate-limit error carrying the time left, and
 * Temporal retries the activity after it. No waiting loop, no request sent early.
 */
import { HookRateLimitError, parseRetryAfter } from './errors';
import type { HttpRequest, HttpResponse } from './http';

export class RetryAfterGate {
  private readonly notBefore = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Throws when `url`'s origin asked us to wait and the time has not come. */
  check(req: Pick<HttpRequest, 'method' | 'url'>): void {
    const until = this.notBefore.get(new URL(req.url).origin);
    if (until === undefined) return;
    const left = until - this.now();
    if (left <= 0) {
      this.notBefore.delete(new URL(req.url).origin);
      return;
    }
    throw new HookRateLimitError(
      `Not calling the Hook before its Retry-After passes (${Math.ceil(left / 1000)} s left)`,
      { method: req.method, url: req.url, status: 429 },
      left,
    );
  }

  /** Remembers a 429/503 answer's Retry-After for the origin. */
  observe(req: Pick<HttpRequest, 'url'>, res: HttpResponse): void {
    if (res.statusCode !== 429 && res.statusCode !== 503) return;
    const waitMs = parseRetryAfter(res.headers['retry-after'], this.now());
    if (waitMs === undefined) return;
    const origin = new URL(req.url).origin;
    this.notBefore.set(origin, Math.max(this.notBefore.get(origin) ?? 0, this.now() + waitMs));
  }
}
