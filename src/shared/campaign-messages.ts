/** Queries and updates of the campaign workflow, shared by the workflow and its clients. */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { CampaignProgress } from './campaign-report';
import type { ConcurrencyChange } from './campaign-request';

export type { ConcurrencyChange } from './campaign-request';

export const CAMPAIGN_WORKFLOW = 'harvestCampaign';
export const CAMPAIGN_PLAN_WORKFLOW = 'planHarvestCampaign';
export const HARVEST_PLAN_WORKFLOW = 'planHarvest';
export const FOOTPRINTS_WORKFLOW = 'catalogueFootprints';
export const SCHEDULED_HARVEST_WORKFLOW = 'scheduledHarvest';

/** Live progress: counts per state, bytes, rate, ETA, orders, the account's monthly budget. Same name as the harvest's. */
export const campaignProgressQuery = defineQuery<CampaignProgress>('progress');

/** Stops starting new orders (those under way finish). Returns the progress after the change. */
export const pauseCampaignUpdate = defineUpdate<CampaignProgress>('pause');
export const resumeCampaignUpdate = defineUpdate<CampaignProgress>('resume');

export const setConcurrencyUpdate = defineUpdate<CampaignProgress, [ConcurrencyChange]>('setConcurrency');

/** Puts the failed (optionally also timed-out) products back in the queue; returns them. */
export const retryFailedUpdate = defineUpdate<{ requeued: string[] }, [{ includeTimedOut?: boolean }]>('retryFailed');
