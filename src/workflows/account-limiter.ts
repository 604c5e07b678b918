/**
 * `hookAccountLimiter`: one long-lived workflow per Hook account (id `dedl-account/<label>`) that
 * keeps the account's items in flight under its limit across every campaign, on every worker.
 *
 * Campaigns ask for a permit per order (an activity signals `acquire` with signal-with-start, so
 * the first request creates the limiter), wait for the `permitGranted` signal, order, and signal
 * `release` when the order's harvest has ended. Grants are FIFO (see permit-book.ts), count
 * against the month's order budget, and wait for the next month once it is spent. A holder that
 * ended without releasing (terminated) is found by a periodic check and its permits freed. The
 * state is small and carried across continue-as-new; signals to the workflow id reach the newest
 * run, so neither side loses a message across runs.
 */
import { SHORT_ACTIVITY_HEARTBEAT } from './activity-timeouts';
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  metricMeter,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { HarvestActivities } from '../activities/contract';
import {
  type AccountLimits,
  type LimiterInput,
  accountStatusQuery,
  acquirePermitSignal,
  permitGrantedSignal,
  releaseHolderSignal,
  releasePermitSignal,
  setAccountLimitsUpdate,
} from '../shared/account-limiter';
import { parseDuration } from '../shared/duration';
import { type Grant, PermitBook, type PermitBookState, nextMonthStart } from './permit-book';

const ops = proxyActivities<HarvestActivities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: SHORT_ACTIVITY_HEARTBEAT,
  retry: { initialInterval: '2s', maximumInterval: '1m', maximumAttempts: 5 },
});

export async function hookAccountLimiter(input: LimiterInput, carried?: PermitBookState): Promise<void> {
  const book = carried ? new PermitBook(carried) : PermitBook.empty(input.account, input.limits, new Date());
  // Items held under permits, on the worker's Prometheus endpoint (the SDK emits nothing while replaying).
  const itemsInFlight = metricMeter.createGauge(
    'dedl_account_items_in_flight',
    'int',
    undefined,
    'Hook items held under the account limiter permits (queued or in progress at the Hook), by account',
  );
  const report = () => itemsInFlight.set(book.inUse, { account: input.account });
  setHandler(acquirePermitSignal, (request) => void book.request(request));
  setHandler(releasePermitSignal, ({ key, unused }) => {
    book.release(key, unused);
    report();
  });
  setHandler(releaseHolderSignal, ({ holder }) => {
    book.releaseHolder(holder);
    report();
  });
  setHandler(accountStatusQuery, () => book.status());
  setHandler(
    setAccountLimitsUpdate,
    (change) => {
      book.setLimits(change);
      return book.status();
    },
    { validator: validateLimits },
  );

  const reapEveryMs = parseDuration(input.reapEvery ?? '5m') ?? 300_000;
  const threshold = input.continueAsNewAfterEvents ?? 5000;
  const continueDue = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= threshold;
  let nextReap = Date.now() + reapEveryMs;

  while (!continueDue()) {
    book.rollMonth(new Date());
    const grants = book.grant(new Date());
    if (grants.length > 0) await Promise.all(grants.map((grant) => notify(book, grant)));
    if (book.busy && Date.now() >= nextReap) {
      await reap(book);
      nextReap = Date.now() + reapEveryMs;
    }
    report();
    // Idle: sleep on signals alone (no timer, no history). Busy: wake for the next holder check,
    // and at the start of next month when the budget is spent.
    const wakeAt = Math.min(
      book.busy ? nextReap : Infinity,
      book.budgetExhausted && book.busy ? nextMonthStart(new Date()).getTime() : Infinity,
    );
    if (wakeAt === Infinity) await condition(() => book.canGrant() || continueDue());
    else await condition(() => book.canGrant() || continueDue(), Math.max(1, wakeAt - Date.now()));
  }
  await condition(allHandlersFinished);
  await continueAsNew<typeof hookAccountLimiter>(input, book.snapshot());
}

async function notify(book: PermitBook, grant: Grant): Promise<void> {
  try {
    await getExternalWorkflowHandle(grant.holder).signal(permitGrantedSignal, {
      key: grant.key,
      items: grant.items,
      limits: { ...book.limits },
      ordersThisMonth: grant.ordersThisMonth,
    });
  } catch (err) {
    // The holder is gone (ended, or never existed): nobody will use or release this permit.
    log.warn('Permit holder unreachable; permit released', { holder: grant.holder, key: grant.key, err });
    book.release(grant.key, true);
  }
}

/** Frees the permits of holders that ended without releasing them (a terminated campaign). */
async function reap(book: PermitBook): Promise<void> {
  const closed = await ops.closedWorkflows({ workflowIds: book.holders });
  for (const holder of closed) {
    const keys = book.releaseHolder(holder);
    if (keys.length > 0) log.warn('Released the permits of an ended holder', { holder, keys });
  }
}

function validateLimits(change: Partial<AccountLimits>): void {
  const check = (name: keyof AccountLimits, min: number) => {
    const value = change[name];
    if (value !== undefined && (!Number.isInteger(value) || value < min)) {
      throw new RangeError(`${name} must be an integer of at least ${min}`);
    }
  };
  check('maxItemsInFlight', 1);
  check('monthlyOrders', 1);
}
