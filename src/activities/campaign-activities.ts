/**
 * Activities of campaigns and of the account limiter: resolve a campaign's products (catalogue
 * search with paging, ledger look-ups), record verified products in the ledger, write the
 * campaign manifest and its STAC ItemCollection, and talk to the account limiter workflow through
 * the worker's own Temporal client (signal-with-start, query, describe).
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { CredentialStore } from '../config/credentials';
import { isRetryable } from '../hook/errors';
import type { StacClient, StacFeature } from '../hook/stac';
import { footprintOf, productSizeOf } from '../hook/stac-fields';
import {
  ACCOUNT_LIMITER_WORKFLOW,
  type AccountStatus,
  type LimiterInput,
  accountLimiterId,
  accountStatusQuery,
  acquirePermitSignal,
} from '../shared/account-limiter';
import type { CampaignItem, CampaignReport, SizeSummary } from '../shared/campaign-report';
import { INVALID_REQUEST, invalidRequest } from '../shared/failures';
import { identifier as identifierSchema } from '../shared/harvest-request';
import { type Ledger, type ProductKey, productKeyId } from '../storage/ledger';
import { MANIFEST_NAME, writeManifest } from '../storage/manifest';
import { createS3Client } from '../storage/s3-client';
import type {
  CampaignManifestInput,
  CatalogueFootprints,
  CatalogueLookupInput,
  OrderCatalogue,
  PermitRequestInput,
  RecordQuarantineInput,
  RecordDeliveriesInput,
  ResolveCampaignInput,
  ResolvedCampaign,
} from './campaign-contract';
import { ledgerDestination, preflightProblems } from './destinations';
import { translatingErrors } from './failures';
import { STAC_PAGE, catalogueItems, orderCatalogue } from './catalogue-items';
import { buildItemCollection } from './item-collection';
import { privateCampaignLinks, privateStacBestEffort, temporaryCampaignLinks, writeCampaignStac } from './stac-sidecar';
import { openPrivateOutput } from '../storage/sinks';
import { createLedgerAccess, fromLedgerLocation, toLedgerLocation } from './ledger-access';

export interface CampaignActivityDeps {
  credentials: CredentialStore;
  /** The catalogue; without it, STAC-query campaigns are refused and ItemCollections carry no geometry. */
  stac?: StacClient;
}

export const ITEM_COLLECTION_NAME = 'items.json';
/** Ledger records written or catalogue ids looked up at once. */
const CONCURRENCY = 16;

export function createCampaignActivities(deps: CampaignActivityDeps) {
  const { credentials, stac } = deps;
  const openLedger = createLedgerAccess(credentials);
  const guard = <T>(body: () => Promise<T>) => translatingErrors(credentials.secrets(), body);
  const signal = () => Context.current().cancellationSignal;

  /**
   * A PRIVATE campaign's `collection.json` and `catalog.json` in the user's bucket, linking the
   * sidecars its verifications wrote there. Best effort, as those are: keys that may only read or
   * a store that refuses the write cost the collection, with a warning; the products stand.
   */
  const writePrivateCampaignStac = async (
    privateTarget: NonNullable<CampaignManifestInput['privateTarget']>,
    report: CampaignReport,
    items: readonly CampaignItem[],
    features: readonly Record<string, unknown>[],
  ): Promise<void> => {
    const bucket = openPrivateOutput(credentials.s3(privateTarget.credentials), privateTarget.endpoint);
    try {
      await privateStacBestEffort(privateTarget.url, 'STAC collection', async () => {
        const sidecars = await bucket.stacSidecars(privateTarget.url, signal());
        await writeCampaignStac(
          report,
          privateCampaignLinks(privateTarget.url, items, features, sidecars),
          async (fileName, json) => bucket.writeJson(privateTarget.url, fileName, json),
        );
      });
    } finally {
      bucket.close();
    }
  };

  return {
    async resolveCampaign(input: ResolveCampaignInput): Promise<ResolvedCampaign> {
      return guard(async () => {
        // Checked before anything is ordered, like the harvest's own credential names.
        const credentialProblem = input.ledger?.credentials && credentials.check(input.ledger.credentials, 's3');
        const ledgerProblems = credentialProblem
          ? [`ledger.credentials: ${credentialProblem}`]
          : input.ledger
            ? await preflightProblems([ledgerDestination(input.ledger, credentials)], {
                secrets: credentials.secrets(),
                signal: signal(),
              })
            : [];
        if (ledgerProblems.length > 0) {
          throw invalidRequest('campaign request', ledgerProblems);
        }
        let identifiers = input.identifiers ?? [];
        let truncated = false;
        if (input.query) {
          if (!stac) {
            throw ApplicationFailure.nonRetryable('this worker has no STAC catalogue configured', INVALID_REQUEST);
          }
          const { query } = input;
          const found = await stac.searchAll(
            {
              collections: [input.collection],
              bbox: query.bbox,
              datetime: query.datetime,
              filter: query.filter,
              limit: STAC_PAGE,
            },
            { maxItems: query.maxItems, signal: signal() },
          );
          truncated = found.truncated;
          identifiers = found.items.map((item) => item.id).filter((id) => identifierSchema.safeParse(id).success);
          const refused = found.items.length - identifiers.length;
          if (refused > 0)
            Context.current().log.warn('Catalogue ids that are not orderable identifiers left out', { refused });
        }
        const skipped = new Set<string>();
        const quarantined = new Map<string, string>();
        if (input.ledger && identifiers.length > 0) {
          const ledger = await openLedger(input.ledger);
          const keys = identifiers.map((identifier) => productKey(input, identifier));
          const records = await ledger.lookupMany(keys);
          for (const key of keys) if ((records.get(productKeyId(key)) ?? []).length > 0) skipped.add(key.identifier);
          if (!input.retryQuarantined) {
            const notes = await ledger.quarantinedMany(keys.filter((key) => !skipped.has(key.identifier)));
            for (const note of notes.values()) quarantined.set(note.identifier, note.reason);
          }
        }
        return {
          found: identifiers.length,
          toOrder: identifiers.filter((id) => !skipped.has(id) && !quarantined.has(id)),
          skipped: [...skipped],
          quarantined: [...quarantined].map(([identifier, reason]) => ({ identifier, reason })),
          truncated,
        };
      });
    },

    async recordDeliveries(input: RecordDeliveriesInput): Promise<{ recorded: number }> {
      return guard(async () => {
        const ledger = await openLedger(input.ledger);
        await inBatches(input.products, CONCURRENCY, (product) =>
          ledger.record({
            identifier: product.identifier,
            workflow: input.workflow,
            optionsHash: input.optionsHash,
            location: toLedgerLocation(product.location),
            size: product.size,
            sha256: product.sha256,
            verifiedAt: product.verifiedAt,
            orderId: input.orderId ?? null,
          }),
        );
        return { recorded: input.products.length };
      });
    },

    async recordQuarantine(input: RecordQuarantineInput): Promise<{ quarantined: number }> {
      return guard(async () => {
        const ledger = await openLedger(input.ledger);
        const at = new Date().toISOString();
        await inBatches(input.products, CONCURRENCY, (product) =>
          ledger.quarantine({
            identifier: product.identifier,
            workflow: input.workflow,
            optionsHash: input.optionsHash,
            reason: product.reason.slice(0, 2000),
            at,
            orderId: input.orderId ?? null,
          }),
        );
        return { quarantined: input.products.length };
      });
    },

    async writeCampaignManifest(input: CampaignManifestInput): Promise<CampaignReport> {
      return guard(async () => {
        const items = input.items.map((item) => ({ ...item }));
        const verified = items.filter((i) => i.state === 'delivered' || i.state === 'skipped');
        if (input.ledger && verified.length > 0) await fillFromLedger(await openLedger(input.ledger), input, verified);
        const catalogue = await catalogueItems(
          stac,
          input.report.collection,
          verified.map((item) => item.identifier),
          signal(),
        );
        const { target } = input;
        const keys = target.credentials ? credentials.s3(target.credentials) : undefined;
        const s3 = keys ? createS3Client({ ...keys, endpoint: keys.endpoint ?? target.endpoint }) : undefined;
        try {
          const collection = buildItemCollection(items, catalogue);
          const itemsWritten = await writeManifest(target.url, collection, { s3, fileName: ITEM_COLLECTION_NAME });
          if (input.report.storage === 'TEMPORARY') {
            await writeCampaignStac(
              input.report,
              temporaryCampaignLinks(target.url, items, collection.features),
              (fileName, json) => writeManifest(target.url, json, { s3, fileName }),
            );
          }
          if (input.privateTarget)
            await writePrivateCampaignStac(input.privateTarget, input.report, items, collection.features);
          const report: CampaignReport = {
            ...input.report,
            itemCollection: fromLedgerLocation(itemsWritten.location),
            items,
          };
          const manifest = await writeManifest(target.url, report, { s3, fileName: MANIFEST_NAME });
          report.manifest = fromLedgerLocation(manifest.location);
          if (items.length > input.inlineItems) {
            // Too many to return: keep what needs attention (retry-failed reads it), the manifest has the rest.
            report.items = items.filter((i) => i.state !== 'delivered' && i.state !== 'skipped');
            report.itemsOmitted = true;
          }
          return report;
        } finally {
          s3?.destroy();
        }
      });
    },

    async catalogueSizes(input: CatalogueLookupInput): Promise<SizeSummary> {
      return guard(async () => {
        const found = await catalogueItems(stac, input.collection, input.identifiers, signal());
        const summary: SizeSummary = { bytes: 0, known: 0, unknown: 0 };
        for (const identifier of input.identifiers) {
          const feature = found.get(identifier);
          const size = feature && productSizeOf(feature);
          if (size === undefined) summary.unknown++;
          else {
            summary.known++;
            summary.bytes += size;
          }
        }
        return summary;
      });
    },

    async orderCatalogueItems(input: CatalogueLookupInput): Promise<OrderCatalogue> {
      return guard(async () => {
        let found: Map<string, StacFeature>;
        try {
          found = await catalogueItems(stac, input.collection, input.identifiers, signal());
        } catch (err) {
          // A catalogue that refuses us refuses each product's lookup too: minimal sidecars, as there.
          if (isRetryable(err) || signal().aborted) throw err;
          Context.current().log.warn('No catalogue items for the STAC sidecars: writing minimal ones', {
            error: err instanceof Error ? err.message : String(err),
          });
          found = new Map();
        }
        const { items, leftOut } = orderCatalogue(input.identifiers, found);
        if (leftOut > 0)
          Context.current().log.info('Catalogue items too big for history: looked up per product', { leftOut });
        return { items };
      });
    },

    async catalogueFootprints(input: CatalogueLookupInput): Promise<CatalogueFootprints> {
      return guard(async () => {
        const found = await catalogueItems(stac, input.collection, input.identifiers, signal());
        const footprints: CatalogueFootprints['footprints'] = {};
        for (const [identifier, feature] of found) {
          const footprint = footprintOf(feature);
          if (footprint) footprints[identifier] = footprint;
        }
        return { footprints };
      });
    },

    async requestAccountPermit(input: PermitRequestInput): Promise<void> {
      return guard(async () => {
        const { client, info } = Context.current();
        const limiterInput: LimiterInput = {
          account: input.account.name,
          limits: { maxItemsInFlight: input.account.maxItemsInFlight, monthlyOrders: input.account.monthlyOrders },
          ...input.limiter,
        };
        await client.workflow.signalWithStart(ACCOUNT_LIMITER_WORKFLOW, {
          workflowId: accountLimiterId(input.account.name),
          taskQueue: info.taskQueue,
          args: [limiterInput],
          signal: acquirePermitSignal,
          signalArgs: [input.request],
        });
      });
    },

    async accountStatus(input: { account: string }): Promise<AccountStatus | undefined> {
      return guard(async () => {
        const handle = Context.current().client.workflow.getHandle(accountLimiterId(input.account));
        try {
          const description = await handle.describe();
          if (description.status.name !== 'RUNNING') return undefined;
          return await handle.query(accountStatusQuery);
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return undefined;
          throw err;
        }
      });
    },

    async closedWorkflows(input: { workflowIds: string[] }): Promise<string[]> {
      return guard(async () => {
        const { client } = Context.current();
        const closed: string[] = [];
        await inBatches(input.workflowIds, CONCURRENCY, async (workflowId) => {
          try {
            const description = await client.workflow.getHandle(workflowId).describe();
            if (description.status.name !== 'RUNNING') closed.push(workflowId);
          } catch (err) {
            if (!(err instanceof WorkflowNotFoundError)) throw err;
            closed.push(workflowId);
          }
        });
        return closed;
      });
    },
  };
}

function productKey(input: { workflow: string; optionsHash: string }, identifier: string): ProductKey {
  return { identifier, workflow: input.workflow, optionsHash: input.optionsHash };
}

/** Sha256, location and size of verified products, from the ledger (the record at the item's location first). */
async function fillFromLedger(ledger: Ledger, input: CampaignManifestInput, items: CampaignItem[]): Promise<void> {
  const records = await ledger.lookupMany(items.map((item) => productKey(input, item.identifier)));
  for (const item of items) {
    const found = records.get(productKeyId(productKey(input, item.identifier))) ?? [];
    const record =
      found.find((r) => item.location !== undefined && fromLedgerLocation(r.location) === item.location) ?? found[0];
    if (!record) continue;
    item.sha256 ??= record.sha256;
    item.location ??= fromLedgerLocation(record.location);
    item.bytes ??= record.size;
    item.verifiedAt ??= record.verifiedAt;
  }
}

async function inBatches<T>(
  values: readonly T[],
  concurrency: number,
  each: (value: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < values.length) await each(values[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, values.length) }, worker));
}
