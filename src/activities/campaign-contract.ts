/**
 * Inputs and outputs of the campaign and account-limiter activities: plain, serialisable,
 * secret-free data (stored in workflow history).
 */
import type { AccountStatus, LimiterInput, PermitRequest } from '../shared/account-limiter';
import type { AccountSettings, LedgerRef, StacQuery } from '../shared/campaign-request';
import type { CampaignItem, CampaignReport, SizeSummary } from '../shared/campaign-report';
import type { Footprint } from '../hook/stac-fields';
import type { StacFeature } from '../hook/stac';

export interface ResolveCampaignInput {
  collection: string;
  /** The products, or a catalogue search that finds them (exactly one). */
  identifiers?: string[];
  query?: StacQuery;
  /** Checked for verified copies; none: nothing is skipped. */
  ledger?: LedgerRef;
  /** Order the products the ledger holds as quarantined instead of skipping them. */
  retryQuarantined?: boolean;
  workflow: string;
  optionsHash: string;
}

export interface ResolvedCampaign {
  /** Products found: the identifiers given, or the query's matches (up to its maxItems). */
  found: number;
  /** Identifiers to order, in the order found. */
  toOrder: string[];
  /** Identifiers the ledger holds as verified. */
  skipped: string[];
  /** Products the ledger holds as quarantined (failed verification), left out unless `retryQuarantined`. */
  quarantined?: { identifier: string; reason: string }[];
  /** The query matched more than its maxItems. */
  truncated: boolean;
}

export interface DeliveredProduct {
  identifier: string;
  /** `file:///…` or `s3://…` */
  location: string;
  size: number;
  sha256: string;
  verifiedAt: string;
}

export interface RecordDeliveriesInput {
  ledger: LedgerRef;
  workflow: string;
  optionsHash: string;
  orderId?: string;
  products: DeliveredProduct[];
}

/** Products of an order that failed verification, set aside in the ledger. */
export interface RecordQuarantineInput {
  ledger: LedgerRef;
  workflow: string;
  optionsHash: string;
  orderId?: string;
  products: { identifier: string; reason: string }[];
}

export interface CampaignManifestInput {
  /** Where manifest.json and items.json go (next to the products). */
  target: { url: string; credentials?: string; endpoint?: string };
  /**
   * PRIVATE campaigns: the user's bucket (the output target), where the campaign's STAC Collection
   * goes beside the products' sidecars (best effort). TEMPORARY campaigns write it at `target`.
   */
  privateTarget?: { url: string; credentials: string; endpoint: string };
  ledger?: LedgerRef;
  workflow: string;
  optionsHash: string;
  /** The report without items; the activity adds them (with sha256 and locations from the ledger). */
  report: CampaignReport;
  items: CampaignItem[];
  /** Items are returned in the result only up to this many (the manifest always has them all). */
  inlineItems: number;
}

/** Products to look up in the catalogue (100 ids per search). */
export interface CatalogueLookupInput {
  collection: string;
  identifiers: string[];
}

/**
 * An order's products' catalogue items, cut to what their sidecars and layouts read: `null` when
 * the catalogue does not hold the product; absent when too big to carry (looked up per product).
 */
export interface OrderCatalogue {
  items: Record<string, StacFeature | null>;
}

export interface CatalogueFootprints {
  /** Footprint per identifier found with a geometry or bbox. */
  footprints: Record<string, Footprint>;
}

export interface PermitRequestInput {
  account: AccountSettings;
  request: PermitRequest;
  limiter?: Pick<LimiterInput, 'reapEvery' | 'continueAsNewAfterEvents'>;
}

/** Activities of campaigns, schedules and the account limiter (added to HarvestActivities). */
export interface CampaignActivities {
  /** Identifiers (given or searched in the catalogue, with paging) minus those verified in the ledger. */
  resolveCampaign(input: ResolveCampaignInput): Promise<ResolvedCampaign>;
  /** Records an order's verified products in the ledger. Idempotent. */
  recordDeliveries(input: RecordDeliveriesInput): Promise<{ recorded: number }>;
  /** Sets products that failed verification aside in the ledger. Idempotent. */
  recordQuarantine(input: RecordQuarantineInput): Promise<{ quarantined: number }>;
  /** Writes manifest.json and the STAC ItemCollection next to the products; returns the full report. */
  writeCampaignManifest(input: CampaignManifestInput): Promise<CampaignReport>;
  /** The products' sizes as the catalogue announces them (a plan's total); no catalogue: all unknown. */
  catalogueSizes(input: CatalogueLookupInput): Promise<SizeSummary>;
  /** An order's catalogue items in one search, for its deliveries' sidecars and layouts; no catalogue: none. */
  orderCatalogueItems(input: CatalogueLookupInput): Promise<OrderCatalogue>;
  /** The products' footprints (a campaign's map); no catalogue: none. */
  catalogueFootprints(input: CatalogueLookupInput): Promise<CatalogueFootprints>;
  /** Asks the account's limiter for a permit (starting the limiter if it does not run yet). */
  requestAccountPermit(input: PermitRequestInput): Promise<void>;
  /** The account limiter's status, or undefined when it does not run. */
  accountStatus(input: { account: string }): Promise<AccountStatus | undefined>;
  /** Of these workflow ids, those whose latest run is not running (or that do not exist). */
  closedWorkflows(input: { workflowIds: string[] }): Promise<string[]>;
}
