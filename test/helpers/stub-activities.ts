/**
 * Stand-ins for the harvest and campaign activities, for the workflow tests (test/workflow): no
 * Hook, no sink, no ledger — each returns what the real one would for a well-behaved service, as
 * the test's `hook` function says, and records its calls so a test can check what the workflow
 * asked for. The workflows run for real (the test stack's dev server, the prebuilt bundle).
 */
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { HarvestActivities, OrderItemView } from '../../src/activities/contract';
import { permitGrantedSignal } from '../../src/shared/account-limiter';

/** What the stub Hook does with a product it is ordered: done at once, failed, done at the first poll, or never done. */
export type StubItemStatus = 'completed' | 'failed' | 'polled' | 'queued';

export interface StubOptions {
  /** Per product and how many times it was ordered before (0 the first time). Default: completed. */
  hook?: (identifier: string, orderedBefore: number) => StubItemStatus;
  /** Products whose order is held at submission until `release()` (to catch a campaign mid-order). */
  held?: ReadonlySet<string>;
  /** The campaign's closing manifest write is held until `release()` (to catch a campaign finishing). */
  holdManifest?: boolean;
  /** Products the ledger holds already (a campaign skips them). */
  skipped?: readonly string[];
  productSize?: number;
  /**
   * Products whose delivery fails with a retryable error whose retry is an hour away: what an
   * attempt that keeps its partial for the next one looks like to the workflow.
   */
  deliveryFails?: ReadonlySet<string>;
  /**
   * PRIVATE: the first verification returns only once a second one has started, so two batches'
   * verifications are under way at once (each finds `s3://stub-bucket/out/<identifier>.zip` and
   * writes `<identifier>.stac.json` beside it).
   */
  overlapVerifications?: boolean;
}

export interface StubCall {
  name: keyof HarvestActivities;
  input: unknown;
}

export interface Stubs {
  activities: HarvestActivities;
  calls: StubCall[];
  /** Calls of one activity, their inputs in order. */
  inputs<T = unknown>(name: keyof HarvestActivities): T[];
  /** Lets the held orders (and a held manifest write) go on. */
  release(): void;
}

function itemView(orderId: string, index: number, identifier: string, status: string): OrderItemView {
  return {
    itemId: `${orderId}-${index}`,
    identifier,
    status,
    ...(status === 'failed' ? { message: 'the stub Hook failed it' } : {}),
    ...(status === 'completed' ? { downloadLink: `https://hook.invalid/${identifier}.zip` } : {}),
  };
}

export function stubActivities(options: StubOptions = {}): Stubs {
  const calls: StubCall[] = [];
  const ordered = new Map<string, number>();
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const size = options.productSize ?? 100;
  let orders = 0;
  const orderItems = new Map<string, OrderItemView[]>();
  let verifications = 0;
  let secondVerificationStarted!: () => void;
  const secondVerification = new Promise<void>((resolve) => (secondVerificationStarted = resolve));
  const record = (name: keyof HarvestActivities, input: unknown) => calls.push({ name, input });

  const activities: HarvestActivities = {
    async validateHarvest(request) {
      record('validateHarvest', request);
      return { optionsHash: 'stub-options' };
    },
    async submitOrder(input) {
      record('submitOrder', input);
      const { identifiers } = input.request;
      if (identifiers.some((id) => options.held?.has(id))) await released;
      const orderId = `stub-order-${++orders}`;
      const statuses = identifiers.map((identifier) => {
        const before = ordered.get(identifier) ?? 0;
        ordered.set(identifier, before + 1);
        return options.hook?.(identifier, before) ?? 'completed';
      });
      // What the order holds now, and what the first poll finds ('polled' items done by then).
      const items = identifiers.map((id, i) =>
        itemView(orderId, i, id, statuses[i] === 'polled' ? 'queued' : statuses[i]!),
      );
      const polled = identifiers.map((id, i) =>
        itemView(orderId, i, id, statuses[i] === 'polled' ? 'completed' : statuses[i]!),
      );
      orderItems.set(orderId, polled);
      return { orderId, adopted: false, items };
    },
    async pollOrder(input) {
      record('pollOrder', input);
      const items = orderItems.get(input.orderId) ?? [];
      if (items.some((item) => item.status === 'completed' && !input.handled.includes(item.itemId))) {
        return { orderStatus: 'in_progress', items };
      }
      // Nothing else finishes: the retry policy polls again, as the real one does.
      throw ApplicationFailure.create({
        type: 'OrderNotReady',
        message: 'still queued',
        category: ApplicationFailureCategory.BENIGN,
        nextRetryDelay: 100,
      });
    },
    async deliverProduct(input) {
      record('deliverProduct', input);
      const { identifier } = input.item;
      if (options.deliveryFails?.has(identifier)) {
        throw ApplicationFailure.create({ message: 'the stub link reset', nextRetryDelay: '1 hour' });
      }
      return {
        identifier,
        location: `${input.sink.replace(/\/+$/, '')}/${identifier}.zip`,
        size,
        sha256: `sha-${identifier}`,
        zipEntries: 1,
        deliveredAt: new Date().toISOString(),
      };
    },
    async verifyPrivateOutput(input) {
      record('verifyPrivateOutput', input);
      const n = ++verifications;
      if (options.overlapVerifications && n === 1) await secondVerification;
      if (n === 2) secondVerificationStarted();
      return input.items.map(({ identifier }) => ({
        identifier,
        objects: [{ key: `out/${identifier}.zip`, size, location: `s3://stub-bucket/out/${identifier}.zip` }],
        sidecar: `${identifier}.stac.json`,
      }));
    },
    async writePrivateCatalog(input) {
      record('writePrivateCatalog', input);
      return `${input.output.target}/catalog.json`;
    },
    async discardPartial(input) {
      record('discardPartial', input);
    },
    async cancelOrder(input) {
      record('cancelOrder', input);
    },
    async writeManifest(input) {
      record('writeManifest', input);
      return `${input.sink.replace(/\/+$/, '')}/manifest.json`;
    },
    async resolveCampaign(input) {
      record('resolveCampaign', input);
      const skipped = (input.identifiers ?? []).filter((id) => options.skipped?.includes(id));
      const toOrder = (input.identifiers ?? []).filter((id) => !skipped.includes(id));
      return { found: toOrder.length + skipped.length, toOrder, skipped, truncated: false };
    },
    async recordDeliveries(input) {
      record('recordDeliveries', input);
      return { recorded: input.products.length };
    },
    async recordQuarantine(input) {
      record('recordQuarantine', input);
      return { quarantined: input.products.length };
    },
    async catalogueSizes(input) {
      record('catalogueSizes', input);
      return { bytes: input.identifiers.length * size, known: input.identifiers.length, unknown: 0 };
    },
    async orderCatalogueItems(input) {
      record('orderCatalogueItems', input);
      return { items: {} };
    },
    async catalogueFootprints(input) {
      record('catalogueFootprints', input);
      return { footprints: {} };
    },
    async writeCampaignManifest(input) {
      record('writeCampaignManifest', input);
      if (options.holdManifest) await released;
      return { ...input.report, items: input.items, manifest: `${input.target.url}/manifest.json` };
    },
    async requestAccountPermit(input) {
      record('requestAccountPermit', input);
      // The limiter's answer, at once and in full: the account never runs short in these tests.
      const { key, holder, items } = input.request;
      const { maxItemsInFlight, monthlyOrders } = input.account;
      await Context.current()
        .client.workflow.getHandle(holder)
        .signal(permitGrantedSignal, { key, items, limits: { maxItemsInFlight, monthlyOrders }, ordersThisMonth: 1 });
    },
    async accountStatus(input) {
      record('accountStatus', input);
      return undefined;
    },
    async closedWorkflows(input) {
      record('closedWorkflows', input);
      return [];
    },
  };
  return {
    activities,
    calls,
    inputs: <T>(name: keyof HarvestActivities) => calls.filter((c) => c.name === name).map((c) => c.input as T),
    release,
  };
}
