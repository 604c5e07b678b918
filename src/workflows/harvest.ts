/**
 * `harvest`: one Hook order from submission to verified output (docs/architecture.md §4).
 *
 * validate → submit exactly once → poll (the poll activity's retry policy is the loop, so a quiet
 * order of several days adds no history) → deliver each item as soon as the Hook completes it →
 * report. Cancelling the workflow cancels the Hook order; the deadline does the same and reports
 * what did not finish as timed out.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  DiscardPartialInput,
  HarvestActivities,
  OrderItemView,
  OrderSnapshot,
  ProductOutput,
} from '../activities/contract';
import type { OrderCatalogue } from '../activities/campaign-contract';
import { isScheduleToCloseTimeout, SHORT_ACTIVITY_HEARTBEAT } from './activity-timeouts';
import { parseDuration } from '../shared/duration';
import { SINK_FAILURE_TYPES, innermostMessage, invalidRequest } from '../shared/failures';
import { type HarvestRequest, type HarvestRequestInput, parseHarvestRequest } from '../shared/harvest-request';
import {
  FINAL_ITEM_STATES,
  type HarvestOutcome as Outcome,
  type HarvestPhase,
  type HarvestReport,
  type ItemReport,
  outcomeOf,
  summarize,
} from '../shared/harvest-report';
import { progressQuery } from '../shared/messages';
import { Semaphore } from './semaphore';
import { HarvestCollection, HarvestName, HarvestOutcome } from '../shared/search-attributes';
import { stableHash } from '../shared/stable-hash';

/**
 * Calls to the Hook's API: short, retried with backoff on 5xx/429/network errors. Permanent
 * failures (a refused request, bad credentials, an expired link, a corrupt product) come marked
 * non-retryable by the activities (activities/failures.ts), so no policy here lists them.
 */
const hook = proxyActivities<HarvestActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: SHORT_ACTIVITY_HEARTBEAT,
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '2m',
    maximumAttempts: 10,
  },
});

/**
 * Moving bytes: a retry resumes where the last attempt's heartbeat says it stopped. On
 * `taskQueue` when the request names one (download workers), else on this workflow's queue.
 */
function transferActivities(heartbeatTimeout: string, taskQueue: string | undefined) {
  return proxyActivities<HarvestActivities>({
    ...(taskQueue ? { taskQueue } : {}),
    startToCloseTimeout: '12 hours',
    heartbeatTimeout,
    retry: {
      initialInterval: '2s',
      backoffCoefficient: 2,
      maximumInterval: '5m',
      maximumAttempts: 8,
    },
  });
}

/**
 * An order's catalogue items, looked up once for its deliveries' STAC sidecars and layouts. Short:
 * when the catalogue does not answer, each delivery looks its item up itself (as before this step).
 * One STAC search; its start-to-close is also how long a worker's death holds the deliveries before
 * the retry (it does not heartbeat), so it is kept near a slow search's time, not the Hook calls'.
 */
const catalogue = proxyActivities<HarvestActivities>({
  startToCloseTimeout: '20 seconds',
  heartbeatTimeout: SHORT_ACTIVITY_HEARTBEAT,
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 4 },
});

/**
 * manifest.json (and a PRIVATE harvest's catalog.json), bounded: a sink that cannot be written must
 * not hold the harvest's end, least of all a cancellation (the report then says the manifest was
 * not written, and why).
 */
function manifestWriter(cancelled: boolean) {
  return proxyActivities<HarvestActivities>({
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: SHORT_ACTIVITY_HEARTBEAT,
    scheduleToCloseTimeout: cancelled ? '30 seconds' : '10 minutes',
    retry: {
      initialInterval: '2s',
      backoffCoefficient: 2,
      maximumInterval: '1m',
      maximumAttempts: cancelled ? 3 : 8,
    },
  });
}

/**
 * A cancelled harvest's discards, bounded like its manifest: a sink that does not answer must not
 * hold the cancellation (what it keeps is then logged, and a later delivery resumes or replaces it).
 */
const cancelDiscarder = proxyActivities<HarvestActivities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: SHORT_ACTIVITY_HEARTBEAT,
  scheduleToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 4 },
});

export async function harvest(input: HarvestRequestInput): Promise<HarvestReport> {
  const parsed = parseHarvestRequest(input);
  if (!parsed.ok) throw invalidRequest('harvest request', parsed.problems);
  return new Harvest(parsed.request).run();
}

class Harvest {
  private readonly info = workflowInfo();
  private readonly items = new Map<string, ItemReport>();
  private readonly itemIdentifiers = new Map<string, string>();
  private readonly handled = new Set<string>();
  /** Identifiers the order never listed although it ended (the Hook dropped or never created them). */
  private readonly unlisted = new Set<string>();
  private phase: HarvestPhase = 'validating';
  private orderId?: string;
  private orderName?: string;
  private lastPolledAt?: string;
  /** Set once the harvest has finished; until then progress says `running`. */
  private outcome?: Outcome;
  private manifest?: string;
  private manifestError?: string;
  private readonly startedAt = new Date().toISOString();
  private readonly transfer: HarvestActivities;
  /** The order's catalogue items (`orderCatalogueItems`), asked for at the first delivery. */
  private catalogue?: Promise<OrderCatalogue['items'] | undefined>;
  private readonly downloadSlots: Semaphore;
  /**
   * Products whose delivery activity was started and has not ended (delivered or failed and
   * discarded), with what discarding their partial takes: a cancellation discards these.
   */
  private readonly inFlight = new Map<string, DiscardPartialInput>();
  /**
   * PRIVATE: whether this harvest writes its `catalog.json` once at its end (set at the first
   * verification; false in histories from before, whose verifications merged it batch by batch).
   */
  private privateCatalogAtEnd?: boolean;
  /** PRIVATE: the sidecar each verification wrote, by identifier (a path under the target). */
  private readonly privateSidecars = new Map<string, string>();

  constructor(private readonly request: HarvestRequest) {
    this.transfer = transferActivities(request.downloadHeartbeatTimeout, request.downloadTaskQueue);
    this.downloadSlots = new Semaphore(request.maxParallelDownloads);
    for (const identifier of request.identifiers) this.items.set(identifier, { identifier, state: 'ordered' });
    setHandler(progressQuery, () => ({
      ...this.report(),
      outcome: this.outcome ?? 'running',
      phase: this.phase,
      lastPolledAt: this.lastPolledAt,
    }));
  }

  async run(): Promise<HarvestReport> {
    upsertSearchAttributes([
      { key: HarvestName, value: this.request.name },
      // A processing hook without a source names no collection.
      ...(this.request.collection !== undefined ? [{ key: HarvestCollection, value: this.request.collection }] : []),
    ]);
    upsertMemo({
      name: this.request.name,
      collection: this.request.collection,
      items: this.request.identifiers.length,
    });
    try {
      await hook.validateHarvest(this.request);
      const { redeliver } = this.request;
      const deliveries = redeliver
        ? await this.readBack(redeliver.orderId)
        : await this.pollAndDeliver(await this.submit());
      await Promise.all(deliveries);
    } catch (err) {
      if (!isCancellation(err)) throw err;
      await CancellationScope.nonCancellable(() => this.onCancelled());
      throw err;
    }
    return this.finish(false);
  }

  /** Submits (or adopts) the order; returns items already completed, e.g. in an adopted order. */
  private async submit(): Promise<OrderItemView[]> {
    this.phase = 'submitting';
    // Same workflow chain → same name → the submit activity adopts the order instead of creating a second one.
    this.orderName = `${this.request.name} [dh-${stableHash(`${this.info.workflowId}/${this.info.firstExecutionRunId}`)}]`;
    const order = await hook.submitOrder({ request: this.request, orderName: this.orderName });
    this.orderId = order.orderId;
    log.info('Order submitted', { orderId: order.orderId, adopted: order.adopted, items: order.items.length });
    return this.applySnapshot({ orderStatus: 'queued', items: order.items });
  }

  /**
   * Redelivery: nothing is ordered. The order's items are read once (their links with them, from
   * the Hook, so no link is kept anywhere) and those the Hook made are delivered again.
   */
  private async readBack(orderId: string): Promise<Promise<void>[]> {
    this.phase = 'polling';
    this.orderId = orderId;
    const snapshot = await hook.pollOrder({
      orderId,
      handled: [],
      initialIntervalMs: 1000,
      maxIntervalMs: 1000,
      backoff: 1,
    });
    const completed = this.applySnapshot(snapshot);
    for (const item of this.items.values()) {
      if (item.state === 'ordered')
        this.fail(item, 'the Hook order does not list this product as made: it cannot be redelivered');
    }
    return completed.length > 0 ? [this.deliver(completed)] : [];
  }

  /** Polls until every item is terminal at the Hook (or the deadline passes); returns the deliveries under way. */
  private async pollAndDeliver(completed: OrderItemView[]): Promise<Promise<void>[]> {
    this.phase = 'polling';
    const { polling } = this.request;
    const deadline = Date.parse(this.startedAt) + parseDuration(polling.deadline)!;
    const deliveries: Promise<void>[] = [];
    // Awaited by `run` once polling ends; a cancellation that ends polling first leaves them
    // unawaited, and an unhandled rejection would fail the workflow task instead of cancelling.
    const startDelivery = (views: OrderItemView[]) => {
      const delivery = this.deliver(views);
      delivery.catch(() => undefined);
      deliveries.push(delivery);
    };
    if (completed.length > 0) startDelivery(completed);
    while (this.handled.size + this.unlisted.size < this.items.size) {
      const remaining = deadline - Date.now();
      let snapshot: OrderSnapshot;
      try {
        if (remaining <= 0) throw new DeadlinePassed();
        const poll = proxyActivities<HarvestActivities>({
          startToCloseTimeout: '1 minute',
          heartbeatTimeout: SHORT_ACTIVITY_HEARTBEAT,
          scheduleToCloseTimeout: remaining,
          retry: {
            initialInterval: polling.initialInterval,
            maximumInterval: polling.maxInterval,
            backoffCoefficient: polling.backoff,
          },
        });
        snapshot = await poll.pollOrder({
          orderId: this.orderId!,
          handled: [...this.handled],
          initialIntervalMs: parseDuration(polling.initialInterval)!,
          maxIntervalMs: parseDuration(polling.maxInterval)!,
          backoff: polling.backoff,
          expectedItems: this.items.size,
        });
      } catch (err) {
        if (!(err instanceof DeadlinePassed) && !isScheduleToCloseTimeout(err)) throw err;
        await this.onDeadline();
        break;
      }
      this.lastPolledAt = new Date().toISOString();
      const justCompleted = this.applySnapshot(snapshot);
      if (snapshot.orderEnded) this.failUnlisted(snapshot, snapshot.orderEnded);
      if (justCompleted.length > 0) startDelivery(justCompleted);
    }
    return deliveries;
  }

  /** Records the Hook's view; returns items that just completed and need delivering. */
  private applySnapshot(snapshot: OrderSnapshot): OrderItemView[] {
    const completed: OrderItemView[] = [];
    for (const view of snapshot.items) {
      const item = this.items.get(view.identifier);
      if (!item) continue;
      this.itemIdentifiers.set(view.itemId, view.identifier);
      item.itemId = view.itemId;
      item.hookStatus = view.status;
      if (this.handled.has(view.itemId)) continue;
      if (view.status === 'completed') {
        this.handled.add(view.itemId);
        item.state = 'delivering';
        item.completedAt = new Date().toISOString();
        completed.push(view);
      } else if (view.status === 'failed' || view.status === 'cancelled') {
        this.handled.add(view.itemId);
        item.state = view.status;
        item.error = view.message ?? `the Hook reports the item ${view.status}`;
      }
    }
    return completed;
  }

  private async deliver(views: OrderItemView[]): Promise<void> {
    const { output } = this.request;
    if (output.storage === 'TEMPORARY') {
      await Promise.all(views.map((view) => this.download(view, output.sink, output.sinkCredentials)));
      return;
    }
    // Lists the bucket once for these items (and copies them to `output.download` when asked).
    this.privateCatalogAtEnd ??= patched('private-catalog-at-end');
    const results = await this.transfer.verifyPrivateOutput({
      request: this.request,
      items: views,
      ...(this.privateCatalogAtEnd ? { catalogAtEnd: true } : {}),
    });
    for (const result of results) {
      const item = this.items.get(result.identifier)!;
      if (result.problem) {
        this.fail(item, result.problem);
        continue;
      }
      if (result.sidecar) this.privateSidecars.set(result.identifier, result.sidecar);
      Object.assign(item, {
        state: 'delivered',
        objects: result.objects,
        bytes: result.objects.reduce((sum, o) => sum + o.size, 0),
        location: result.objects[0]?.location,
        deliveredAt: new Date().toISOString(),
      });
    }
  }

  /** One product into the sink, with at most `maxParallelDownloads` running at once. */
  private async download(view: OrderItemView, sink: string, sinkCredentials: string | undefined) {
    const item = this.items.get(view.identifier)!;
    const catalogueItem = await this.catalogueItemOf(view.identifier);
    const discard: DiscardPartialInput = {
      sink,
      sinkCredentials,
      identifier: view.identifier,
      ...this.productOutput(),
      ...catalogueItem,
    };
    try {
      const record = await this.downloadSlots.with(() => {
        this.inFlight.set(view.identifier, discard);
        return this.transfer.deliverProduct({
          orderId: this.orderId!,
          item: view,
          sink,
          sinkCredentials,
          ...this.productOutput(),
          ...catalogueItem,
          ...(this.request.connectionsPerProduct ? { connections: this.request.connectionsPerProduct } : {}),
        });
      });
      this.inFlight.delete(view.identifier);
      Object.assign(item, {
        state: 'delivered',
        bytes: record.size,
        sha256: record.sha256,
        location: record.location,
        deliveredAt: record.deliveredAt,
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      // The Hook made it but the sink did not take it: nothing to discard (a full disk keeps the
      // `.part` to resume), and it can be delivered later while its link lives.
      this.inFlight.delete(view.identifier);
      if (SINK_FAILURE_TYPES.includes(failureType(err)) && patched('undelivered-sink-failures')) {
        item.state = 'undelivered';
        item.error = innermostMessage(err);
        return;
      }
      this.fail(item, innermostMessage(err));
      if (failureType(err) === 'IntegrityError') item.failure = 'IntegrityError';
      await hook.discardPartial(discard);
    }
  }

  /**
   * A product's catalogue item from the order's one lookup (asked for once, at the first delivery),
   * as the field to pass on; nothing when it was not looked up (the activity then looks it up itself).
   */
  private async catalogueItemOf(identifier: string): Promise<Pick<ProductOutput, 'catalogueItem'>> {
    const { collection } = this.request;
    if (collection === undefined || !patched('catalogue-per-order')) return {};
    this.catalogue ??= catalogue.orderCatalogueItems({ collection, identifiers: this.request.identifiers }).then(
      (found) => found.items,
      (err: unknown) => {
        if (isCancellation(err)) throw err;
        log.warn('Catalogue items not looked up with the order: each delivery looks its own up', {
          error: innermostMessage(err),
        });
        return undefined;
      },
    );
    const items = await this.catalogue;
    return items && identifier in items ? { catalogueItem: items[identifier] ?? null } : {};
  }

  /** How a delivered product is laid out: its layout and the collection its STAC item is looked up in. */
  private productOutput(): ProductOutput {
    const { output, collection } = this.request;
    return {
      ...(collection !== undefined ? { collection } : {}),
      ...(output.storage === 'TEMPORARY' && output.layout ? { layout: output.layout } : {}),
      ...(output.storage === 'TEMPORARY' && (output.unpack || output.entries)
        ? { unpack: { entries: output.entries, keepZip: output.keepZip } }
        : {}),
    };
  }

  /**
   * The order ended without listing some products (the Hook dropped them, e.g. queued items of a
   * cancelled order, or never created them): they will never come, so they failed.
   */
  private failUnlisted(snapshot: OrderSnapshot, order: { status: string; message?: string }): void {
    const listed = new Set(snapshot.items.map((view) => view.identifier));
    for (const item of this.items.values()) {
      if (listed.has(item.identifier) || this.unlisted.has(item.identifier)) continue;
      if (item.itemId !== undefined && this.handled.has(item.itemId)) continue;
      this.unlisted.add(item.identifier);
      this.fail(
        item,
        `the Hook order ended (${order.status}${order.message ? `: ${order.message}` : ''}) without listing this product`,
      );
    }
  }

  private fail(item: ItemReport, error: string): void {
    item.state = 'failed';
    item.error = error;
  }

  private async onDeadline(): Promise<void> {
    log.warn('Deadline passed: cancelling the order', { orderId: this.orderId });
    await this.cancelOrderQuietly();
    for (const item of this.items.values()) {
      if (item.itemId && this.handled.has(item.itemId)) continue;
      item.state = 'timed_out';
      item.error = `not finished by the Hook within the deadline (${this.request.polling.deadline})`;
      if (item.itemId) this.handled.add(item.itemId);
    }
  }

  private async onCancelled(): Promise<void> {
    // A redelivery's order is the original harvest's, long finished: nothing to cancel at the Hook.
    if (this.orderId && !this.request.redeliver) await this.cancelOrderQuietly();
    if (patched('discard-partials-on-cancel')) await this.discardInFlight();
    for (const item of this.items.values()) {
      if (!FINAL_ITEM_STATES.includes(item.state)) {
        item.state = 'cancelled';
        item.error = 'the harvest was cancelled';
      }
    }
    await this.finish(true);
  }

  /**
   * Discards the partials (`.part`, unfinished multipart uploads) of the deliveries the cancellation
   * cut short. An attempt that learns of the cancellation through its heartbeat removes its own, but
   * one that failed or lost its worker before that keeps it for a retry that now never comes.
   * Discarding what is not there does nothing, so every delivery under way is discarded.
   */
  private async discardInFlight(): Promise<void> {
    await Promise.all(
      [...this.inFlight.values()].map(async (discard) => {
        try {
          await cancelDiscarder.discardPartial(discard);
        } catch (err) {
          if (isCancellation(err)) throw err;
          log.warn('A partial was not discarded', { identifier: discard.identifier, error: innermostMessage(err) });
        }
      }),
    );
    this.inFlight.clear();
  }

  /**
   * Asks the Hook to cancel the order (retried by its activity policy). If that fails for good,
   * the harvest still ends with its report and manifest: the order then runs out at the Hook.
   */
  private async cancelOrderQuietly(): Promise<void> {
    try {
      await hook.cancelOrder({ orderId: this.orderId! });
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn('The Hook did not cancel the order', { orderId: this.orderId, error: String(err) });
    }
  }

  private async finish(cancelled: boolean): Promise<HarvestReport> {
    this.phase = 'finishing';
    const report = { ...this.report(), outcome: outcomeOf([...this.items.values()], cancelled) };
    report.finishedAt = new Date().toISOString();
    const sink = this.request.output.storage === 'TEMPORARY' ? this.request.output.sink : this.request.output.download;
    if (sink) {
      const sinkCredentials =
        this.request.output.storage === 'TEMPORARY' ? this.request.output.sinkCredentials : undefined;
      try {
        this.manifest = await manifestWriter(cancelled).writeManifest({ sink, sinkCredentials, report });
      } catch (err) {
        if (isCancellation(err)) throw err;
        // Kept on the harvest: a cancelled one ends by throwing, and its progress query is its report.
        this.manifestError = `${sink}: ${innermostMessage(err)}`;
        log.warn('manifest.json not written', { sink, error: this.manifestError });
      }
      if (this.manifest) report.manifest = this.manifest;
      if (this.manifestError) report.manifestError = this.manifestError;
    }
    if (this.privateCatalogAtEnd) await this.writePrivateCatalog(cancelled);
    upsertSearchAttributes([{ key: HarvestOutcome, value: report.outcome }]);
    this.outcome = report.outcome;
    this.phase = 'done';
    return report;
  }

  /**
   * A PRIVATE harvest's `catalog.json`, over the products it delivered: written here, once, because
   * the verifications of overlapping batches would each have to merge it, and a merge is only safe
   * where conditional writes are atomic. Best effort like the sidecars it links: a failure is logged.
   */
  private async writePrivateCatalog(cancelled: boolean): Promise<void> {
    const { output } = this.request;
    if (output.storage !== 'PRIVATE') return;
    const sidecars = [...this.items.values()].flatMap((item) => {
      const sidecar = item.state === 'delivered' ? this.privateSidecars.get(item.identifier) : undefined;
      return sidecar ? [sidecar] : [];
    });
    if (sidecars.length === 0) return;
    try {
      await manifestWriter(cancelled).writePrivateCatalog({
        output: { target: output.target, endpoint: output.endpoint, credentials: output.credentials },
        name: this.request.name,
        sidecars,
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn('catalog.json not written', { target: output.target, error: innermostMessage(err) });
    }
  }

  private report(): HarvestReport {
    const items = [...this.items.values()].map((item) => ({ ...item }));
    return {
      name: this.request.name,
      workflowId: this.info.workflowId,
      orderId: this.orderId,
      orderName: this.orderName,
      collection: this.request.collection,
      storage: this.request.output.storage,
      outcome: outcomeOf(items, false),
      items,
      totals: summarize(items),
      startedAt: this.startedAt,
      ...(this.manifest ? { manifest: this.manifest } : {}),
      ...(this.manifestError ? { manifestError: this.manifestError } : {}),
    };
  }
}

class DeadlinePassed extends Error {}

/** The type of the application failure inside an activity failure (`''` when there is none). */
function failureType(err: unknown): string {
  let current: unknown = err;
  while (current instanceof ActivityFailure && current.cause) current = current.cause;
  return current instanceof ApplicationFailure ? (current.type ?? '') : '';
}
