/**
 * Obeys `Retry-After` for the whole worker: once a server says "not before T", no request goes to
 * that origin before T — the call fails at once with a rate-limit error carrying the time left, and
 * Temporal retries the activity after it. No waiting loop, no request sent early.
 *
 * Every request of a worker passes through its one gate: the ODP API, the STAC catalogue, signed
 * product links, and the identity providers' login and token endpoints alike (a login sent right
 * after a 429 is how accounts get banned for too many sessions, docs/hook-api.md §10).
 */
import type { Dispatcher } from 'undici';
import { HookRateLimitError, parseRetryAfter } from './errors';
import { type HttpRequest, type HttpResponse, send } from './http';

export class RetryAfterGate {
  private readonly notBefore = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Throws when `url`'s origin asked us to wait and the time has not come. */
  check(req: Pick<HttpRequest, 'method' | 'url'>): void {
    const origin = new URL(req.url).origin;
    const until = this.notBefore.get(origin);
    if (until === undefined) return;
    const left = until - this.now();
    if (left <= 0) {
      this.notBefore.delete(origin);
      return;
    }
    throw new HookRateLimitError(
      `Not calling ${origin} before its Retry-After passes (${Math.ceil(left / 1000)} s left)`,
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

  /**
   * Sends one request under the gate: refused without sending while its origin's time runs, and an
   * answer that asks to wait closes the gate before the caller reads the body — so no other request
   * of this worker can leave in between.
   */
  async send(dispatcher: Dispatcher, req: HttpRequest): Promise<HttpResponse> {
    this.check(req);
    const res = await send(dispatcher, req);
    this.observe(req, res);
    return res;
  }
}

/** The worker's HTTP agent with its Retry-After gate: what every request to a DEDL service is sent through. */
export interface GatedHttp {
  dispatcher: Dispatcher;
  gate: RetryAfterGate;
}
