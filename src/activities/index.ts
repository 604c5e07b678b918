/**
 * The activities of every workflow in this project, built from injected dependencies (clients
 * are created once, in the worker's composition root). Activities are the only code that does
 * I/O; each converts its errors into Temporal failures in `failures.ts`.
 */
import { type CampaignActivityDeps, createCampaignActivities } from './campaign-activities';
import type { HarvestActivities } from './contract';
import { type DeliveryActivityDeps, createDeliveryActivities } from './delivery-activities';
import { type HookActivityDeps, createHookActivities } from './hook-activities';

export type ActivityDeps = HookActivityDeps & DeliveryActivityDeps & CampaignActivityDeps;

export function createActivities(deps: ActivityDeps): HarvestActivities {
  return { ...createHookActivities(deps), ...createDeliveryActivities(deps), ...createCampaignActivities(deps) };
}

export type { HarvestActivities } from './contract';
