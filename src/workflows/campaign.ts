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
 *
 * The bookkeeping (queue, lanes, outcomes, order size, progress, the carried state) is the pure
 * `CampaignBook` (campaign-book.ts); this file holds the messages, the permits and the children.
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
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import type { HarvestActivities } from '../activities/contract';
import {
  type PermitGrant,
  accountLimiterId,
  permitGrantedSignal,
  releaseHolderSignal,
  releasePermitSignal,
} from '../shared/account-limiter';
import {
  campaignProgressQuery,
  pauseCampaignUpdate,
  resumeCampaignUpdate,
  retryFailedUpdate,
  setConcurrencyUpdate,
} from '../shared/campaign-messages';
import type { CampaignPhase, CampaignProgress, CampaignReport } from '../shared/campaign-report';
import {
  type CampaignRequest,
  type CampaignRequestInput,
  checkConcurrencyChange,
  orderRequest,
  parseCampaignRequest,
} from '../shared/campaign-request';
import { CAMPAIGN_FINISHING, innermostMessage, invalidRequest } from '../shared/failures';
import type { HarvestReport } from '../shared/harvest-report';
import { HarvestCampaign, HarvestCollection, HarvestOutcome } from '../shared/search-attributes';
import { CampaignBook, type CarriedState, type Lane } from './campaign-book';
import { recordOrder, writeManifest } from './campaign-records';
import { resolveProducts } from './campaign-resolve';
import { harvest } from './harvest';
import { monthOf } from './permit-book';

/**
 * Asking the limiter for a permit is one short, idempotent signal-with-start: a local activity, so
 * it does not wait in the task queue behind an order's downloads.
 */
const permits = proxyLocalActivities<HarvestActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 30 },
});

/**
 * @param input the campaign request (`temporal workflow start --input` takes it as is)
 * @param carried set by the campaign itself when it continues as new
 */
export async function harvestCampaign(input: CampaignRequestInput, carried?: CarriedState): Promise<CampaignReport> {
  // A later run's request was parsed by the first run.
  const parsed = carried ? { ok: true as const, request: input as CampaignRequest } : parseCampaignRequest(input);
  if (!parsed.ok) throw invalidRequest('campaign request', parsed.problems);
  return new Campaign(parsed.request, carried).run();
}

class Campaign {
  private readonly info = workflowInfo();
  private readonly book: CampaignBook;
  /** Every order not finished yet, including those only recording their products in the ledger. */
  private readonly lanePromises = new Set<Promise<void>>();
  private readonly grants = new Map<string, PermitGrant>();
  /** Release signals on their way to the limiter; a run ends only after they were delivered. */
  private readonly releases = new Set<Promise<void>>();
  private phase: CampaignPhase;
  private laneFailure?: unknown;

  constructor(
    private readonly request: CampaignRequest,
    carried: CarriedState | undefined,
  ) {
    this.book = CampaignBook.forRun(request, this.info, carried, new Date());
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
        return await continueAsNew<typeof harvestCampaign>(rest, this.book.carry());
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
    this.book.resolved(resolved.optionsHash, resolved.toOrder, resolved.skipped, resolved.quarantined ?? []);
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
      await condition(
        () => this.laneFailure !== undefined || this.idle() || this.continueDue() || this.book.canLaunch(),
      );
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
    return this.book.queued === 0 && this.lanePromises.size === 0;
  }

  private continueDue(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= this.request.continueAsNewAfterEvents;
  }

  private launch(): void {
    const lane = this.book.launch();
    const promise = this.runOrder(lane)
      .catch((err: unknown) => {
        if (!isCancellation(err)) this.laneFailure ??= err;
      })
      .finally(() => {
        this.book.closeLane(lane.key);
        this.grants.delete(lane.key);
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
      await condition(() => this.grants.has(key) || this.book.paused);
    } catch (err) {
      if (isCancellation(err)) this.book.orderCancelled(lane, false);
      throw err;
    }
    const grant = this.grants.get(key);
    if (!grant || this.book.paused) {
      // Paused while waiting: give the permit (or the place in the queue) back and keep the products for later.
      this.release(key, true);
      this.book.withdraw(lane);
      return;
    }
    this.book.noteGrant(grant.limits, grant.ordersThisMonth, monthOf(new Date()));
    this.book.ordered(lane, grant.items, new Date());

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
        this.book.orderCancelled(lane, true);
        throw err;
      }
      this.book.orderFailed(
        lane,
        err instanceof WorkflowExecutionAlreadyStartedError
          ? `order ${key} already ran in an earlier run of this campaign (a reset?); not ordered again`
          : innermostMessage(err),
      );
      this.release(key);
      return;
    }
    this.release(key);
    this.book.applyReport(lane, report);
    // The order is done: its slot goes to the next order while its products are recorded.
    this.book.closeLane(key);
    const ledgerProblem = await recordOrder(this.request, this.book.optionsHash, report);
    if (ledgerProblem) this.book.noteError(ledgerProblem);
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

  private async onCancelled(): Promise<void> {
    this.phase = 'finishing';
    await Promise.all([...this.lanePromises]);
    this.book.cancelQueue();
    await getExternalWorkflowHandle(accountLimiterId(this.request.account.name))
      .signal(releaseHolderSignal, { holder: this.info.workflowId })
      .catch(() => undefined);
    await this.finish(true);
  }

  private async finish(cancelled: boolean): Promise<CampaignReport> {
    this.phase = 'finishing';
    await Promise.all([...this.releases]);
    const report = this.book.report(this.request, cancelled, new Date());
    const full = await writeManifest(this.request, this.book.optionsHash, report, this.book.items());
    upsertSearchAttributes([{ key: HarvestOutcome, value: full.outcome }]);
    this.phase = 'done';
    return full;
  }

  // ---------------------------------------------------------------------------------------------
  // Messages

  private setHandlers(): void {
    setHandler(campaignProgressQuery, () => this.progress());
    setHandler(permitGrantedSignal, (grant) => {
      // Grants for orders withdrawn meanwhile are ignored (the withdrawal freed them at the limiter).
      if (this.book.lane(grant.key)?.phase === 'waiting') this.grants.set(grant.key, grant);
    });
    const whileRunning = () => {
      if (this.phase === 'finishing' || this.phase === 'done') {
        throw ApplicationFailure.create({ type: CAMPAIGN_FINISHING, message: 'the campaign is finishing' });
      }
    };
    const guarded = { validator: whileRunning };
    setHandler(pauseCampaignUpdate, () => (this.book.setPaused(true), this.progress()), guarded);
    setHandler(resumeCampaignUpdate, () => (this.book.setPaused(false), this.progress()), guarded);
    setHandler(setConcurrencyUpdate, (change) => (this.book.setLimits(change), this.progress()), {
      validator: (change) => (whileRunning(), checkConcurrencyChange(change)),
    });
    setHandler(retryFailedUpdate, (o) => ({ requeued: this.book.retryFailed(o.includeTimedOut ?? false) }), {
      validator: (_options) => whileRunning(),
    });
  }

  private progress(): CampaignProgress {
    return this.book.progress({ name: this.request.name, phase: this.phase }, new Date());
  }
}
