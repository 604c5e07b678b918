/**
 * What happened, for the admin report: requests per route, orders per `Name`, injected faults,
 * and every 429 with the time before which the same client should not come back — plus whether
 * it did. A client is the bearer's subject, or the object path for signed links, or the remote
 * address otherwise. Also the byte offset each signed-link download started at (resumes), and the
 * access tokens issued and the distinct ones requests carried (renewal that was used).
 */

export type InjectedFault =
  | 'error'
  | 'rateLimit'
  | 'latency'
  | 'reset'
  | 'truncate'
  | 'corrupt'
  | 'itemFailure'
  | 'itemStuck'
  | 'linkExpiredEarly'
  | 'lostOrderResponse'
  | 'overConnectionLimit';

export interface RateLimitRecord {
  client: string;
  route: string;
  /** When the 429 was sent (ISO). */
  at: string;
  retryAfterSec: number;
  /** The client should not come back before this instant (ISO). */
  notBefore: string;
  /** Whether the same client sent another request before `notBefore`. */
  cameBackEarly: boolean;
  /** Requests the client sent before `notBefore`. */
  earlyRequests: number;
}

/** One GET of a signed storage link that reached the object: where its body started. */
export interface StorageRead {
  /** The object's path. */
  object: string;
  /** The first byte asked for: the `Range` start, 0 without a (satisfiable) range. */
  start: number;
}

export type TokenRealm = 'desp' | 'dedl';

export interface AccessTokenCounts {
  /** Access tokens issued (a faulted request to a token endpoint issues none). */
  issued: number;
  /** Distinct access tokens that requests carried and a route accepted. */
  used: number;
}

export interface StatsReport {
  ordersByName: Record<string, number>;
  ordersCreated: number;
  requestsByRoute: Record<string, number>;
  requestsTotal: number;
  faultsInjected: Record<InjectedFault, number>;
  rateLimited: RateLimitRecord[];
  /** Number of requests that arrived before the `notBefore` of a 429 sent to the same client. */
  earlyReturns: number;
  anyEarlyReturn: boolean;
  /** Signed-link downloads in arrival order (the newest 5000). */
  storageReads: StorageRead[];
  accessTokens: Record<TokenRealm, AccessTokenCounts>;
}

const MAX_RATE_LIMIT_RECORDS = 5000;
const MAX_STORAGE_READS = 5000;

export class EmulatorStats {
  private requests = new Map<string, number>();
  private requestsTotal = 0;
  private orders = new Map<string, number>();
  private ordersCreated = 0;
  private faults = EmulatorStats.zeroFaults();
  private rateLimited: { record: RateLimitRecord; notBeforeMs: number }[] = [];
  private holds = new Map<string, { record: RateLimitRecord; notBeforeMs: number }>();
  private earlyReturns = 0;
  private storageReads: StorageRead[] = [];
  private tokensIssued: Record<TokenRealm, number> = { desp: 0, dedl: 0 };
  private tokensUsed: Record<TokenRealm, Set<string>> = { desp: new Set(), dedl: new Set() };

  private static zeroFaults(): Record<InjectedFault, number> {
    return {
      error: 0,
      rateLimit: 0,
      latency: 0,
      reset: 0,
      truncate: 0,
      corrupt: 0,
      itemFailure: 0,
      itemStuck: 0,
      linkExpiredEarly: 0,
      overConnectionLimit: 0,
      lostOrderResponse: 0,
    };
  }

  /** Counts a request and checks it against the client's outstanding 429. */
  request(route: string, client: string, nowMs: number): void {
    this.requests.set(route, (this.requests.get(route) ?? 0) + 1);
    this.requestsTotal++;
    const hold = this.holds.get(client);
    if (!hold) return;
    if (nowMs < hold.notBeforeMs) {
      hold.record.cameBackEarly = true;
      hold.record.earlyRequests++;
      this.earlyReturns++;
    } else {
      this.holds.delete(client);
    }
  }

  rateLimit(route: string, client: string, nowMs: number, retryAfterSec: number): void {
    const notBeforeMs = nowMs + retryAfterSec * 1000;
    const record: RateLimitRecord = {
      client,
      route,
      at: new Date(nowMs).toISOString(),
      retryAfterSec,
      notBefore: new Date(notBeforeMs).toISOString(),
      cameBackEarly: false,
      earlyRequests: 0,
    };
    const entry = { record, notBeforeMs };
    this.rateLimited.push(entry);
    if (this.rateLimited.length > MAX_RATE_LIMIT_RECORDS) this.rateLimited.shift();
    this.holds.set(client, entry);
    this.fault('rateLimit');
  }

  fault(kind: InjectedFault): void {
    this.faults[kind]++;
  }

  storageRead(object: string, start: number): void {
    this.storageReads.push({ object, start });
    if (this.storageReads.length > MAX_STORAGE_READS) this.storageReads.shift();
  }

  tokenIssued(realm: TokenRealm): void {
    this.tokensIssued[realm]++;
  }

  /** `id` names the token (its `jti`); each is counted once. */
  tokenUsed(realm: TokenRealm, id: string): void {
    this.tokensUsed[realm].add(id);
  }

  orderCreated(name: string): void {
    this.orders.set(name, (this.orders.get(name) ?? 0) + 1);
    this.ordersCreated++;
  }

  report(): StatsReport {
    return {
      ordersByName: Object.fromEntries(this.orders),
      ordersCreated: this.ordersCreated,
      requestsByRoute: Object.fromEntries([...this.requests].sort(([a], [b]) => (a < b ? -1 : 1))),
      requestsTotal: this.requestsTotal,
      faultsInjected: { ...this.faults },
      rateLimited: this.rateLimited.map((e) => ({ ...e.record })),
      earlyReturns: this.earlyReturns,
      anyEarlyReturn: this.earlyReturns > 0,
      storageReads: this.storageReads.map((r) => ({ ...r })),
      accessTokens: {
        desp: { issued: this.tokensIssued.desp, used: this.tokensUsed.desp.size },
        dedl: { issued: this.tokensIssued.dedl, used: this.tokensUsed.dedl.size },
      },
    };
  }

  reset(): void {
    this.requests.clear();
    this.requestsTotal = 0;
    this.orders.clear();
    this.ordersCreated = 0;
    this.faults = EmulatorStats.zeroFaults();
    this.rateLimited = [];
    this.holds.clear();
    this.earlyReturns = 0;
    this.storageReads = [];
    this.tokensIssued = { desp: 0, dedl: 0 };
    this.tokensUsed = { desp: new Set(), dedl: new Set() };
  }
}
