/**
 * What a campaign returns, writes as its manifest and shows in its progress query. Plain data,
 * workflow-safe.
 */

/** Where one product of a campaign stands. */
export type CampaignItemState =
  | 'pending' // not ordered yet
  | 'waiting' // its order waits for the account's permit
  | 'ordered' // in an order (a child harvest) under way
  | 'delivered' // delivered and verified by this campaign
  | 'skipped' // the ledger already held a verified copy: not ordered
  | 'failed'
  | 'quarantined' // failed verification: set aside in the ledger, skipped by later runs unless retryQuarantined
  | 'timed_out'
  | 'cancelled';

export const CAMPAIGN_ITEM_STATES: readonly CampaignItemState[] = [
  'pending',
  'waiting',
  'ordered',
  'delivered',
  'skipped',
  'failed',
  'quarantined',
  'timed_out',
  'cancelled',
];

export interface CampaignItem {
  identifier: string;
  state: CampaignItemState;
  bytes?: number;
  sha256?: string;
  /** `file:///…` or `s3://…` of the verified copy. */
  location?: string;
  error?: string;
  /** Workflow id of the child harvest (its order) that handled the item last. */
  order?: string;
  /** When the verified copy was verified (from the ledger), for delivered and skipped products. */
  verifiedAt?: string;
}

export type CampaignCounts = Record<CampaignItemState, number> & { items: number };

export type CampaignOutcome = 'delivered' | 'partial' | 'failed' | 'cancelled' | 'empty';

/** The account's view, as the limiter reported it with the last permit. */
export interface AccountView {
  name: string;
  maxItemsInFlight: number;
  monthlyOrders: number;
  /** Orders granted this month (UTC) across every campaign of the account, when known. */
  ordersThisMonth?: number;
  ordersLeftThisMonth?: number;
}

export interface CampaignReport {
  name: string;
  workflowId: string;
  collection: string;
  storage: 'TEMPORARY' | 'PRIVATE';
  outcome: CampaignOutcome;
  counts: CampaignCounts;
  /** Bytes delivered by this campaign (skipped products not counted). */
  bytes: number;
  /** Hook orders this campaign created (child harvests started). */
  orders: number;
  /** Runs of the workflow (1 + continue-as-new count). */
  runs: number;
  account: AccountView;
  /** Every product; with `itemsOmitted`, only those not delivered (there were too many: the manifest has all). */
  items?: CampaignItem[];
  itemsOmitted?: boolean;
  /** Where `manifest.json` and the STAC ItemCollection (`items.json`) were written. */
  manifest?: string;
  itemCollection?: string;
  startedAt: string;
  finishedAt?: string;
}

export type CampaignPhase = 'resolving' | 'running' | 'paused' | 'continuing' | 'finishing' | 'done';

export interface CampaignProgress {
  name: string;
  workflowId: string;
  phase: CampaignPhase;
  paused: boolean;
  counts: CampaignCounts;
  bytes: number;
  orders: { created: number; inFlight: number; waitingForPermit: number; neededForRest: number };
  limits: { maxOrdersInFlight: number; maxItemsInFlight: number; orderSize: number };
  account: AccountView;
  /** Delivered products per second and bytes per second since the first order, when measurable. */
  rate?: { productsPerSecond: number; bytesPerSecond: number };
  /** Seconds until the rest is delivered at that rate. */
  etaSeconds?: number;
  runs: number;
  startedAt: string;
  /** The last order failure, if any (e.g. a child that failed as a whole). */
  lastError?: string;
}

/** Sizes of products as the catalogue announces them (`file:size` of the product's asset). */
export interface SizeSummary {
  /** Bytes of the products whose size the catalogue gives. */
  bytes: number;
  /** Products with a size. */
  known: number;
  /** Products without one (not in the catalogue, or no `file:size`): their size is unknown. */
  unknown: number;
}

/** A dry run: what a campaign (or a harvest) would do, before anything is ordered. */
export interface CampaignPlan {
  /** `harvest`: one order of every identifier listed, whatever the ledger holds. */
  kind: 'campaign' | 'harvest';
  name: string;
  /** The catalogue collection; none for a harvest whose source is not a catalogue. */
  collection?: string;
  /** Products found (identifiers given, or matches of the query). */
  found: number;
  /** Of those, verified in the ledger already: a campaign skips them (a harvest orders them again). */
  alreadyVerified: number;
  /** Size of the products to order, from the catalogue. */
  size: SizeSummary;
  toOrder: number;
  orderSize: number;
  ordersNeeded: number;
  account: AccountView;
  /** Whether the orders fit in what is left of this month's budget. */
  fitsMonthlyBudget: boolean;
  /** The first identifiers to order, as a sample. */
  sample: string[];
  ledger?: string;
}

/** Counts of a list of item states. */
export function countStates(states: Iterable<CampaignItemState>): CampaignCounts {
  const counts = Object.fromEntries(CAMPAIGN_ITEM_STATES.map((s) => [s, 0])) as CampaignCounts;
  counts.items = 0;
  for (const state of states) {
    counts[state]++;
    counts.items++;
  }
  return counts;
}

export function campaignOutcome(counts: CampaignCounts, cancelled: boolean): CampaignOutcome {
  if (cancelled) return 'cancelled';
  if (counts.items === 0) return 'empty';
  const done = counts.delivered + counts.skipped;
  if (done === counts.items) return 'delivered';
  return done > 0 ? 'partial' : 'failed';
}
