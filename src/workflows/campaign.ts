/**
 * `harvestCampaign`: many products harvested as a series of Hook orders, each a child `harvest`
 * (docs/architecture.md §5).
 *
 * resolve (identifiers or a STAC query, minus what the ledger holds as verified) → for each order:
 * a permit from the account's limiter (items in flight stay under the account's limit across
 * campaigns) → the child harvest, with a deterministic workflow id → its verified products into
 * the ledger → … → manifest.json and a STAC ItemCollection next to the products.
 *
 * Orders are cut from the queue only when a slot is free, so changing the order size or the
 * concurrency applies at once. Before the history grows large the campaign drains the orders under
 * way and continues as new with a compact state: the queue, each finished product's outcome, the
 * counters. Pause holds new orders, resume releases them, retry-failed puts failed products back
 * in the queue, cancel cancels the children (and so their Hook orders).
 */
import {
  CancellationScope,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import type { HarvestActivities } from '../activities/contract';
import {
  type PermitGrant,
  accountLimiterId,
  permitGrantedSignal,
  releaseHolderSignal,
  releasePermitSignal,
} from '../shared/account-limiter';
import {
  type ConcurrencyChange,
  campaignProgressQuery,
  pauseCampaignUpdate,
  resumeCampaignUpdate,
  retryFailedUpdate,
  setConcurrencyUpdate,
} from '../shared/campaign-messages';
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
import {
  type CampaignRequest,
  type CampaignRequestInput,
  ledgerOf,
  manifestTargetOf,
  orderRequest,
  parseCampaignRequest,
} from '../shared/campaign-request';
import type { HarvestReport } from '../shared/harvest-report';
import { HarvestCampaign, HarvestCollection, HarvestOutcome } from '../shared/search-attributes';
import { stableHash } from '../shared/stable-hash';
import { NON_RETRYABLE, invalidCampaign, resolveProducts } from './campaign-resolve';
import { harvest } from './harvest';
import { monthOf } from './permit-book';

/** Beyond this many products the result lists only those not delivered; the manifest always has every one. */
const INLINE_ITEMS = 1000;

/**
 * Asking the limiter for a permit is one short, idempotent signal-with-start: a local activity, so
 * it does not wait in the task queue behind an order's downloads.
 */
const permits = proxyLocalActivities<HarvestActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 30 },
});

// Ledger records and manifests are idempotent writes. Short timeouts matter because an attempt
// lost with its worker holds the campaign (it cannot continue-as-new or finish) until they fire:
// one order's ledger records take seconds; the final manifest looks every product up in the catalogue.
const retry = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  maximumAttempts: 30,
  nonRetryableErrorTypes: NON_RETRYABLE,
};
const ledgerOps = proxyActivities<HarvestActivities>({ startToCloseTimeout: '30 seconds', retry });
const manifestOps = proxyActivities<HarvestActivities>({ startToCloseTimeout: '2 minutes', retry });

/** A finished product's outcome, compact (it is carried across continue-as-new). */
interface Outcome {
  s: Exclude<CampaignItemState, 'pending' | 'waiting' | 'ordered'>;
  /** bytes */
  b?: number;
  /** location, when not the sink's default `<sink>/<identifier>.zip` */
  l?: string;
  /** error */
  e?: string;
  /** order sequence number */
  o?: number;
}

/** What one run hands to the next (continue-as-new). */
export interface CampaignCarry {
  optionsHash: string;
  pending: string[];
  outcomes: Record<string, Outcome>;
  nextSeq: number;
  orders: number;
  bytes: number;
  delivered: number;
  paused: boolean;
  limits: { maxOrdersInFlight: number; maxItemsInFlight?: number; orderSize: number };
  account: AccountView;
  startedAt: string;
  firstOrderAt?: string;
  runs: number;
  lastError?: string;
}

interface Lane {
  key: string;
  seq: number;
  identifiers: string[];
  phase: 'waiting' | 'ordered';
}

/**
 * @param input the campaign request (`temporal workflow start --input` takes it as is)
 * @param carried set by the campaign itself when it continues as new
 */
export async function harvestCampaign(input: CampaignRequestInput, carried?: CampaignCarry): Promise<CampaignReport> {
  let request: CampaignRequest;
  if (carried) {
    request = input as CampaignRequest; // already parsed by the first run
  } else {
    const parsed = parseCampaignRequest(input);
    if (!parsed.ok) throw invalidCampaign(parsed.problems);
    request = parsed.request;
  }
  const campaign = new Campaign(request, carried);
  return campaign.run();
}

class Campaign {
  private readonly info = workflowInfo();
  private readonly state: CampaignCarry;
  /** Orders waiting for a permit or under way (they count against the concurrency limits). */
  private readonly lanes = new Map<string, Lane>();
  /** Every order not finished yet, including those only recording their products in the ledger. */
  private readonly lanePromises = new Set<Promise<void>>();
  private readonly grants = new Map<string, PermitGrant>();
  /** Release signals on their way to the limiter; a run ends only after they were delivered. */
  private readonly releases = new Set<Promise<void>>();
  /** The month of the last grant noted (grants of one month arrive in any order). */
  private grantMonth: string | undefined;
  private phase: CampaignPhase;
  private laneFailure?: unknown;
  /** Distinguishes this chain of runs from an earlier campaign with the same workflow id. */
  private readonly chainKey: string;

  constructor(
    private readonly request: CampaignRequest,
    carried: CampaignCarry | undefined,
  ) {
    this.chainKey = stableHash(this.info.firstExecutionRunId).slice(0, 6);
    this.state = carried ?? {
      optionsHash: '',
      pending: [],
      outcomes: {},
      nextSeq: 1,
      orders: 0,
      bytes: 0,
      delivered: 0,
      paused: request.paused,
      limits: {
        maxOrdersInFlight: request.maxOrdersInFlight,
        maxItemsInFlight: request.maxItemsInFlight,
        orderSize: request.orderSize,
      },
      account: {
        name: request.account.name,
        maxItemsInFlight: request.account.maxItemsInFlight,
        monthlyOrders: request.account.monthlyOrders,
      },
      startedAt: new Date().toISOString(),
      runs: 0,
    };
    this.state.runs++;
    this.phase = carried ? 'running' : 'resolving';
    this.setHandlers();
  }

  async run(): Promise<CampaignReport> {
    upsertSearchAttributes([
      { key: HarvestCampaign, value: this.request.name },
      { key: HarvestCollection, value: this.request.collection },
    ]);
    try {
      if (this.phase === 'resolving') await this.resolve();
      this.phase = 'running';
      const next = await this.dispatch();
      if (next === 'continue') {
        await Promise.all([...this.releases]);
        await condition(allHandlersFinished);
        const { identifiers: _dropped, ...rest } = this.request;
        return await continueAsNew<typeof harvestCampaign>(rest, this.state);
      }
      return await this.finish(false);
    } catch (err) {
      if (!isCancellation(err)) throw err;
      await CancellationScope.nonCancellable(() => this.onCancelled());
      throw err;
    }
  }

  private async resolve(): Promise<void> {
    const resolved = await resolveProducts(this.request);
    this.state.optionsHash = resolved.optionsHash;
    this.state.pending = resolved.toOrder;
    for (const identifier of resolved.skipped) this.state.outcomes[identifier] = { s: 'skipped' };
    log.info('Campaign resolved', {
      found: resolved.found,
      toOrder: resolved.toOrder.length,
      skipped: resolved.skipped.length,
      truncated: resolved.truncated,
    });
  }

  /** Launches orders while there is room; returns when all is done or when it is time to continue as new. */
  private async dispatch(): Promise<'done' | 'continue'> {
    for (;;) {
      await condition(() => this.laneFailure !== undefined || this.idle() || this.continueDue() || this.canLaunch());
      if (this.laneFailure !== undefined) throw this.laneFailure;
      if (this.idle()) return 'done';
      if (this.continueDue()) {
        this.phase = 'continuing';
        await condition(() => this.lanePromises.size === 0 || this.laneFailure !== undefined);
        if (this.laneFailure !== undefined) throw this.laneFailure;
        // A retry-failed that arrived while draining may have left the campaign with nothing in flight and work queued.
        return this.idle() ? 'done' : 'continue';
      }
      this.launch();
    }
  }

  private idle(): boolean {
    return this.state.pending.length === 0 && this.lanePromises.size === 0;
  }

  private continueDue(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= this.request.continueAsNewAfterEvents;
  }

  private nextBatchSize(): number {
    const { limits, account, pending } = this.state;
    return Math.min(limits.orderSize, limits.maxItemsInFlight ?? Infinity, account.maxItemsInFlight, pending.length);
  }

  private itemsInFlight(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.identifiers.length;
    return n;
  }

  private canLaunch(): boolean {
    const { limits, paused, pending } = this.state;
    return (
      !paused &&
      pending.length > 0 &&
      this.lanes.size < limits.maxOrdersInFlight &&
      this.itemsInFlight() + this.nextBatchSize() <= (limits.maxItemsInFlight ?? Infinity)
    );
  }

  private launch(): void {
    const identifiers = this.state.pending.splice(0, this.nextBatchSize());
    const seq = this.state.nextSeq++;
    const key = `${this.info.workflowId}/order-${String(seq).padStart(4, '0')}-${this.chainKey}`;
    const lane: Lane = { key, seq, identifiers, phase: 'waiting' };
    this.lanes.set(key, lane);
    const promise = this.runOrder(lane)
      .catch((err: unknown) => {
        if (!isCancellation(err)) this.laneFailure ??= err;
      })
      .finally(() => {
        this.lanes.delete(key);
        this.grants.delete(key);
        this.lanePromises.delete(promise);
      });
    this.lanePromises.add(promise);
  }

  /** One order: permit → child harvest → outcomes → release → ledger. */
  private async runOrder(lane: Lane): Promise<void> {
    const { key } = lane;
    try {
      const { checkHoldersEvery } = this.request.account;
      await permits.requestAccountPermit({
        account: this.request.account,
        request: { key, holder: this.info.workflowId, items: lane.identifiers.length },
        limiter: checkHoldersEvery ? { reapEvery: checkHoldersEvery } : undefined,
      });
      await condition(() => this.grants.has(key) || this.state.paused);
    } catch (err) {
      if (isCancellation(err)) this.settle(lane.identifiers, { s: 'cancelled', e: 'the campaign was cancelled' });
      throw err;
    }
    const grant = this.grants.get(key);
    if (!grant || this.state.paused) {
      // Paused while waiting: give the permit (or the place in the queue) back and keep the products for later.
      this.release(key, true);
      this.state.pending.unshift(...lane.identifiers);
      return;
    }
    this.noteGrant(grant);
    if (grant.items < lane.identifiers.length) this.state.pending.unshift(...lane.identifiers.splice(grant.items));
    lane.phase = 'ordered';
    this.state.orders++;
    this.state.firstOrderAt ??= new Date().toISOString();

    let report: HarvestReport;
    try {
      report = await executeChild(harvest, {
        workflowId: key,
        args: [orderRequest(this.request, lane.seq, lane.identifiers)],
        // Terminating the campaign cancels its orders at the Hook instead of orphaning them.
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        // An order id runs once: only a reset of the campaign could start it again, and that must not order twice.
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: [{ key: HarvestCampaign, value: this.request.name }],
      });
    } catch (err) {
      if (isCancellation(err)) {
        this.settle(lane.identifiers, { s: 'cancelled', e: 'the campaign was cancelled', o: lane.seq });
        throw err;
      }
      const message =
        err instanceof WorkflowExecutionAlreadyStartedError
          ? `order ${key} already ran in an earlier run of this campaign (a reset?); not ordered again`
          : failureMessage(err);
      this.state.lastError = `order ${lane.seq}: ${message}`;
      this.settle(lane.identifiers, { s: 'failed', e: message, o: lane.seq });
      this.release(key);
      return;
    }
    this.release(key);
    this.apply(report, lane);
    // The order is done: its slot goes to the next order while its products are recorded.
    this.lanes.delete(key);
    await this.record(report);
  }

  private apply(report: HarvestReport, lane: Lane): void {
    const seen = new Set<string>();
    for (const item of report.items) {
      seen.add(item.identifier);
      if (item.state === 'delivered') {
        const outcome: Outcome = { s: 'delivered', b: item.bytes ?? 0, o: lane.seq };
        if (item.location && item.location !== this.defaultLocation(item.identifier)) outcome.l = item.location;
        this.state.outcomes[item.identifier] = outcome;
        this.state.bytes += item.bytes ?? 0;
        this.state.delivered++;
      } else {
        const s = item.state === 'timed_out' || item.state === 'cancelled' ? item.state : 'failed';
        this.state.outcomes[item.identifier] = { s, e: item.error ?? `ended ${item.state}`, o: lane.seq };
      }
    }
    const missing = lane.identifiers.filter((id) => !seen.has(id));
    this.settle(missing, { s: 'failed', e: 'not in the report of its order', o: lane.seq });
  }

  /** The order's verified products into the ledger, so no later run orders them again. */
  private async record(report: HarvestReport): Promise<void> {
    const ledger = ledgerOf(this.request);
    const products = report.items
      .filter((i) => i.state === 'delivered' && i.sha256 && i.location && i.bytes !== undefined)
      .map((i) => ({
        identifier: i.identifier,
        location: i.location!,
        size: i.bytes!,
        sha256: i.sha256!,
        verifiedAt: i.deliveredAt ?? new Date().toISOString(),
      }));
    if (!ledger || products.length === 0) return;
    try {
      await ledgerOps.recordDeliveries({
        ledger,
        workflow: this.request.workflow,
        optionsHash: this.state.optionsHash,
        orderId: report.orderId,
        products,
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      this.state.lastError = `ledger: ${failureMessage(err)}`;
      log.error('Could not record deliveries in the ledger', { orderId: report.orderId, err });
    }
  }

  private settle(identifiers: readonly string[], outcome: Outcome): void {
    for (const identifier of identifiers) this.state.outcomes[identifier] = { ...outcome };
  }

  private release(key: string, unused = false): void {
    const limiter = getExternalWorkflowHandle(accountLimiterId(this.request.account.name));
    const sent = limiter
      .signal(releasePermitSignal, { key, unused })
      // A limiter that is gone holds nothing.
      .catch((err: unknown) => log.warn('Could not release a permit', { key, err }))
      .finally(() => this.releases.delete(sent));
    this.releases.add(sent);
  }

  private noteGrant(grant: PermitGrant): void {
    const { limits, ordersThisMonth } = grant;
    // The limiter signals the grants it makes at once concurrently, so a later grant (a higher
    // count) can arrive first: within a month, the account view only moves forward.
    const month = monthOf(new Date());
    if (month === this.grantMonth && ordersThisMonth < (this.state.account.ordersThisMonth ?? 0)) return;
    this.grantMonth = month;
    this.state.account = {
      name: this.request.account.name,
      maxItemsInFlight: limits.maxItemsInFlight,
      monthlyOrders: limits.monthlyOrders,
      ordersThisMonth,
      ordersLeftThisMonth: Math.max(0, limits.monthlyOrders - ordersThisMonth),
    };
  }

  private defaultLocation(identifier: string): string | undefined {
    const { output } = this.request;
    return output.storage === 'TEMPORARY' ? `${output.sink.replace(/\/+$/, '')}/${identifier}.zip` : undefined;
  }

  private async onCancelled(): Promise<void> {
    this.phase = 'finishing';
    await Promise.all([...this.lanePromises]);
    this.settle(this.state.pending.splice(0), { s: 'cancelled', e: 'the campaign was cancelled before ordering it' });
    await getExternalWorkflowHandle(accountLimiterId(this.request.account.name))
      .signal(releaseHolderSignal, { holder: this.info.workflowId })
      .catch(() => undefined);
    await this.finish(true);
  }

  private async finish(cancelled: boolean): Promise<CampaignReport> {
    this.phase = 'finishing';
    await Promise.all([...this.releases]);
    const counts = countStates(Object.values(this.state.outcomes).map((o) => o.s));
    const report: CampaignReport = {
      name: this.request.name,
      workflowId: this.info.workflowId,
      collection: this.request.collection,
      storage: this.request.output.storage,
      outcome: campaignOutcome(counts, cancelled),
      counts,
      bytes: this.state.bytes,
      orders: this.state.orders,
      runs: this.state.runs,
      account: this.state.account,
      startedAt: this.state.startedAt,
      finishedAt: new Date().toISOString(),
    };
    const full = await manifestOps.writeCampaignManifest({
      target: manifestTargetOf(this.request),
      ledger: ledgerOf(this.request),
      workflow: this.request.workflow,
      optionsHash: this.state.optionsHash,
      report,
      items: this.items(),
      inlineItems: INLINE_ITEMS,
    });
    upsertSearchAttributes([{ key: HarvestOutcome, value: full.outcome }]);
    this.phase = 'done';
    return full;
  }

  private items(): CampaignItem[] {
    return Object.entries(this.state.outcomes).map(([identifier, o]) => {
      const item: CampaignItem = { identifier, state: o.s };
      if (o.b !== undefined) item.bytes = o.b;
      // The default location comes back from the ledger with the sha256 (keeps this activity input small).
      if (o.l) item.location = o.l;
      if (o.e) item.error = o.e;
      if (o.o !== undefined) item.order = this.orderId(o.o);
      return item;
    });
  }

  private orderId(seq: number): string {
    return `${this.info.workflowId}/order-${String(seq).padStart(4, '0')}-${this.chainKey}`;
  }

  // ---------------------------------------------------------------------------------------------
  // Messages

  private setHandlers(): void {
    setHandler(campaignProgressQuery, () => this.progress());
    setHandler(permitGrantedSignal, (grant) => {
      // Grants for orders withdrawn meanwhile are ignored (the withdrawal freed them at the limiter).
      if (this.lanes.get(grant.key)?.phase === 'waiting') this.grants.set(grant.key, grant);
    });
    const whileRunning = () => {
      if (this.phase === 'finishing' || this.phase === 'done') throw new Error('the campaign is finishing');
    };
    setHandler(
      pauseCampaignUpdate,
      () => {
        this.state.paused = true;
        return this.progress();
      },
      { validator: whileRunning },
    );
    setHandler(
      resumeCampaignUpdate,
      () => {
        this.state.paused = false;
        return this.progress();
      },
      { validator: whileRunning },
    );
    setHandler(
      setConcurrencyUpdate,
      (change) => {
        const { limits } = this.state;
        if (change.maxOrdersInFlight !== undefined) limits.maxOrdersInFlight = change.maxOrdersInFlight;
        if (change.maxItemsInFlight !== undefined) limits.maxItemsInFlight = change.maxItemsInFlight;
        if (change.orderSize !== undefined) limits.orderSize = change.orderSize;
        return this.progress();
      },
      { validator: (change) => (whileRunning(), validateConcurrency(change)) },
    );
    setHandler(
      retryFailedUpdate,
      (options) => {
        const retry = new Set<string>(['failed', ...(options.includeTimedOut ? ['timed_out'] : [])]);
        const requeued = Object.entries(this.state.outcomes)
          .filter(([, o]) => retry.has(o.s))
          .map(([identifier]) => identifier);
        for (const identifier of requeued) delete this.state.outcomes[identifier];
        this.state.pending.push(...requeued);
        return { requeued };
      },
      { validator: (_options) => whileRunning() },
    );
  }

  private progress(): CampaignProgress {
    const states: CampaignItemState[] = Object.values(this.state.outcomes).map((o) => o.s);
    for (const lane of this.lanes.values()) for (const _ of lane.identifiers) states.push(lane.phase);
    for (const _ of this.state.pending) states.push('pending');
    const counts = countStates(states);
    const { limits } = this.state;
    const batch = Math.max(
      1,
      Math.min(limits.orderSize, limits.maxItemsInFlight ?? Infinity, this.state.account.maxItemsInFlight),
    );
    const lanes = [...this.lanes.values()];
    const progress: CampaignProgress = {
      name: this.request.name,
      workflowId: this.info.workflowId,
      phase: this.phase === 'running' && this.state.paused ? 'paused' : this.phase,
      paused: this.state.paused,
      counts,
      bytes: this.state.bytes,
      orders: {
        created: this.state.orders,
        inFlight: lanes.filter((l) => l.phase === 'ordered').length,
        waitingForPermit: lanes.filter((l) => l.phase === 'waiting').length,
        neededForRest: Math.ceil((counts.pending + counts.waiting) / batch),
      },
      limits: {
        maxOrdersInFlight: limits.maxOrdersInFlight,
        maxItemsInFlight: limits.maxItemsInFlight ?? this.state.account.maxItemsInFlight,
        orderSize: limits.orderSize,
      },
      account: { ...this.state.account },
      runs: this.state.runs,
      startedAt: this.state.startedAt,
      lastError: this.state.lastError,
    };
    const since = this.state.firstOrderAt ? Date.parse(this.state.firstOrderAt) : undefined;
    const seconds = since === undefined ? 0 : (Date.now() - since) / 1000;
    if (seconds > 0 && this.state.delivered > 0) {
      const productsPerSecond = this.state.delivered / seconds;
      progress.rate = { productsPerSecond, bytesPerSecond: this.state.bytes / seconds };
      progress.etaSeconds = Math.round((counts.pending + counts.waiting + counts.ordered) / productsPerSecond);
    }
    return progress;
  }
}

function validateConcurrency(change: ConcurrencyChange): void {
  const check = (name: keyof ConcurrencyChange, max: number) => {
    const value = change[name];
    if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > max)) {
      throw new RangeError(`${name} must be an integer from 1 to ${max}`);
    }
  };
  check('maxOrdersInFlight', 100);
  check('maxItemsInFlight', 10_000);
  check('orderSize', 100);
}

/** The innermost message of a child or activity failure. */
function failureMessage(err: unknown): string {
  let current: unknown = err;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
