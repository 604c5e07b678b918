/**
 * The activities of every workflow in this project, built from injected dependencies (clients
 * are created once, in the worker's composition root). Activities are the only code that does
 * I/O; each converts its errors into Temporal failures in `failures.ts`.
 */
import { type CampaignActivityDeps, createCampaignActivities } from './campaign-activities';
import type { HarvestActivities } from './contract';
import { type DeliveryActivityDeps, createDeliveryActivities } from './delivery-activities';
import { type HookActivityDeps, createHookActivities } from './hook-activities';
import { heartbeatingWhileRunning } from './keep-alive';

export type ActivityDeps = HookActivityDeps & DeliveryActivityDeps & CampaignActivityDeps;

/**
 * Every activity heartbeats while it runs (keep-alive.ts), so a worker's death costs a retry its
 * heartbeat timeout, not its start-to-close; deliveries keep their own, which carry their checkpoint.
 */
export function createActivities(deps: ActivityDeps): HarvestActivities {
  return heartbeatingWhileRunning(
    { ...createHookActivities(deps), ...createDeliveryActivities(deps), ...createCampaignActivities(deps) },
    ['deliverProduct'],
  );
}

export type { HarvestActivities } from './contract';
