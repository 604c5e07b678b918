/**
 * The campaign's bookkeeping, free of Temporal so it can be tested alone (like `PermitBook`): the
 * queue of products still to order, the orders under way ("lanes"), each finished product's
 * outcome, the order size, order ids, progress arithmetic, and the state carried across
 * continue-as-new.
 *
 * Rules: an order is cut from the head of the queue only when a lane is free and its items fit
 * the campaign's items-in-flight limit; an order waiting for its permit when the campaign pauses
 * gives its products back to the head of the queue; a permit for fewer items than asked puts the
 * rest back too. Only the workflow's clock enters, as `now` arguments.
 */
import {
  type AccountView,
  type CampaignItem,
  type CampaignItemState,
  type CampaignPhase,
  type CampaignProgress,
  type CampaignReport,
  campaignOutcome,
  countStates,
} from '../shared/campaign-report';
import type { CampaignRequest, ConcurrencyChange } from '../shared/campaign-request';
import type { HarvestReport } from '../shared/harvest-report';
import { stableHash } from '../shared/stable-hash';

/** A finished product's state (the others are only ever in the queue or in a lane). */
export type FinishedState = Exclude<CampaignItemState, 'pending' | 'waiting' | 'ordered'>;

/** A finished product's outcome (carried across continue-as-new). */
export interface ProductOutcome {
  state: FinishedState;
  bytes?: number;
  /** Where it went, when not the sink's default `<sink>/<identifier>.zip`. */
  location?: string;
  error?: string;
  /** Sequence number of the order that handled it last. */
  order?: number;
}

export interface CampaignLimits {
  maxOrdersInFlight: number;
  maxItemsInFlight?: number;
  orderSize: number;
}

/** What one run hands to the next (continue-as-new). */
export interface CampaignCarry {
  optionsHash: string;
  /** Products still to order, in order. */
  pending: string[];
  outcomes: Record<string, ProductOutcome>;
  /** Sequence number of the next order. */
  nextSeq: number;
  /** Orders created (permits used). */
  orders: number;
  /** Bytes delivered. */
  bytes: number;
  /** Products delivered. */
  delivered: number;
  paused: boolean;
  limits: CampaignLimits;
  account: AccountView;
  startedAt: string;
  firstOrderAt?: string;
  runs: number;
  lastError?: string;
}

/**
 * Compatibility: runs of the campaign before the book carried each outcome with one-letter fields
 * (`s` state, `b` bytes, `l` location, `e` error, `o` order). A campaign started by such a run
 * continues as new into this code with them (test/fixtures/histories/*-one-letter*.json are
 * recorded ones, replayed in test/replay and carried on in test/workflow), so they are read
 * here, once, and carried on in the readable form.
 */
interface OneLetterOutcome {
  s: FinishedState;
  b?: number;
  l?: string;
  e?: string;
  o?: number;
}
export type CarriedState = Omit<CampaignCarry, 'outcomes'> & {
  outcomes: Record<string, ProductOutcome | OneLetterOutcome>;
};

function readOutcome(outcome: ProductOutcome | OneLetterOutcome): ProductOutcome {
  if (!('s' in outcome)) return { ...outcome };
  const read: ProductOutcome = { state: outcome.s };
  if (outcome.b !== undefined) read.bytes = outcome.b;
  if (outcome.l !== undefined) read.location = outcome.l;
  if (outcome.e !== undefined) read.error = outcome.e;
  if (outcome.o !== undefined) read.order = outcome.o;
  return read;
}

/** An order waiting for its permit or under way. */
export interface Lane {
  /** The order id: the child harvest's workflow id. */
  key: string;
  seq: number;
  identifiers: string[];
  phase: 'waiting' | 'ordered';
}

/** Who the book keeps accounts for (not carried: each run knows it). */
export interface CampaignBookContext {
  workflowId: string;
  /** Distinguishes this chain of runs from an earlier campaign with the same workflow id. */
  chainKey: string;
  /** The TEMPORARY sink, whose default locations are not carried. */
  sink?: string;
}

/** Items per order: the request's order size, within the campaign's and the account's items in flight. */
export function orderSizeOf(limits: CampaignLimits, accountMaxItemsInFlight: number): number {
  return Math.min(limits.orderSize, limits.maxItemsInFlight ?? Infinity, accountMaxItemsInFlight);
}

/** The id of one order of a campaign: its child harvest's workflow id. */
export function campaignOrderId(workflowId: string, seq: number, chainKey: string): string {
  return `${workflowId}/order-${String(seq).padStart(4, '0')}-${chainKey}`;
}

/** The first run's state: nothing resolved yet. */
export function initialCarry(
  request: Pick<CampaignLimits, 'maxOrdersInFlight' | 'maxItemsInFlight' | 'orderSize'> & {
    paused: boolean;
    account: Pick<AccountView, 'name' | 'maxItemsInFlight' | 'monthlyOrders'>;
  },
  now: Date,
): CampaignCarry {
  const { maxOrdersInFlight, maxItemsInFlight, orderSize, account } = request;
  return {
    optionsHash: '',
    pending: [],
    outcomes: {},
    nextSeq: 1,
    orders: 0,
    bytes: 0,
    delivered: 0,
    paused: request.paused,
    limits: { maxOrdersInFlight, maxItemsInFlight, orderSize },
    account: { name: account.name, maxItemsInFlight: account.maxItemsInFlight, monthlyOrders: account.monthlyOrders },
    startedAt: now.toISOString(),
    runs: 0,
  };
}

export class CampaignBook {
  private readonly state: CampaignCarry;
  private readonly lanes = new Map<string, Lane>();
  /** The month of the last grant noted (grants of one month arrive in any order). */
  private grantMonth: string | undefined;

  /**
   * The book of one run: the first run's (`carried` undefined) starts empty, a later run's from
   * what the run before handed over.
   */
  static forRun(
    request: CampaignRequest,
    run: { workflowId: string; firstExecutionRunId: string },
    carried: CarriedState | undefined,
    now: Date,
  ): CampaignBook {
    const { output } = request;
    return new CampaignBook(
      {
        workflowId: run.workflowId,
        chainKey: stableHash(run.firstExecutionRunId).slice(0, 6),
        sink: output.storage === 'TEMPORARY' ? output.sink : undefined,
      },
      carried ?? initialCarry(request, now),
    );
  }

  /** A run of the campaign from `carried`: the first run's initial state or what the last run handed over. */
  constructor(
    private readonly context: CampaignBookContext,
    carried: CarriedState,
  ) {
    const outcomes = Object.entries(carried.outcomes).map(([id, outcome]) => [id, readOutcome(outcome)]);
    this.state = {
      ...carried,
      pending: [...carried.pending],
      outcomes: Object.fromEntries(outcomes) as Record<string, ProductOutcome>,
      limits: { ...carried.limits },
      account: { ...carried.account },
      runs: carried.runs + 1,
    };
  }

  get paused(): boolean {
    return this.state.paused;
  }

  get queued(): number {
    return this.state.pending.length;
  }

  get optionsHash(): string {
    return this.state.optionsHash;
  }

  lane(key: string): Lane | undefined {
    return this.lanes.get(key);
  }

  /** The products to order, those the ledger already holds, and those it holds as quarantined. */
  resolved(
    optionsHash: string,
    toOrder: readonly string[],
    skipped: readonly string[],
    quarantined: readonly { identifier: string; reason: string }[] = [],
  ): void {
    this.state.optionsHash = optionsHash;
    this.state.pending = [...toOrder];
    this.settle(skipped, { state: 'skipped' });
    for (const { identifier, reason } of quarantined) {
      this.settle([identifier], { state: 'quarantined', error: `quarantined earlier: ${reason}` });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Queue and lanes

  private nextBatchSize(): number {
    return Math.min(orderSizeOf(this.state.limits, this.state.account.maxItemsInFlight), this.state.pending.length);
  }

  private itemsInFlight(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.identifiers.length;
    return n;
  }

  /** Whether another order can be cut now. */
  canLaunch(): boolean {
    const { limits, paused, pending } = this.state;
    return (
      !paused &&
      pending.length > 0 &&
      this.lanes.size < limits.maxOrdersInFlight &&
      this.itemsInFlight() + this.nextBatchSize() <= (limits.maxItemsInFlight ?? Infinity)
    );
  }

  /** Cuts the next order from the head of the queue; it waits for its permit. */
  launch(): Lane {
    const identifiers = this.state.pending.splice(0, this.nextBatchSize());
    const seq = this.state.nextSeq++;
    const lane: Lane = { key: this.orderId(seq), seq, identifiers, phase: 'waiting' };
    this.lanes.set(lane.key, lane);
    return lane;
  }

  /** Paused while waiting for its permit: the order is withdrawn and its products go back to the head of the queue. */
  withdraw(lane: Lane): void {
    this.lanes.delete(lane.key);
    this.state.pending.unshift(...lane.identifiers);
  }

  /** The permit came for `items`: the order goes ahead with that many products, the rest back to the queue. */
  ordered(lane: Lane, items: number, now: Date): void {
    if (items < lane.identifiers.length) this.state.pending.unshift(...lane.identifiers.splice(items));
    lane.phase = 'ordered';
    this.state.orders++;
    this.state.firstOrderAt ??= now.toISOString();
  }

  /** The order's child ended: its slot is free (its products may still be recording in the ledger). */
  closeLane(key: string): void {
    this.lanes.delete(key);
  }

  /**
   * The account as the limiter reported it with a grant. The limiter signals the grants it makes at
   * once concurrently, so a later grant (a higher count) can arrive first: within a month, the
   * account view only moves forward.
   */
  noteGrant(limits: { maxItemsInFlight: number; monthlyOrders: number }, ordersThisMonth: number, month: string): void {
    if (month === this.grantMonth && ordersThisMonth < (this.state.account.ordersThisMonth ?? 0)) return;
    this.grantMonth = month;
    this.state.account = {
      name: this.state.account.name,
      maxItemsInFlight: limits.maxItemsInFlight,
      monthlyOrders: limits.monthlyOrders,
      ordersThisMonth,
      ordersLeftThisMonth: Math.max(0, limits.monthlyOrders - ordersThisMonth),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Outcomes

  private settle(identifiers: readonly string[], outcome: ProductOutcome): void {
    for (const identifier of identifiers) this.state.outcomes[identifier] = { ...outcome };
  }

  /** Every product of the order failed with `message` (the child failed, or could not start). */
  orderFailed(lane: Lane, message: string): void {
    this.state.lastError = `order ${lane.seq}: ${message}`;
    this.settle(lane.identifiers, { state: 'failed', error: message, order: lane.seq });
  }

  /** The campaign was cancelled with the order waiting for its permit (no `seq`) or under way. */
  orderCancelled(lane: Lane, ordered: boolean): void {
    this.settle(lane.identifiers, {
      state: 'cancelled',
      error: 'the campaign was cancelled',
      ...(ordered ? { order: lane.seq } : {}),
    });
  }

  /** The campaign was cancelled: what was still queued is cancelled without ordering. */
  cancelQueue(): void {
    this.settle(this.state.pending.splice(0), {
      state: 'cancelled',
      error: 'the campaign was cancelled before ordering it',
    });
  }

  /** The order's report: each product's outcome; a product missing from it failed. */
  applyReport(lane: Lane, report: HarvestReport): void {
    const seen = new Set<string>();
    for (const item of report.items) {
      seen.add(item.identifier);
      if (item.state === 'delivered') {
        const outcome: ProductOutcome = { state: 'delivered', bytes: item.bytes ?? 0, order: lane.seq };
        if (item.location && item.location !== this.defaultLocation(item.identifier)) outcome.location = item.location;
        this.state.outcomes[item.identifier] = outcome;
        this.state.bytes += item.bytes ?? 0;
        this.state.delivered++;
      } else {
        // A product that failed verification is set aside (campaign-records.ts writes it to the ledger).
        const state =
          item.state === 'timed_out' || item.state === 'cancelled'
            ? item.state
            : item.failure === 'IntegrityError'
              ? 'quarantined'
              : 'failed';
        this.state.outcomes[item.identifier] = { state, error: item.error ?? `ended ${item.state}`, order: lane.seq };
      }
    }
    const missing = lane.identifiers.filter((id) => !seen.has(id));
    this.settle(missing, { state: 'failed', error: 'not in the report of its order', order: lane.seq });
  }

  noteError(message: string): void {
    this.state.lastError = message;
  }

  private defaultLocation(identifier: string): string | undefined {
    const { sink } = this.context;
    return sink === undefined ? undefined : `${sink.replace(/\/+$/, '')}/${identifier}.zip`;
  }

  // ---------------------------------------------------------------------------------------------
  // Controls

  setPaused(paused: boolean): void {
    this.state.paused = paused;
  }

  setLimits(change: ConcurrencyChange): void {
    const { limits } = this.state;
    if (change.maxOrdersInFlight !== undefined) limits.maxOrdersInFlight = change.maxOrdersInFlight;
    if (change.maxItemsInFlight !== undefined) limits.maxItemsInFlight = change.maxItemsInFlight;
    if (change.orderSize !== undefined) limits.orderSize = change.orderSize;
  }

  /** Puts the failed (and, when asked, timed-out) products back at the end of the queue; returns them. */
  retryFailed(includeTimedOut: boolean): string[] {
    const retry = new Set<string>(['failed', ...(includeTimedOut ? ['timed_out'] : [])]);
    const requeued = Object.entries(this.state.outcomes)
      .filter(([, outcome]) => retry.has(outcome.state))
      .map(([identifier]) => identifier);
    for (const identifier of requeued) delete this.state.outcomes[identifier];
    this.state.pending.push(...requeued);
    return requeued;
  }

  // ---------------------------------------------------------------------------------------------
  // Reading

  orderId(seq: number): string {
    return campaignOrderId(this.context.workflowId, seq, this.context.chainKey);
  }

  /** The campaign's report (without its items: see `items`). */
  report(
    request: { name: string; collection: string; output: { storage: CampaignReport['storage'] } },
    cancelled: boolean,
    now: Date,
  ): CampaignReport {
    const { bytes, orders, runs, account, startedAt } = this.state;
    const counts = countStates(Object.values(this.state.outcomes).map((o) => o.state));
    return {
      name: request.name,
      workflowId: this.context.workflowId,
      collection: request.collection,
      storage: request.output.storage,
      outcome: campaignOutcome(counts, cancelled),
      counts,
      bytes,
      orders,
      runs,
      account: { ...account },
      startedAt,
      finishedAt: now.toISOString(),
    };
  }

  /** Every finished product, for the manifest. */
  items(): CampaignItem[] {
    return Object.entries(this.state.outcomes).map(([identifier, o]) => {
      const item: CampaignItem = { identifier, state: o.state };
      if (o.bytes !== undefined) item.bytes = o.bytes;
      // The default location comes back from the ledger with the sha256 (keeps this activity input small).
      if (o.location) item.location = o.location;
      if (o.error) item.error = o.error;
      if (o.order !== undefined) item.order = this.orderId(o.order);
      return item;
    });
  }

  progress(view: { name: string; phase: CampaignPhase }, now: Date): CampaignProgress {
    const { state } = this;
    const states: CampaignItemState[] = Object.values(state.outcomes).map((o) => o.state);
    for (const lane of this.lanes.values()) for (const _ of lane.identifiers) states.push(lane.phase);
    for (const _ of state.pending) states.push('pending');
    const counts = countStates(states);
    const { limits } = state;
    const batch = Math.max(1, orderSizeOf(limits, state.account.maxItemsInFlight));
    const lanes = [...this.lanes.values()];
    const progress: CampaignProgress = {
      name: view.name,
      workflowId: this.context.workflowId,
      phase: view.phase === 'running' && state.paused ? 'paused' : view.phase,
      paused: state.paused,
      counts,
      bytes: state.bytes,
      orders: {
        created: state.orders,
        inFlight: lanes.filter((l) => l.phase === 'ordered').length,
        waitingForPermit: lanes.filter((l) => l.phase === 'waiting').length,
        neededForRest: Math.ceil((counts.pending + counts.waiting) / batch),
      },
      limits: {
        maxOrdersInFlight: limits.maxOrdersInFlight,
        maxItemsInFlight: limits.maxItemsInFlight ?? state.account.maxItemsInFlight,
        orderSize: limits.orderSize,
      },
      account: { ...state.account },
      runs: state.runs,
      startedAt: state.startedAt,
      lastError: state.lastError,
    };
    const since = state.firstOrderAt ? Date.parse(state.firstOrderAt) : undefined;
    const seconds = since === undefined ? 0 : (now.getTime() - since) / 1000;
    if (seconds > 0 && state.delivered > 0) {
      const productsPerSecond = state.delivered / seconds;
      progress.rate = { productsPerSecond, bytesPerSecond: state.bytes / seconds };
      progress.etaSeconds = Math.round((counts.pending + counts.waiting + counts.ordered) / productsPerSecond);
    }
    return progress;
  }

  /** The state for the next run; orders must have drained (their products are in the queue or finished). */
  carry(): CampaignCarry {
    const { state } = this;
    return {
      ...state,
      pending: [...state.pending],
      outcomes: Object.fromEntries(Object.entries(state.outcomes).map(([id, o]) => [id, { ...o }])),
      limits: { ...state.limits },
      account: { ...state.account },
    };
  }
}
