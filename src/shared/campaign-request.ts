/**
 * `CampaignRequest`: many products — a list of identifiers or a STAC query — harvested as a
 * series of Hook orders (each a child `harvest`), within the limits of the Hook account, skipping
 * what the ledger already holds as verified. One JSON object, so
 * `temporal workflow start --type harvestCampaign --input-file campaign.json` works. Holds no
 * secret: credentials are named. Workflow-safe (zod only).
 */
import { z } from 'zod';
import { parseDuration } from './duration';
import {
  type HarvestRequestInput,
  MAX_IDENTIFIERS_PER_ORDER,
  collectionId,
  credentialRef,
  describeIssues,
  harvestRequestSchema,
  identifier,
  sinkUrl,
} from './harvest-request';

/** The most products one campaign takes (its state, carried across continue-as-new, stays well under 2 MB). */
export const MAX_CAMPAIGN_ITEMS = 10_000;

const harvestFields = harvestRequestSchema.shape;

/**
 * The Hook account the campaign orders with, as the account-wide limiter sees it. The numbers
 * configure the account's limiter when it is first created; after that the limiter's own settings
 * apply to every campaign (change them with `setAccountLimits`).
 */
export const accountSettingsSchema = z.strictObject({
  /** A label for the account the worker logs in with (one limiter per label). Not a user name. */
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be a label of lower-case letters, digits, dot, dash or underscore')
    .default('default'),
  /** Hook items queued or in progress at once, over every campaign of the account (roles: 1, 2 or 5). */
  maxItemsInFlight: z.number().int().min(1).max(10_000).default(5),
  /** Orders the account may create per calendar month (UTC): 25 or 1000 by role. */
  monthlyOrders: z.number().int().min(1).max(1_000_000).default(1000),
  /**
   * How often the limiter checks that the campaigns holding permits still run, and frees the
   * permits of those that ended without giving them back (terminated). Default 5m.
   */
  checkHoldersEvery: z
    .string()
    .refine((text) => parseDuration(text) !== undefined, 'must be a duration like 30s or 5m')
    .optional(),
});
export type AccountSettings = z.output<typeof accountSettingsSchema>;

const bboxSchema = z
  .tuple([z.number(), z.number(), z.number(), z.number()])
  .refine(
    ([w, s, e, n]) => [w, e].every((x) => x >= -180 && x <= 180) && s >= -90 && n <= 90 && s <= n,
    'must be [west, south, east, north] in degrees, south <= north',
  );

/** A STAC search resolved into identifiers (with paging) before anything is ordered. */
export const stacQuerySchema = z.strictObject({
  bbox: bboxSchema.optional(),
  /** RFC 3339 instant or interval, e.g. `2023-09-01T00:00:00Z/2023-09-30T23:59:59Z` (`..` for an open end). */
  datetime: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[0-9.:TZtz+\- ]*(\/[0-9.:TZtz+\- ]*)?$/, 'must be an RFC 3339 date-time or interval')
    .optional(),
  /** A CQL2-JSON filter, passed to the catalogue as is. */
  filter: z.record(z.string(), z.unknown()).optional(),
  /** Stop after this many matches. */
  maxItems: z.number().int().min(1).max(MAX_CAMPAIGN_ITEMS).default(MAX_CAMPAIGN_ITEMS),
});
export type StacQuery = z.output<typeof stacQuerySchema>;

/** Where the ledger of verified products lives: a folder or an S3 prefix shared by every worker. */
export const ledgerRefSchema = z
  .strictObject({
    url: sinkUrl,
    /** Credential set for an s3:// ledger. */
    credentials: credentialRef.optional(),
  })
  .refine((ref) => !ref.url.startsWith('s3://') || ref.credentials, {
    message: 'an s3:// ledger needs "credentials"',
    path: ['credentials'],
  });
export type LedgerRef = z.output<typeof ledgerRefSchema>;

const campaignFields = {
  /** A label: the campaign's default workflow id and the prefix of its orders' names. */
  name: z
    .string()
    .min(1, 'must not be empty')
    .max(60, 'must be at most 60 characters')
    .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, 'may use letters, digits, space, dot, dash and underscore'),
  workflow: harvestFields.workflow,
  collection: collectionId,
  /** The products, or… */
  identifiers: z
    .array(identifier)
    .min(1, 'must list at least one identifier')
    .max(MAX_CAMPAIGN_ITEMS, `must list at most ${MAX_CAMPAIGN_ITEMS} identifiers (split the campaign)`)
    .optional(),
  /** …a catalogue search in `collection` that finds them. */
  query: stacQuerySchema.optional(),
  source: harvestFields.source,
  output: harvestFields.output,
  options: harvestFields.options,
  polling: harvestFields.polling,
  maxParallelDownloads: harvestFields.maxParallelDownloads,
  connectionsPerProduct: harvestFields.connectionsPerProduct,
  downloadHeartbeatTimeout: harvestFields.downloadHeartbeatTimeout,
  downloadTaskQueue: harvestFields.downloadTaskQueue,
  /** Items per Hook order (each order is one child `harvest`). */
  orderSize: z.number().int().min(1).max(MAX_IDENTIFIERS_PER_ORDER).default(MAX_IDENTIFIERS_PER_ORDER),
  /** Orders of this campaign under way at once (changeable while running). */
  maxOrdersInFlight: z.number().int().min(1).max(100).default(4),
  /** Items of this campaign under way at once (changeable while running); the account's limit applies on top. */
  maxItemsInFlight: z.number().int().min(1).max(10_000).optional(),
  account: accountSettingsSchema.default({ name: 'default', maxItemsInFlight: 5, monthlyOrders: 1000 }),
  /** Default: `<sink>/.dedl-ledger` for TEMPORARY output; PRIVATE output has no ledger (no sha256 to record). */
  ledger: ledgerRefSchema.optional(),
  /** Order products the ledger holds as quarantined (they failed verification before) instead of skipping them. */
  retryQuarantined: z.boolean().default(false),
  /** Start without ordering anything; `resume` starts the orders (after a look at the plan in `progress`). */
  paused: z.boolean().default(false),
  /** Continue as new once this run's history has this many events (the server's own suggestion also counts). */
  continueAsNewAfterEvents: z.number().int().min(50).max(40_000).default(10_000),
};

/**
 * A change of a running campaign's limits (the `setConcurrency` update), within the same bounds as
 * the request's own fields.
 */
export const concurrencyChangeSchema = z.object({
  maxOrdersInFlight: campaignFields.maxOrdersInFlight.unwrap().optional(),
  maxItemsInFlight: campaignFields.maxItemsInFlight,
  orderSize: campaignFields.orderSize.unwrap().optional(),
});
export type ConcurrencyChange = z.output<typeof concurrencyChangeSchema>;

/** Refuses a change out of bounds (an update's validator: the message names each field and why). */
export function checkConcurrencyChange(change: unknown): void {
  const checked = concurrencyChangeSchema.safeParse(change);
  if (!checked.success) throw new RangeError(describeIssues(checked.error).join('; '));
}

/** The campaign's fields without the cross-field checks (for schemas built on it, e.g. scheduled harvests). */
export const campaignBaseSchema = z.strictObject(campaignFields);

export const campaignRequestSchema = campaignBaseSchema
  .refine((r) => (r.identifiers === undefined) !== (r.query === undefined), {
    message: 'give either "identifiers" or "query", not both',
    path: ['identifiers'],
  })
  .refine((r) => r.output.storage === 'PRIVATE' || !r.output.sink.startsWith('s3://') || r.output.sinkCredentials, {
    message: 'an s3:// sink needs "sinkCredentials"',
    path: ['output', 'sinkCredentials'],
  });

/** What callers write (defaults optional). */
export type CampaignRequestInput = z.input<typeof campaignRequestSchema>;
/** What the workflow works with (defaults filled in). */
export type CampaignRequest = z.output<typeof campaignRequestSchema>;

export type ParsedCampaignRequest = { ok: true; request: CampaignRequest } | { ok: false; problems: string[] };

/** Validates a campaign request; problems name their field. Repeated identifiers are dropped (first kept). */
export function parseCampaignRequest(input: unknown): ParsedCampaignRequest {
  const result = campaignRequestSchema.safeParse(input);
  if (!result.success) return { ok: false, problems: describeIssues(result.error) };
  const request = result.data;
  if (request.identifiers) request.identifiers = [...new Set(request.identifiers)];
  return { ok: true, request };
}

/** The ledger a campaign uses: the request's, else one next to TEMPORARY products, else none. */
export function ledgerOf(request: Pick<CampaignRequest, 'ledger' | 'output'>): LedgerRef | undefined {
  if (request.ledger) return request.ledger;
  if (request.output.storage !== 'TEMPORARY') return undefined;
  return { url: joinUrl(request.output.sink, '.dedl-ledger'), credentials: request.output.sinkCredentials };
}

/** Where the campaign's manifest goes: next to the products (TEMPORARY sink, PRIVATE download copy or target). */
export function manifestTargetOf(request: Pick<CampaignRequest, 'output'>): {
  url: string;
  credentials?: string;
  endpoint?: string;
} {
  const { output } = request;
  if (output.storage === 'TEMPORARY') return { url: output.sink, credentials: output.sinkCredentials };
  if (output.download) return { url: output.download };
  return { url: output.target, credentials: output.credentials, endpoint: output.endpoint };
}

/** The `harvest` request of one order of the campaign. */
export function orderRequest(request: CampaignRequest, seq: number, identifiers: string[]): HarvestRequestInput {
  return {
    name: `${request.name} o${seq}`,
    workflow: request.workflow,
    collection: request.collection,
    identifiers,
    source: request.source,
    output: request.output,
    options: request.options,
    polling: request.polling,
    maxParallelDownloads: request.maxParallelDownloads,
    ...(request.connectionsPerProduct ? { connectionsPerProduct: request.connectionsPerProduct } : {}),
    downloadHeartbeatTimeout: request.downloadHeartbeatTimeout,
    ...(request.downloadTaskQueue ? { downloadTaskQueue: request.downloadTaskQueue } : {}),
  };
}

function joinUrl(base: string, name: string): string {
  return `${base.replace(/\/+$/, '')}/${name}`;
}
