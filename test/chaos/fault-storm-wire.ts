/**
 * A client-side witness for Retry-After, independent of the worker's own gate: it watches every
 * HTTP request undici makes in this process (the in-process worker's included) through undici's
 * diagnostics channels, and notes when each was created and when its answer's headers arrived.
 *
 * Why the emulator's own flag is not enough: it calls a request "early" when it ARRIVES before a
 * 429's time is up, per client (the bearer's subject). Many activities share one subject, so a
 * request already on the wire when the 429 was written arrives "early" although nobody could have
 * known. The witness sees every request (the scenario checks that it saw as many as the emulator
 * counted, so none went around it) and finds the real violations: a request CREATED after a 429
 * reached this process and before its Retry-After elapsed, for the same client.
 *
 * Clients are named as the emulator names them (`sub:<subject>`, `object:<path>`, `addr`), so the
 * two views can be compared. Tokens are only decoded for their subject, never kept or printed.
 */
import diagnostics from 'node:diagnostics_channel';
import { jwtClaims } from '../../src/hook/tokens';

interface WireRequest {
  origin: string;
  client: string;
  label: string;
  path: string;
  createdAt: number;
  /** Order of events in this process: two events in the same millisecond still have an order. */
  createdSeq: number;
  answeredAt?: number;
  answeredSeq?: number;
  status?: number;
  retryAfterSec?: number;
}

/** What undici publishes: the request object (only the fields read here). */
interface UndiciRequest {
  origin: string | URL;
  method: string;
  path: string;
  headers: string[];
}

export interface RetryAfterViolation {
  client: string;
  /** The 429 that asked to wait, and the request sent anyway. */
  limited: string;
  sent: string;
  msAfter429: number;
}

export class RetryAfterWitness {
  private readonly requests = new Map<UndiciRequest, WireRequest>();
  private seq = 0;
  private readonly onCreate = (message: unknown) => {
    const { request } = message as { request: UndiciRequest };
    this.requests.set(request, {
      origin: new URL(String(request.origin)).origin,
      client: clientOf(request),
      label: `${request.method} ${request.path.split('?')[0]}`,
      path: request.path,
      createdAt: Date.now(),
      createdSeq: ++this.seq,
    });
  };
  private readonly onHeaders = (message: unknown) => {
    const { request, response } = message as {
      request: UndiciRequest;
      response: { statusCode: number; headers: Buffer[] };
    };
    const seen = this.requests.get(request);
    if (!seen) return;
    seen.answeredAt = Date.now();
    seen.answeredSeq = ++this.seq;
    seen.status = response.statusCode;
    if (response.statusCode === 429) seen.retryAfterSec = Number(header(response.headers, 'retry-after'));
  };

  start(): this {
    diagnostics.subscribe('undici:request:create', this.onCreate);
    diagnostics.subscribe('undici:request:headers', this.onHeaders);
    return this;
  }

  stop(): void {
    diagnostics.unsubscribe('undici:request:create', this.onCreate);
    diagnostics.unsubscribe('undici:request:headers', this.onHeaders);
  }

  /** Requests created for `origin` while watching, but for the emulator's admin API (which it does not count). */
  requestsTo(origin: string): number {
    return [...this.requests.values()].filter((r) => r.origin === origin && !r.path.startsWith('/_emulator/')).length;
  }

  /** Requests created after a 429 reached this process and before its Retry-After elapsed, same client. */
  violations(): RetryAfterViolation[] {
    const all = [...this.requests.values()];
    const found: RetryAfterViolation[] = [];
    for (const limited of all) {
      if (limited.status !== 429 || limited.answeredAt === undefined || limited.answeredSeq === undefined) continue;
      const until = limited.answeredAt + (limited.retryAfterSec ?? 0) * 1000;
      for (const r of all) {
        // Created before the 429 arrived (by event order, not the clock: a millisecond holds many events).
        if (r === limited || r.client !== limited.client || r.createdSeq < limited.answeredSeq || r.createdAt >= until)
          continue;
        found.push({
          client: r.client,
          limited: limited.label,
          sent: r.label,
          msAfter429: r.createdAt - limited.answeredAt,
        });
      }
    }
    return found;
  }
}

function header(raw: Buffer[] | string[], name: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (String(raw[i]).toLowerCase() === name) return String(raw[i + 1]);
  }
  return undefined;
}

/** The emulator's name for a caller: the bearer's subject, else the signed object, else the address. */
function clientOf(request: UndiciRequest): string {
  const auth = header(request.headers, 'authorization');
  const bearer = auth?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const sub = bearer ? jwtClaims(bearer)?.['sub'] : undefined;
  if (typeof sub === 'string') return `sub:${sub}`;
  const path = decodeURIComponent(request.path.split('?')[0]!).replace(/\/{2,}/g, '/');
  if (path.startsWith('/swift/')) return `object:${path}`;
  return 'addr';
}
