/**
 * How a dry run is shown: `campaign plan`, `harvest plan`, `run|start --dry-run`. Adds the
 * estimate of the time the account's quota allows (items in flight at once, orders per month)
 * to the worker's plan, prints it as text, or as one JSON document whose shape
 * {@link planOutputSchema} fixes (scripts may rely on it; the e2e tests check it).
 */
import { z } from 'zod';
import type { CampaignPlan } from '../shared/campaign-report';
import { formatDuration, parseDuration } from '../shared/duration';
import { UsageError } from './errors';
import { formatBytes } from './render';

/** What one Hook item is assumed to take, queued to completed, when `--item-time` does not say. */
export const DEFAULT_ITEM_TIME = '10m';

export const ITEM_TIME_FLAG = {
  type: 'string',
  value: '<duration>',
  description: `plan: time one Hook item takes, for the estimate (default ${DEFAULT_ITEM_TIME})`,
} as const;

export interface PlanEstimate {
  /** The assumed time of one item (`--item-time`). */
  itemTime: string;
  /** Rounds of `maxItemsInFlight` items one after the other. */
  rounds: number;
  /** Rounds × item time: the processing time the parallel-item limit allows, at best. */
  processingSeconds: number;
  /** Months after this one whose order budget the rest of the orders need (0: all fit this month). */
  laterMonths: number;
  /** `YYYY-MM` (UTC) in which the last order can be created. */
  lastOrderMonth: string;
  /** The earliest end the quota allows, if every item takes the item time. */
  earliestEnd: string;
}

const countSchema = z.number().int().nonnegative();

/** The `--json` shape of every plan command. */
export const planOutputSchema = z.strictObject({
  plan: z.strictObject({
    kind: z.enum(['campaign', 'harvest']),
    name: z.string(),
    collection: z.string().optional(),
    found: countSchema,
    alreadyVerified: countSchema,
    size: z.strictObject({ bytes: countSchema, known: countSchema, unknown: countSchema }),
    toOrder: countSchema,
    orderSize: countSchema,
    ordersNeeded: countSchema,
    account: z.strictObject({
      name: z.string(),
      maxItemsInFlight: z.number().int().positive(),
      monthlyOrders: z.number().int().positive(),
      ordersThisMonth: countSchema.optional(),
      ordersLeftThisMonth: countSchema.optional(),
    }),
    fitsMonthlyBudget: z.boolean(),
    sample: z.array(z.string()),
    ledger: z.string().optional(),
  }),
  estimate: z.strictObject({
    itemTime: z.string(),
    rounds: countSchema,
    processingSeconds: z.number().nonnegative(),
    laterMonths: countSchema,
    lastOrderMonth: z.string().regex(/^\d{4}-\d{2}$/),
    earliestEnd: z.iso.datetime(),
  }),
});
export type PlanOutput = z.infer<typeof planOutputSchema>;

/** The `--item-time` flag in milliseconds (default {@link DEFAULT_ITEM_TIME}). */
export function itemTimeMs(flag: string | undefined): number {
  const ms = parseDuration(flag ?? DEFAULT_ITEM_TIME);
  if (ms === undefined || ms <= 0) throw new UsageError('--item-time must be a duration like 90s, 10m or 2h');
  return ms;
}

/**
 * The time the quota allows: the items go `maxItemsInFlight` at a time (rounds of one item
 * time each); orders beyond what is left of this month's budget wait for the next months' budgets.
 */
export function estimatePlan(plan: CampaignPlan, itemMs: number, now: Date): PlanEstimate {
  const { account } = plan;
  const perRound = Math.max(1, account.maxItemsInFlight);
  const left = account.ordersLeftThisMonth ?? account.monthlyOrders;
  const overflow = Math.max(0, plan.ordersNeeded - left);
  const laterMonths = overflow === 0 ? 0 : Math.ceil(overflow / account.monthlyOrders);
  const rounds = Math.ceil(plan.toOrder / perRound);
  const processingMs = rounds * itemMs;
  let end = now.getTime() + processingMs;
  if (laterMonths > 0) {
    // The last month's orders start when that month begins.
    const lastMonthOrders = overflow - (laterMonths - 1) * account.monthlyOrders;
    const lastItems = Math.min(plan.toOrder, lastMonthOrders * plan.orderSize);
    end = monthStart(now, laterMonths).getTime() + Math.ceil(lastItems / perRound) * itemMs;
  }
  return {
    itemTime: formatDuration(itemMs),
    rounds,
    processingSeconds: processingMs / 1000,
    laterMonths,
    lastOrderMonth: monthStart(now, laterMonths).toISOString().slice(0, 7),
    earliestEnd: new Date(end).toISOString(),
  };
}

export function planOutput(plan: CampaignPlan, itemMs: number, now = new Date()): PlanOutput {
  return planOutputSchema.parse({ plan, estimate: estimatePlan(plan, itemMs, now) });
}

export function formatPlan({ plan, estimate }: PlanOutput): string[] {
  const { account } = plan;
  const what = plan.kind === 'campaign' ? 'Campaign' : 'Harvest';
  const collection = plan.collection ? ` (${plan.collection})` : '';
  const held = plan.kind === 'campaign' ? 'verified already' : 'held already';
  const heldNote = plan.kind === 'harvest' && plan.alreadyVerified > 0 ? '; a harvest orders them again' : '';
  const orders = plan.ordersNeeded === 1 ? '1 order' : `${plan.ordersNeeded} orders`;
  return [
    `${what} "${plan.name}"${collection}, a dry run: nothing was ordered.`,
    `  products found:        ${plan.found}`,
    `  ${held}:${' '.repeat(22 - held.length)}${plan.alreadyVerified}${plan.ledger ? ` (ledger ${plan.ledger}${heldNote})` : ' (no ledger)'}`,
    `  to order:              ${plan.toOrder} in ${orders} of up to ${plan.orderSize}`,
    `  total size:            ${formatSize(plan.size)}`,
    `  account "${account.name}":   ${account.ordersLeftThisMonth} of ${account.monthlyOrders} orders left this month, ${account.maxItemsInFlight} items in flight at most`,
    plan.fitsMonthlyBudget
      ? "  fits this month's order budget"
      : `  does NOT fit this month's budget: ${plan.ordersNeeded - (account.ordersLeftThisMonth ?? 0)} orders would wait for later months (the last in ${estimate.lastOrderMonth})`,
    `  time the quota allows: ${estimate.rounds} rounds of ${account.maxItemsInFlight} items ≈ ${formatSeconds(estimate.processingSeconds)} at ${estimate.itemTime} an item (--item-time); done at the earliest ${estimate.earliestEnd.slice(0, 16).replace('T', ' ')} UTC`,
    ...(plan.sample.length ? [`  first: ${plan.sample.slice(0, 3).join(', ')}${plan.toOrder > 3 ? ', …' : ''}`] : []),
  ];
}

function formatSize(size: CampaignPlan['size']): string {
  if (size.known === 0) return size.unknown > 0 ? 'unknown (the catalogue gives no size)' : '0 B';
  const bytes = formatBytes(size.bytes);
  return size.unknown === 0 ? bytes : `${bytes} for ${size.known} products; ${size.unknown} of unknown size`;
}

function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)}h`;
  return `${(seconds / 86_400).toFixed(1)}d`;
}

/** The first instant (UTC) of the month `months` after `now`'s. */
function monthStart(now: Date, months: number): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + months, 1));
}
