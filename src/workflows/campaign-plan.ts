/**
 * `planHarvestCampaign`: the dry run of a campaign (`dedl-harvest campaign plan`). It resolves the
 * products exactly as the campaign would — identifiers or the catalogue search, minus the ledger's
 * verified products — and sets the orders needed against the account's monthly budget, before
 * anything is ordered. It orders nothing.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { HarvestActivities } from '../activities/contract';
import type { CampaignPlan } from '../shared/campaign-report';
import { type CampaignRequestInput, ledgerOf, parseCampaignRequest } from '../shared/campaign-request';
import { invalidRequest } from '../shared/failures';
import { orderSizeOf } from './campaign-book';
import { resolveProducts } from './campaign-resolve';

const ops = proxyActivities<HarvestActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 5 } });

export async function planHarvestCampaign(input: CampaignRequestInput): Promise<CampaignPlan> {
  const parsed = parseCampaignRequest(input);
  if (!parsed.ok) throw invalidRequest('campaign request', parsed.problems);
  const { request } = parsed;
  const resolved = await resolveProducts(request);
  const status = await ops.accountStatus({ account: request.account.name });
  const limits = status?.limits ?? request.account;
  const ordersThisMonth = status?.ordersThisMonth ?? 0;
  const orderSize = orderSizeOf(request, limits.maxItemsInFlight);
  const ordersNeeded = Math.ceil(resolved.toOrder.length / orderSize);
  const left = Math.max(0, limits.monthlyOrders - ordersThisMonth);
  return {
    name: request.name,
    collection: request.collection,
    found: resolved.found,
    alreadyVerified: resolved.skipped.length,
    toOrder: resolved.toOrder.length,
    orderSize,
    ordersNeeded,
    account: {
      name: request.account.name,
      maxItemsInFlight: limits.maxItemsInFlight,
      monthlyOrders: limits.monthlyOrders,
      ordersThisMonth,
      ordersLeftThisMonth: left,
    },
    fitsMonthlyBudget: ordersNeeded <= left,
    sample: resolved.toOrder.slice(0, 10),
    ledger: ledgerOf(request)?.url,
  };
}
