/**
 * Orders and their items, and the item lifecycle:
 *
 *   queued ──(timing.queuedMs, then a free slot of the owner's parallel-items quota)──▶ in_progress
 *   in_progress ──(timing.processingMs, then the item's processing)──▶ completed | failed
 *   queued | in_progress ──(cancel)──▶ cancelled
 *
 * The quota counts in_progress items across all orders of one owner; extra items wait in a
 * per-owner queue (higher `Priority` first, then oldest). One timer per order releases its items
 * into that queue, one timer per running item ends it, so thousands of small items cost little.
 *
 * Order status, derived from its items' counts:
 * - `queued` while every item is queued;
 * - `in_progress` while any item is in_progress, or some are queued and others already ended;
 * - once every item has ended: `cancelled` if the order was cancelled (or any item was), else
 *   `failed` if every item failed, else `completed` (partial failures are named in StatusMessage).
 */
import { type Clock, type CancelTimer } from './clock';
import { type FaultInjector } from './faults';
import { type OptionEntry, type OrderRequest } from './order-validation';
import { type EmulatorStats } from './stats';

export type ItemStatus = 'queued' | 'in_progress' | 'completed' | 'failed' | 'cancelled';
export const ITEM_STATUSES: readonly ItemStatus[] = ['queued', 'in_progress', 'completed', 'failed', 'cancelled'];

export interface OrderRecord {
  id: number;
  kind: 'batch' | 'production';
  /** Owner's token subject. */
  owner: string;
  ownerName: string;
  /** Parallel-items quota of the owner when the order was created. */
  maxParallelItems: number;
  name: string;
  workflowName: string;
  workflowId: number;
  workflowVersion: string;
  /** Options as given, secrets included (needed to process; never echoed). */
  options: OptionEntry[];
  priority: number;
  notificationEndpoint: string | null;
  notificationEpUsername: string | null;
  batchSize: number | null;
  batchVolume: number | null;
  submittedAt: number;
  estimatedAt: number;
  itemIds: number[];
  cancelled: boolean;
  finishedAt: number | null;
}

export interface ItemRecord {
  id: number;
  orderId: number;
  identifier: string;
  submittedAt: number;
  status: ItemStatus;
  /** Failure or cancellation message (null otherwise). */
  message: string | null;
  eligibleAt: number;
  startedAt: number | null;
  endedAt: number | null;
  stuck: boolean;
  processedName: string | null;
  processedSize: number | null;
  downloadLink: string | null;
  /** TEMPORARY object name (`YYYYMMDD_<itemId>_<8>.zip`) or PRIVATE key. */
  outputRef: string | null;
  /** Dropped from the order's item list (queued when the order was cancelled, with `cancelRemovesQueuedItems`). */
  removed?: boolean;
}

export type ItemOutcome =
  | {
      status: 'completed';
      processedName: string;
      processedSize: number;
      downloadLink: string | null;
      outputRef: string | null;
    }
  | { status: 'failed'; message: string };

/** Turns a started item into its outcome (TEMPORARY link, PRIVATE write, or a failure). */
export type ItemProcessor = (order: OrderRecord, item: ItemRecord) => Promise<ItemOutcome>;

export interface OrderBookSnapshot {
  nextOrderId: number;
  nextItemId: number;
  orders: OrderRecord[];
  items: ItemRecord[];
}

export interface OrderBookDeps {
  clock: Clock;
  timing: { queuedMs: number; processingMs: number };
  faults: FaultInjector;
  stats: EmulatorStats;
  process: ItemProcessor;
  firstOrderId: number;
  firstItemId: number;
  /** Called after every state change (the state file debounces it). */
  onChange?: () => void;
}

type Counts = Record<ItemStatus, number>;

interface OwnerQueue {
  running: Set<number>;
  ready: ItemRecord[];
  limit: number;
}

export const STATUS_MESSAGES = {
  queued: 'request is queued for processing',
  in_progress: 'request is under processing',
  completed: 'requested output product is available',
  cancelled: 'request was cancelled by the user',
} as const;

const zeroCounts = (): Counts => ({ queued: 0, in_progress: 0, completed: 0, failed: 0, cancelled: 0 });

export class OrderBook {
  private readonly orders = new Map<number, OrderRecord>();
  private readonly items = new Map<number, ItemRecord>();
  private readonly counts = new Map<number, Counts>();
  private readonly byOwner = new Map<string, OrderRecord[]>();
  private readonly owners = new Map<string, OwnerQueue>();
  private readonly timers = new Set<CancelTimer>();
  private readonly totals = zeroCounts();
  /** The most items queued or in progress at once (only creating items raises it). */
  private peakInFlight = 0;
  private nextOrderId: number;
  private nextItemId: number;
  private closed = false;

  constructor(private readonly deps: OrderBookDeps) {
    this.nextOrderId = deps.firstOrderId;
    this.nextItemId = deps.firstItemId;
  }

  create(
    owner: { sub: string; username: string; maxParallelItems: number },
    request: OrderRequest,
    workflow: { id: number; version: string },
    kind: 'batch' | 'production',
  ): OrderRecord {
    const now = this.deps.clock.now();
    const queue = this.ownerQueue(owner.sub, owner.maxParallelItems);
    const ahead = this.pendingOf(owner.sub);
    const order: OrderRecord = {
      id: this.nextOrderId++,
      kind,
      owner: owner.sub,
      ownerName: owner.username,
      maxParallelItems: owner.maxParallelItems,
      name: request.Name,
      workflowName: request.WorkflowName,
      workflowId: workflow.id,
      workflowVersion: workflow.version,
      options: request.WorkflowOptions,
      priority: request.Priority,
      notificationEndpoint: request.NotificationEndpoint,
      notificationEpUsername: request.NotificationEpUsername,
      batchSize: request.BatchSize,
      batchVolume: request.BatchVolume,
      submittedAt: now,
      estimatedAt: now,
      itemIds: [],
      cancelled: false,
      finishedAt: null,
    };
    const { queuedMs, processingMs } = this.deps.timing;
    const rounds = Math.ceil((ahead + request.IdentifierList.length) / Math.max(1, queue.limit));
    order.estimatedAt = now + queuedMs + rounds * processingMs;
    const counts = zeroCounts();
    request.IdentifierList.forEach((identifier, i) => {
      const item: ItemRecord = {
        id: this.nextItemId++,
        orderId: order.id,
        identifier,
        // Observed: items are stamped a few ms before their order.
        submittedAt: now - Math.max(1, request.IdentifierList.length - i),
        status: 'queued',
        message: null,
        eligibleAt: now + queuedMs,
        startedAt: null,
        endedAt: null,
        stuck: false,
        processedName: null,
        processedSize: null,
        downloadLink: null,
        outputRef: null,
      };
      this.items.set(item.id, item);
      order.itemIds.push(item.id);
      counts.queued++;
      this.totals.queued++;
      this.peakInFlight = Math.max(this.peakInFlight, this.totals.queued + this.totals.in_progress);
    });
    this.orders.set(order.id, order);
    this.counts.set(order.id, counts);
    this.ownerOrders(order.owner).push(order);
    this.schedule(queuedMs, () => this.release(order));
    this.changed();
    return order;
  }

  get(id: number): OrderRecord | undefined {
    return this.orders.get(id);
  }

  item(id: number): ItemRecord | undefined {
    return this.items.get(id);
  }

  itemsOf(order: OrderRecord): ItemRecord[] {
    return order.itemIds.map((id) => this.items.get(id)).filter((i): i is ItemRecord => i !== undefined);
  }

  /** Orders of `owner`, oldest first. */
  ordersOf(owner: string): readonly OrderRecord[] {
    return this.byOwner.get(owner) ?? [];
  }

  /** Orders `owner` created in the current UTC calendar month. */
  ordersThisMonth(owner: string): number {
    const now = new Date(this.deps.clock.now());
    const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    return this.ordersOf(owner).filter((o) => o.submittedAt >= monthStart).length;
  }

  /** Item counts per state, over all orders. */
  itemCounts(): Counts {
    return { ...this.totals };
  }

  /** The most items that were queued or in progress at once, over all orders, since start. */
  peakItemsInFlight(): number {
    return this.peakInFlight;
  }

  countsOf(order: OrderRecord): Counts {
    return this.counts.get(order.id) ?? zeroCounts();
  }

  status(order: OrderRecord): { status: ItemStatus; message: string } {
    const c = this.countsOf(order);
    const n = order.itemIds.length;
    if (c.in_progress > 0 || (c.queued > 0 && c.queued < n))
      return { status: 'in_progress', message: STATUS_MESSAGES.in_progress };
    if (c.queued === n) return { status: 'queued', message: STATUS_MESSAGES.queued };
    if (order.cancelled || c.cancelled > 0) return { status: 'cancelled', message: STATUS_MESSAGES.cancelled };
    if (c.failed === n) {
      const first = this.itemsOf(order).find((i) => i.status === 'failed')?.message ?? 'processing failed';
      return { status: 'failed', message: n === 1 ? first : `all ${n} items failed; first error: ${first}` };
    }
    if (c.failed > 0)
      return { status: 'completed', message: `${STATUS_MESSAGES.completed} (${c.failed} of ${n} items failed)` };
    return { status: 'completed', message: STATUS_MESSAGES.completed };
  }

  /** Cancels every unfinished item of `order` (queued or in_progress). Idempotent. */
  /** Cancels the order; with `removeQueued`, items still queued also leave its item list (CDSE: "removed at once"). */
  cancel(order: OrderRecord, removeQueued = false): void {
    order.cancelled = true;
    for (const item of this.itemsOf(order)) {
      if (item.status === 'queued' || item.status === 'in_progress') {
        const wasRunning = item.status === 'in_progress';
        if (!wasRunning && removeQueued) item.removed = true;
        this.setStatus(item, 'cancelled');
        item.message = STATUS_MESSAGES.cancelled;
        if (wasRunning) this.ownerQueue(order.owner, order.maxParallelItems).running.delete(item.id);
      }
    }
    this.pump(order.owner);
    this.changed();
  }

  snapshot(): OrderBookSnapshot {
    return {
      nextOrderId: this.nextOrderId,
      nextItemId: this.nextItemId,
      orders: [...this.orders.values()],
      items: [...this.items.values()],
    };
  }

  /** Loads a snapshot (from the state file) and resumes unfinished items. */
  restore(s: OrderBookSnapshot): void {
    this.nextOrderId = Math.max(this.nextOrderId, s.nextOrderId);
    this.nextItemId = Math.max(this.nextItemId, s.nextItemId);
    for (const item of s.items) this.items.set(item.id, item);
    const running: ItemRecord[] = [];
    for (const order of [...s.orders].sort((a, b) => a.id - b.id)) {
      this.orders.set(order.id, order);
      this.ownerOrders(order.owner).push(order);
      const queue = this.ownerQueue(order.owner, order.maxParallelItems);
      const counts = zeroCounts();
      const waiting: ItemRecord[] = [];
      for (const item of this.itemsOf(order)) {
        counts[item.status]++;
        this.totals[item.status]++;
        if (item.status === 'in_progress') {
          queue.running.add(item.id);
          if (!item.stuck) running.push(item);
        } else if (item.status === 'queued') {
          waiting.push(item);
        }
      }
      this.counts.set(order.id, counts);
      if (waiting.length > 0) {
        const delay = Math.max(0, (waiting[0]?.eligibleAt ?? 0) - this.deps.clock.now());
        this.schedule(delay, () => this.release(order));
      }
    }
    // Work interrupted by the restart starts its processing time again.
    for (const item of running) this.schedule(this.deps.timing.processingMs, () => void this.finish(item));
  }

  close(): void {
    this.closed = true;
    for (const cancel of this.timers) cancel();
    this.timers.clear();
  }

  private schedule(ms: number, fn: () => void): void {
    const cancel = this.deps.clock.setTimeout(() => {
      this.timers.delete(cancel);
      if (!this.closed) fn();
    }, ms);
    this.timers.add(cancel);
  }

  private changed(): void {
    this.deps.onChange?.();
  }

  private ownerOrders(owner: string): OrderRecord[] {
    let list = this.byOwner.get(owner);
    if (!list) {
      list = [];
      this.byOwner.set(owner, list);
    }
    return list;
  }

  private ownerQueue(owner: string, limit: number): OwnerQueue {
    let q = this.owners.get(owner);
    if (!q) {
      q = { running: new Set(), ready: [], limit };
      this.owners.set(owner, q);
    }
    q.limit = limit;
    return q;
  }

  private pendingOf(owner: string): number {
    let n = 0;
    for (const o of this.ordersOf(owner)) {
      const c = this.countsOf(o);
      n += c.queued + c.in_progress;
    }
    return n;
  }

  private setStatus(item: ItemRecord, status: ItemStatus): void {
    const counts = this.counts.get(item.orderId);
    if (counts) {
      counts[item.status]--;
      counts[status]++;
    }
    this.totals[item.status]--;
    this.totals[status]++;
    item.status = status;
    const now = this.deps.clock.now();
    if (status === 'in_progress') item.startedAt = now;
    if (status === 'completed' || status === 'failed' || status === 'cancelled') {
      item.endedAt = now;
      const order = this.orders.get(item.orderId);
      if (order && counts && counts.queued === 0 && counts.in_progress === 0) {
        order.finishedAt = now;
        order.estimatedAt = now;
      }
    }
  }

  /** Moves the order's queued items into its owner's ready queue. */
  private release(order: OrderRecord): void {
    const queue = this.ownerQueue(order.owner, order.maxParallelItems);
    const fresh = this.itemsOf(order).filter((i) => i.status === 'queued');
    if (fresh.length === 0) return;
    queue.ready.push(...fresh);
    const prio = (i: ItemRecord): number => this.orders.get(i.orderId)?.priority ?? 0;
    queue.ready.sort((a, b) => prio(b) - prio(a) || a.orderId - b.orderId || a.id - b.id);
    this.pump(order.owner);
  }

  private pump(owner: string): void {
    const queue = this.owners.get(owner);
    if (!queue || this.closed) return;
    while (queue.running.size < queue.limit && queue.ready.length > 0) {
      const item = queue.ready.shift();
      if (!item || item.status !== 'queued') continue;
      queue.running.add(item.id);
      this.setStatus(item, 'in_progress');
      const f = this.deps.faults;
      if (f.roll('itemStuck', f.settings.itemStuckRate)) {
        item.stuck = true;
        this.deps.stats.fault('itemStuck');
      } else {
        this.schedule(this.deps.timing.processingMs, () => void this.finish(item));
      }
      this.changed();
    }
  }

  private async finish(item: ItemRecord): Promise<void> {
    if (item.status !== 'in_progress') return;
    const order = this.orders.get(item.orderId);
    if (!order) return;
    let outcome: ItemOutcome;
    try {
      outcome = await this.deps.process(order, item);
    } catch (err) {
      outcome = { status: 'failed', message: `internal error: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (this.closed || item.status !== 'in_progress') return;
    if (outcome.status === 'completed') {
      item.processedName = outcome.processedName;
      item.processedSize = outcome.processedSize;
      item.downloadLink = outcome.downloadLink;
      item.outputRef = outcome.outputRef;
    } else {
      item.message = outcome.message;
    }
    this.setStatus(item, outcome.status);
    this.owners.get(order.owner)?.running.delete(item.id);
    this.pump(order.owner);
    this.changed();
  }
}
