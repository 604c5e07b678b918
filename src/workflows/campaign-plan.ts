/**
 * The dry runs: `planHarvestCampaign` (`dedl-harvest campaign plan`) and `planHarvest`
 * (`dedl-harvest harvest plan`, `run --dry-run`). They resolve the products exactly as the
 * campaign or harvest would — identifiers or the catalogue search, minus the ledger's verified
 * products — add up their sizes from the catalogue, and set the orders needed against the
 * account's monthly budget and parallel-item limit. They order nothing.
 */
import { SHORT_ACTIVITY_HEARTBEAT } from './activity-timeouts';
import { proxyActivities } from '@temporalio/workflow';
import type { HarvestActivities } from '../activities/contract';
import type { AccountStatus } from '../shared/account-limiter';
import type { CampaignPlan, SizeSummary } from '../shared/campaign-report';
import {
  type AccountSettings,
  type CampaignRequestInput,
  accountSettingsSchema,
  ledgerOf,
  parseCampaignRequest,
} from '../shared/campaign-request';
import { invalidRequest } from '../shared/failures';
import { type HarvestRequestInput, parseHarvestRequest } from '../shared/harvest-request';
import { orderSizeOf } from './campaign-book';
import { resolveProducts } from './campaign-resolve';

const ops = proxyActivities<HarvestActivities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: SHORT_ACTIVITY_HEARTBEAT,
  retry: { maximumAttempts: 5 },
});

/** Catalogue look-ups: 100 products per search, up to 10 000 products. */
const catalogue = proxyActivities<HarvestActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: SHORT_ACTIVITY_HEARTBEAT,
  retry: { initialInterval: '2s', maximumInterval: '1m', maximumAttempts: 5 },
});

export async function planHarvestCampaign(input: CampaignRequestInput): Promise<CampaignPlan> {
  const parsed = parseCampaignRequest(input);
  if (!parsed.ok) throw invalidRequest('campaign request', parsed.problems);
  const { request } = parsed;
  const resolved = await resolveProducts(request);
  const size = await catalogue.catalogueSizes({ collection: request.collection, identifiers: resolved.toOrder });
  const status = await ops.accountStatus({ account: request.account.name });
  const orderSize = orderSizeOf(request, (status?.limits ?? request.account).maxItemsInFlight);
  return {
    kind: 'campaign',
    name: request.name,
    collection: request.collection,
    found: resolved.found,
    alreadyVerified: resolved.skipped.length,
    size,
    toOrder: resolved.toOrder.length,
    orderSize,
    ordersNeeded: Math.ceil(resolved.toOrder.length / orderSize),
    ...budget(request.account, status, Math.ceil(resolved.toOrder.length / orderSize)),
    sample: resolved.toOrder.slice(0, 10),
    ledger: ledgerOf(request)?.url,
  };
}

/**
 * A harvest is one order of every identifier it lists (it does not skip what the ledger holds, as
 * a campaign does: `alreadyVerified` only tells). Its account is the limiter of `default`, or the
 * default limits (the hook-high role) while none runs.
 */
export async function planHarvest(input: HarvestRequestInput): Promise<CampaignPlan> {
  const parsed = parseHarvestRequest(input);
  if (!parsed.ok) throw invalidRequest('harvest request', parsed.problems);
  const { request } = parsed;
  const { optionsHash } = await ops.validateHarvest(request);
  const ledger = ledgerOf({ output: request.output });
  let held = 0;
  let size: SizeSummary = { bytes: 0, known: 0, unknown: request.identifiers.length };
  if (request.collection !== undefined) {
    // Ledger look-up only (no catalogue search: the identifiers are given).
    const resolved = await catalogue.resolveCampaign({
      collection: request.collection,
      identifiers: request.identifiers,
      ledger,
      workflow: request.workflow,
      optionsHash,
    });
    held = resolved.skipped.length;
    size = await catalogue.catalogueSizes({ collection: request.collection, identifiers: request.identifiers });
  }
  const account = accountSettingsSchema.parse({});
  const status = await ops.accountStatus({ account: account.name });
  return {
    kind: 'harvest',
    name: request.name,
    collection: request.collection,
    found: request.identifiers.length,
    alreadyVerified: held,
    size,
    toOrder: request.identifiers.length,
    orderSize: request.identifiers.length,
    ordersNeeded: 1,
    ...budget(account, status, 1),
    sample: request.identifiers.slice(0, 10),
    ledger: ledger?.url,
  };
}

/** The account's limits (its limiter's when it runs, else the request's) and whether the orders fit this month. */
function budget(
  settings: AccountSettings,
  status: AccountStatus | undefined,
  ordersNeeded: number,
): Pick<CampaignPlan, 'account' | 'fitsMonthlyBudget'> {
  const limits = status?.limits ?? settings;
  const ordersThisMonth = status?.ordersThisMonth ?? 0;
  const left = Math.max(0, limits.monthlyOrders - ordersThisMonth);
  return {
    account: {
      name: settings.name,
      maxItemsInFlight: limits.maxItemsInFlight,
      monthlyOrders: limits.monthlyOrders,
      ordersThisMonth,
      ordersLeftThisMonth: left,
    },
    fitsMonthlyBudget: ordersNeeded <= left,
  };
}
