/**
 * The project's workflows with one change that breaks runs in flight: each recorded workflow type
 * first waits on a timer it did not have before. The replay tests check that their committed
 * histories catch such a change (a DeterminismViolationError), so a passing replay means something.
 */
import { sleep } from '@temporalio/workflow';
import { harvest as currentHarvest } from '../../src/workflows/harvest';
import { harvestCampaign as currentCampaign } from '../../src/workflows/campaign';
import { scheduledHarvest as currentScheduled } from '../../src/workflows/scheduled-harvest';

export * from '../../src/workflows';

export async function harvest(...args: Parameters<typeof currentHarvest>): ReturnType<typeof currentHarvest> {
  await sleep('1s');
  return currentHarvest(...args);
}

export async function harvestCampaign(...args: Parameters<typeof currentCampaign>): ReturnType<typeof currentCampaign> {
  await sleep('1s');
  return currentCampaign(...args);
}

export async function scheduledHarvest(
  ...args: Parameters<typeof currentScheduled>
): ReturnType<typeof currentScheduled> {
  await sleep('1s');
  return currentScheduled(...args);
}
