/**
 * The campaign's durable records, written by activities: each order's verified products into the
 * ledger (so no later run orders them again), and at the end the manifest and STAC ItemCollection
 * next to the products.
 */
import { SHORT_ACTIVITY_HEARTBEAT } from './activity-timeouts';
import { isCancellation, log, proxyActivities } from '@temporalio/workflow';
import type { HarvestActivities } from '../activities/contract';
import type { CampaignItem, CampaignReport } from '../shared/campaign-report';
import { type CampaignRequest, ledgerOf, manifestTargetOf } from '../shared/campaign-request';
import { innermostMessage } from '../shared/failures';
import type { HarvestReport } from '../shared/harvest-report';

/** Beyond this many products the result lists only those not delivered; the manifest always has every one. */
const INLINE_ITEMS = 1000;

// Ledger records and manifests are idempotent writes. Short timeouts matter because an attempt
// lost with its worker holds the campaign (it cannot continue-as-new or finish) until they fire:
// one order's ledger records take seconds; the final manifest looks every product up in the catalogue.
const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 30 };
const heartbeatTimeout = SHORT_ACTIVITY_HEARTBEAT;
const ledgerOps = proxyActivities<HarvestActivities>({ startToCloseTimeout: '30 seconds', heartbeatTimeout, retry });
const manifestOps = proxyActivities<HarvestActivities>({ startToCloseTimeout: '2 minutes', heartbeatTimeout, retry });

/**
 * The order's verified products into the ledger, and those that failed verification as
 * quarantined. A ledger that cannot be written does not stop the
 * campaign: returns the problem instead (the products were delivered all the same).
 */
export async function recordOrder(
  request: CampaignRequest,
  optionsHash: string,
  report: HarvestReport,
): Promise<string | undefined> {
  const ledger = ledgerOf(request);
  const products = report.items
    .filter((i) => i.state === 'delivered' && i.sha256 && i.location && i.bytes !== undefined)
    .map((i) => ({
      identifier: i.identifier,
      location: i.location!,
      size: i.bytes!,
      sha256: i.sha256!,
      verifiedAt: i.deliveredAt ?? new Date().toISOString(),
    }));
  // Failed verification: the same corrupt bytes would come again, so later runs skip them.
  const corrupt = report.items
    .filter((i) => i.state === 'failed' && i.failure === 'IntegrityError')
    .map((i) => ({ identifier: i.identifier, reason: i.error ?? 'failed verification' }));
  if (!ledger || products.length + corrupt.length === 0) return undefined;
  try {
    if (products.length > 0) {
      await ledgerOps.recordDeliveries({
        ledger,
        workflow: request.workflow,
        optionsHash,
        orderId: report.orderId,
        products,
      });
    }
    if (corrupt.length > 0) {
      await ledgerOps.recordQuarantine({
        ledger,
        workflow: request.workflow,
        optionsHash,
        orderId: report.orderId,
        products: corrupt,
      });
    }
    return undefined;
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.error('Could not record deliveries in the ledger', { orderId: report.orderId, err });
    return `ledger: ${innermostMessage(err)}`;
  }
}

/** manifest.json and the ItemCollection; returns the report as written (with the items, up to a bound). */
export async function writeManifest(
  request: CampaignRequest,
  optionsHash: string,
  report: CampaignReport,
  items: CampaignItem[],
): Promise<CampaignReport> {
  const { output } = request;
  return manifestOps.writeCampaignManifest({
    target: manifestTargetOf(request),
    ...(output.storage === 'PRIVATE'
      ? { privateTarget: { url: output.target, credentials: output.credentials, endpoint: output.endpoint } }
      : {}),
    ledger: ledgerOf(request),
    workflow: request.workflow,
    optionsHash,
    report,
    items,
    inlineItems: INLINE_ITEMS,
  });
}
