/**
 * The first step of a campaign and of its dry run: check the request as its orders will be sent
 * (the same validation a harvest does, before anything is ordered), then turn identifiers or a
 * STAC query into the list of products still to order, minus those verified in the ledger.
 */
import { SHORT_ACTIVITY_HEARTBEAT } from './activity-timeouts';
import { proxyActivities } from '@temporalio/workflow';
import type { HarvestActivities } from '../activities/contract';
import type { ResolvedCampaign } from '../activities/campaign-contract';
import { type CampaignRequest, ledgerOf, orderRequest } from '../shared/campaign-request';
import { invalidRequest } from '../shared/failures';
import { parseHarvestRequest } from '../shared/harvest-request';

const ops = proxyActivities<HarvestActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: SHORT_ACTIVITY_HEARTBEAT,
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 10,
  },
});

export interface ResolvedProducts extends ResolvedCampaign {
  optionsHash: string;
}

export async function resolveProducts(request: CampaignRequest): Promise<ResolvedProducts> {
  const sample = orderRequest(request, 0, [request.identifiers?.[0] ?? 'placeholder']);
  const parsed = parseHarvestRequest(sample);
  if (!parsed.ok) throw invalidRequest('campaign request', parsed.problems);
  const { optionsHash } = await ops.validateHarvest(parsed.request);
  const resolved = await ops.resolveCampaign({
    collection: request.collection,
    identifiers: request.identifiers,
    query: request.query,
    ledger: ledgerOf(request),
    ...(request.retryQuarantined ? { retryQuarantined: true } : {}),
    workflow: request.workflow,
    optionsHash,
  });
  return { ...resolved, optionsHash };
}
