/**
 * The first step of a campaign and of its dry run: check the request as its orders will be sent
 * (the same validation a harvest does, before anything is ordered), then turn identifiers or a
 * STAC query into the list of products still to order, minus those verified in the ledger.
 */
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { HarvestActivities } from '../activities/contract';
import type { ResolvedCampaign } from '../activities/campaign-contract';
import { type CampaignRequest, ledgerOf, orderRequest } from '../shared/campaign-request';
import { parseHarvestRequest } from '../shared/harvest-request';

export const NON_RETRYABLE = ['InvalidRequest', 'HookRequestError', 'HookAuthError', 'HookForbiddenError'];

const ops = proxyActivities<HarvestActivities>({
  startToCloseTimeout: '10 minutes',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 10,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

export interface ResolvedProducts extends ResolvedCampaign {
  optionsHash: string;
}

export function invalidCampaign(problems: string[]): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'InvalidRequest',
    nonRetryable: true,
    message: `Invalid campaign request: ${problems.join('; ')}`,
    details: [problems],
  });
}

export async function resolveProducts(request: CampaignRequest): Promise<ResolvedProducts> {
  const sample = orderRequest(request, 0, [request.identifiers?.[0] ?? 'placeholder']);
  const parsed = parseHarvestRequest(sample);
  if (!parsed.ok) throw invalidCampaign(parsed.problems);
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
