/**
 * Every workflow type of the project, as the worker bundles them. Workflow code is deterministic
 * orchestration only: no I/O, no Node built-ins (lint-enforced); it calls activities by type.
 */
export { harvest } from './harvest';
export { harvestCampaign } from './campaign';
export { planHarvest, planHarvestCampaign } from './campaign-plan';
export { catalogueFootprints } from './catalogue-footprints';
export { scheduledHarvest } from './scheduled-harvest';
export { hookAccountLimiter } from './account-limiter';
