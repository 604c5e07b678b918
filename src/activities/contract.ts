/**
 * The inputs and outputs of the harvest activities: plain, serialisable, secret-free data (they
 * are stored in workflow history). Credentials travel as names only.
 */
import type { HarvestRequest } from '../shared/harvest-request';
import type { HarvestReport } from '../shared/harvest-report';
import type { StacFeature } from '../hook/stac';
import type { CampaignActivities } from './campaign-contract';

export interface SubmitOrderInput {
  request: HarvestRequest;
  /** Deterministic per harvest: a retried or replayed submit finds the order it created. */
  orderName: string;
}

export interface SubmittedOrder {
  orderId: string;
  /** True when an order with this name already existed and was adopted instead of creating one. */
  adopted: boolean;
  items: OrderItemView[];
}

export interface OrderItemView {
  itemId: string;
  identifier: string;
  /** The Hook's status, lower-case. */
  status: string;
  message?: string;
  processedSize?: number;
  downloadLink?: string;
}

export interface PollOrderInput {
  orderId: string;
  /** Item ids whose terminal state the workflow already acted on: only news ends the poll. */
  handled: string[];
  /** Growth of the wait between polls (the request's `polling`, in ms). */
  initialIntervalMs: number;
  maxIntervalMs: number;
  backoff: number;
  /**
   * Products ordered. While the order lists fewer items, it is done only when the order itself
   * says so (its items may be removed, e.g. queued ones on cancel). Absent in older workflows.
   */
  expectedItems?: number;
}

export interface OrderSnapshot {
  /** `completed` once every item is terminal (or the order ended with items missing), else `in_progress`. */
  orderStatus: string;
  estimatedDate?: string;
  items: OrderItemView[];
  /** When the order ended without listing every product: the order's own status and message. */
  orderEnded?: { status: string; message?: string };
}

/** Where and how a verified product is laid out in its sink (the request's `output`, and its collection). */
export interface ProductOutput {
  /** `output.layout` (default: `{identifier}.zip` in the sink). */
  layout?: string;
  /** The request's collection: the catalogue the product's STAC item is looked up in. */
  collection?: string;
  /** `output.unpack`, `output.entries`, `output.keepZip`: deliver the product as its folder. */
  unpack?: { entries?: string[]; keepZip?: boolean };
  /**
   * The product's catalogue item, looked up with its order's (`orderCatalogueItems`): `null` when
   * the catalogue does not hold it; absent when not looked up (the activity then looks it up itself).
   */
  catalogueItem?: StacFeature | null;
}

export interface DeliverInput extends ProductOutput {
  orderId: string;
  item: OrderItemView;
  sink: string;
  sinkCredentials?: string;
  /** Parallel ranged connections for this product (the request's `connectionsPerProduct`); default: the worker's. */
  connections?: number;
}

export interface DeliveryRecord {
  identifier: string;
  location: string;
  size: number;
  sha256: string;
  zipEntries: number;
  deliveredAt: string;
}

export interface VerifyPrivateInput {
  request: HarvestRequest;
  items: OrderItemView[];
  /**
   * The workflow writes the harvest's `catalog.json` once at its end (`writePrivateCatalog`), so
   * this batch writes only its sidecars. Absent in histories from before that: each batch then
   * merges its links into the catalog as well.
   */
  catalogAtEnd?: boolean;
}

export interface PrivateItemResult {
  identifier: string;
  /** Each object found for the item, `location` as `s3://bucket/key`. */
  objects: { key: string; size: number; location: string }[];
  /** Why the item's outputs are not acceptable (missing, empty), when they are not. */
  problem?: string;
  /** The STAC sidecar written for the item, as a path under the output's target (best effort: absent when not written). */
  sidecar?: string;
}

export interface DiscardPartialInput extends ProductOutput {
  sink: string;
  sinkCredentials?: string;
  identifier: string;
}

/** A PRIVATE harvest's `catalog.json`, written at its end by the workflow (one writer). */
export interface WritePrivateCatalogInput {
  output: Pick<Extract<HarvestRequest['output'], { storage: 'PRIVATE' }>, 'target' | 'endpoint' | 'credentials'>;
  /** The harvest's name, for the catalog's description. */
  name: string;
  /** The sidecars of its delivered products, as paths under the target (`PrivateItemResult.sidecar`). */
  sidecars: string[];
}

export interface WriteManifestInput {
  sink: string;
  sinkCredentials?: string;
  report: HarvestReport;
}

/** The activity functions the workflows call; `createActivities(deps)` returns exactly this. */
export interface HarvestActivities extends CampaignActivities {
  /** Checks the request against the Hook workflow's option definitions and the worker's credential sets. */
  validateHarvest(request: HarvestRequest): Promise<{ optionsHash: string }>;
  submitOrder(input: SubmitOrderInput): Promise<SubmittedOrder>;
  /** Returns when an item reached a terminal state not yet in `handled`; until then it fails as `OrderNotReady` and its retry policy is the poll loop. */
  pollOrder(input: PollOrderInput): Promise<OrderSnapshot>;
  deliverProduct(input: DeliverInput): Promise<DeliveryRecord>;
  verifyPrivateOutput(input: VerifyPrivateInput): Promise<PrivateItemResult[]>;
  discardPartial(input: DiscardPartialInput): Promise<void>;
  cancelOrder(input: { orderId: string }): Promise<void>;
  writeManifest(input: WriteManifestInput): Promise<string>;
  /** The `catalog.json` location, or undefined when there was nothing to link (or the store refused the write). */
  writePrivateCatalog(input: WritePrivateCatalogInput): Promise<string | undefined>;
}
