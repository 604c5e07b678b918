/**
 * The account limiter's bookkeeping, free of Temporal so it can be tested alone: held permits,
 * a FIFO of waiting requests, and the month's order count.
 *
 * Rules: a request for n items is granted min(n, limit) items once that many are free and the
 * month's budget has an order left; requests are served strictly in arrival order (a large request
 * at the head is not overtaken, so it cannot starve). Each grant is one order of the month.
 * Requests and releases are idempotent by key, and a key released once is never granted again
 * (a late duplicate request cannot leak a permit).
 */
import type { AccountLimits, AccountStatus, PermitRequest } from '../shared/account-limiter';

export interface HeldPermit {
  holder: string;
  items: number;
  since: string;
}

export interface PermitBookState {
  account: string;
  limits: AccountLimits;
  held: Record<string, HeldPermit>;
  waiting: PermitRequest[];
  /** `YYYY-MM` (UTC) the order count is for. */
  month: string;
  ordersThisMonth: number;
  peakInUse: number;
  /** Keys released lately, newest last (bounded). */
  released: string[];
}

export interface Grant {
  key: string;
  holder: string;
  items: number;
  ordersThisMonth: number;
}

const RELEASED_MEMORY = 2000;

export function monthOf(now: Date): string {
  return now.toISOString().slice(0, 7);
}

/** The first instant of the month after `now` (UTC). */
export function nextMonthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}

export class PermitBook {
  private readonly state: PermitBookState;
  private readonly releasedSet: Set<string>;

  constructor(state: PermitBookState) {
    this.state = structuredCloneState(state);
    this.releasedSet = new Set(this.state.released);
  }

  static empty(account: string, limits: AccountLimits, now: Date): PermitBook {
    return new PermitBook({
      account,
      limits,
      held: {},
      waiting: [],
      month: monthOf(now),
      ordersThisMonth: 0,
      peakInUse: 0,
      released: [],
    });
  }

  get limits(): AccountLimits {
    return this.state.limits;
  }

  get inUse(): number {
    return Object.values(this.state.held).reduce((sum, permit) => sum + permit.items, 0);
  }

  get holders(): string[] {
    return [...new Set([...Object.values(this.state.held), ...this.state.waiting].map((p) => p.holder))];
  }

  get busy(): boolean {
    return this.state.waiting.length > 0 || Object.keys(this.state.held).length > 0;
  }

  /** Queues a request; a key already waiting, held or released is ignored. Returns whether it was queued. */
  request(req: PermitRequest): boolean {
    if (this.releasedSet.has(req.key) || this.state.held[req.key]) return false;
    if (this.state.waiting.some((w) => w.key === req.key)) return false;
    if (!Number.isInteger(req.items) || req.items < 1) return false;
    this.state.waiting.push({ key: req.key, holder: req.holder, items: req.items });
    return true;
  }

  /**
   * Frees a held permit or withdraws a waiting request. `unused`: the holder did not order with a
   * permit it held (it was paused meanwhile), so the grant no longer counts as an order of the month.
   */
  release(key: string, unused = false): void {
    const permit = this.state.held[key];
    if (permit && unused && monthOf(new Date(permit.since)) === this.state.month && this.state.ordersThisMonth > 0) {
      this.state.ordersThisMonth--;
    }
    delete this.state.held[key];
    this.state.waiting = this.state.waiting.filter((w) => w.key !== key);
    this.remember(key);
  }

  /** Frees everything of `holder`; returns the keys. */
  releaseHolder(holder: string): string[] {
    const keys = [
      ...Object.entries(this.state.held)
        .filter(([, p]) => p.holder === holder)
        .map(([key]) => key),
      ...this.state.waiting.filter((w) => w.holder === holder).map((w) => w.key),
    ];
    for (const key of keys) this.release(key);
    return keys;
  }

  setLimits(change: Partial<AccountLimits>): void {
    this.state.limits = { ...this.state.limits, ...change };
  }

  /** Starts a new month's count when the month changed. */
  rollMonth(now: Date): void {
    const month = monthOf(now);
    if (month !== this.state.month) {
      this.state.month = month;
      this.state.ordersThisMonth = 0;
    }
  }

  get budgetExhausted(): boolean {
    return this.state.ordersThisMonth >= this.state.limits.monthlyOrders;
  }

  /** Whether the head of the queue can be granted now. */
  canGrant(): boolean {
    const head = this.state.waiting[0];
    if (!head || this.budgetExhausted) return false;
    return this.inUse + Math.min(head.items, this.state.limits.maxItemsInFlight) <= this.state.limits.maxItemsInFlight;
  }

  /** Grants from the head of the queue while requests fit; `now` stamps the permits. */
  grant(now: Date): Grant[] {
    const grants: Grant[] = [];
    while (this.canGrant()) {
      const head = this.state.waiting.shift()!;
      const items = Math.min(head.items, this.state.limits.maxItemsInFlight);
      this.state.held[head.key] = { holder: head.holder, items, since: now.toISOString() };
      this.state.ordersThisMonth++;
      this.state.peakInUse = Math.max(this.state.peakInUse, this.inUse);
      grants.push({ key: head.key, holder: head.holder, items, ordersThisMonth: this.state.ordersThisMonth });
    }
    return grants;
  }

  status(): AccountStatus {
    const { account, limits, held, waiting, month, ordersThisMonth, peakInUse } = this.state;
    return {
      account,
      limits: { ...limits },
      inUse: this.inUse,
      peakInUse,
      held: Object.entries(held).map(([key, p]) => ({ key, ...p })),
      waiting: waiting.map((w) => ({ ...w })),
      month,
      ordersThisMonth,
      ordersLeftThisMonth: Math.max(0, limits.monthlyOrders - ordersThisMonth),
    };
  }

  snapshot(): PermitBookState {
    return structuredCloneState(this.state);
  }

  private remember(key: string): void {
    if (this.releasedSet.has(key)) return;
    this.releasedSet.add(key);
    this.state.released.push(key);
    if (this.state.released.length > RELEASED_MEMORY) {
      const dropped = this.state.released.shift()!;
      this.releasedSet.delete(dropped);
    }
  }
}

function structuredCloneState(state: PermitBookState): PermitBookState {
  return {
    ...state,
    limits: { ...state.limits },
    held: Object.fromEntries(Object.entries(state.held).map(([key, p]) => [key, { ...p }])),
    waiting: state.waiting.map((w) => ({ ...w })),
    released: [...state.released],
  };
}
