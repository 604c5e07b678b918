/**
 * `catalogueFootprints`: the footprints of a list of products, looked up in the catalogue by the
 * worker (which holds the credentials the catalogue needs) for `campaign report --html`. A short
 * read-only workflow; the client asks for at most a few thousand products per run.
 */
import { SHORT_ACTIVITY_HEARTBEAT } from './activity-timeouts';
import { proxyActivities } from '@temporalio/workflow';
import type { CatalogueFootprints, CatalogueLookupInput } from '../activities/campaign-contract';
import type { HarvestActivities } from '../activities/contract';

const catalogue = proxyActivities<HarvestActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: SHORT_ACTIVITY_HEARTBEAT,
  retry: { initialInterval: '2s', maximumInterval: '1m', maximumAttempts: 5 },
});

export async function catalogueFootprints(input: CatalogueLookupInput): Promise<CatalogueFootprints> {
  return catalogue.catalogueFootprints(input);
}
