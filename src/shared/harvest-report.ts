/**
 * What a harvest returns and what its progress query shows. Plain data, workflow-safe.
 */

/** Where one product stands in the harvest (not the Hook's own status, which is `hookStatus`). */
export type ItemState =
  | 'ordered' // the Hook has it queued or in progress
  | 'delivering' // completed at the Hook; download or verification under way
  | 'delivered' // in the sink (TEMPORARY) or found in the bucket (PRIVATE), verified
  | 'failed' // the Hook failed it, or delivery failed for good
  | 'undelivered' // made by the Hook, but the sink could not take it: `dedl-harvest redeliver` can, while its link lives
  | 'timed_out' // not finished by the deadline
  | 'cancelled';

export const FINAL_ITEM_STATES: readonly ItemState[] = ['delivered', 'failed', 'undelivered', 'timed_out', 'cancelled'];

export interface ItemReport {
  identifier: string;
  itemId?: string;
  state: ItemState;
  /** The Hook's status of the item (`queued`, `in_progress`, `completed`, `failed`, `cancelled`). */
  hookStatus?: string;
  /** Bytes delivered (TEMPORARY) or found (PRIVATE). */
  bytes?: number;
  sha256?: string;
  /** `file:///…` or `s3://…` of the product (or the first PRIVATE object). */
  location?: string;
  /** Every object found for the item in a PRIVATE bucket. */
  objects?: { key: string; size: number; location: string }[];
  /** The Hook's message for a failed item, or why delivery failed. */
  error?: string;
  /** `IntegrityError` when the product failed verification (size, zip, error page): campaigns quarantine it. */
  failure?: 'IntegrityError';
  /** ISO times: when the Hook finished the item, and when it was delivered. */
  completedAt?: string;
  deliveredAt?: string;
}

export type HarvestOutcome = 'delivered' | 'partial' | 'failed' | 'cancelled' | 'timed_out';

export interface HarvestReport {
  name: string;
  workflowId: string;
  orderId?: string;
  orderName?: string;
  /** Absent for a processing hook that reads no catalogue. */
  collection?: string;
  storage: 'TEMPORARY' | 'PRIVATE';
  outcome: HarvestOutcome;
  items: ItemReport[];
  totals: {
    items: number;
    delivered: number;
    failed: number;
    /** Absent in reports of older workers. */
    undelivered?: number;
    timedOut: number;
    cancelled: number;
    bytes: number;
  };
  startedAt: string;
  finishedAt?: string;
  /** Where manifest.json was written, when it was. */
  manifest?: string;
  /** Why manifest.json could not be written (a dead sink), when it could not. */
  manifestError?: string;
}

/**
 * The progress query's answer: the report so far. Its outcome is `running` until the harvest has
 * finished: items still at the Hook are not failures.
 */
export type HarvestProgress = Omit<HarvestReport, 'outcome'> & {
  outcome: HarvestOutcome | 'running';
  phase: HarvestPhase;
  lastPolledAt?: string;
};

export type HarvestPhase = 'validating' | 'submitting' | 'polling' | 'finishing' | 'done';

export function summarize(items: readonly ItemReport[]): HarvestReport['totals'] {
  const count = (state: ItemState) => items.filter((i) => i.state === state).length;
  return {
    items: items.length,
    delivered: count('delivered'),
    failed: count('failed'),
    undelivered: count('undelivered'),
    timedOut: count('timed_out'),
    cancelled: count('cancelled'),
    bytes: items.reduce((sum, i) => sum + (i.state === 'delivered' ? (i.bytes ?? 0) : 0), 0),
  };
}

/** The harvest's outcome from its items' final states. */
export function outcomeOf(items: readonly ItemReport[], cancelled: boolean): HarvestOutcome {
  if (cancelled) return 'cancelled';
  const totals = summarize(items);
  if (totals.delivered === totals.items) return 'delivered';
  if (totals.timedOut > 0 && totals.delivered + totals.timedOut === totals.items) return 'timed_out';
  return totals.delivered > 0 ? 'partial' : 'failed';
}
