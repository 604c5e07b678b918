/**
 * How every call to a DEDL service that needs the bearer is sent: through the worker-wide
 * Retry-After gate, with the current token, and on a 401 or 403 once more with a renewed token
 * (the server may retire a token before its `exp`, and gateways answer an expired token either
 * way, docs/hook-api.md §3). Shared by the ODP client and the STAC client.
 */
import type { Dispatcher } from 'undici';
import { type HttpObserver, type HttpRequest, type HttpResponse, send } from './http';
import { RetryAfterGate } from './retry-after-gate';
import type { TokenSource } from './tokens';

export interface BearerTransportOptions {
  tokens: TokenSource;
  dispatcher: Dispatcher;
  /** Shared by every client of one worker, so a Retry-After holds for all of them. */
  gate?: RetryAfterGate;
  /** Told the operation, status and latency of every request sent (the worker's metrics). */
  observer?: HttpObserver;
}

export class BearerTransport {
  private readonly gate: RetryAfterGate;

  constructor(private readonly options: BearerTransportOptions) {
    this.gate = options.gate ?? new RetryAfterGate();
  }

  /** Sends with the bearer; on a 401 or 403, renews the token once and sends again. */
  async authorized(req: HttpRequest): Promise<HttpResponse> {
    const { tokens } = this.options;
    const token = await tokens.token(req.signal);
    const res = await this.send(withBearer(req, token));
    if (res.statusCode !== 401 && res.statusCode !== 403) return res;
    await res.body.dump();
    tokens.invalidate(token);
    return this.send(withBearer(req, await tokens.token(req.signal)));
  }

  /** Sends without credentials (signed links), still under the Retry-After gate. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    this.gate.check(req);
    const started = performance.now();
    let status: number | undefined;
    try {
      const res = await send(this.options.dispatcher, req);
      status = res.statusCode;
      this.gate.observe(req, res);
      return res;
    } finally {
      this.options.observer?.exchange({
        operation: req.operation ?? 'other',
        method: req.method,
        status,
        durationMs: performance.now() - started,
      });
    }
  }
}

function withBearer(req: HttpRequest, token: string): HttpRequest {
  return { ...req, headers: { accept: 'application/json', ...req.headers, authorization: `Bearer ${token}` } };
}
