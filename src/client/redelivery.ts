/**
 * What `dedl-harvest redeliver` starts: from a finished harvest's report and its original request,
 * a delivery-only harvest of the items the Hook made but the sink did not take (state
 * `undelivered`), into the same or another sink. Nothing is ordered: the workflow reads the links
 * back from the order. Links live 14 days after the Hook made the product; older items are named.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { HarvestReport, ItemReport } from '../shared/harvest-report';
import type { HarvestRequestInput } from '../shared/harvest-request';
import { progressQuery } from '../shared/messages';
import { decodePayloads } from './payloads';

/** How long the Hook's TEMPORARY download links are valid after the product is made. */
export const LINK_LIFETIME_MS = 14 * 24 * 3600 * 1000;

export interface RedeliveryPlan {
  /** The request to start, or undefined when nothing can be redelivered. */
  request?: HarvestRequestInput;
  /** Undelivered items whose link is still valid. */
  redeliver: ItemReport[];
  /** Undelivered items whose link has expired (or whose age is unknown and past 14 days). */
  expired: ItemReport[];
}

export function planRedelivery(
  original: HarvestRequestInput,
  report: Pick<HarvestReport, 'workflowId' | 'orderId' | 'items' | 'storage'>,
  options: { sink?: string; sinkCredentials?: string; now: number },
): RedeliveryPlan {
  const undelivered = report.items.filter((i) => i.state === 'undelivered' && i.itemId);
  const alive = (i: ItemReport) => !i.completedAt || options.now - Date.parse(i.completedAt) < LINK_LIFETIME_MS;
  const redeliver = undelivered.filter(alive);
  const expired = undelivered.filter((i) => !alive(i));
  if (
    redeliver.length === 0 ||
    !report.orderId ||
    report.storage !== 'TEMPORARY' ||
    original.output.storage !== 'TEMPORARY'
  ) {
    return { redeliver, expired };
  }
  const output = options.sink
    ? { storage: 'TEMPORARY' as const, sink: options.sink, sinkCredentials: options.sinkCredentials }
    : original.output;
  return {
    redeliver,
    expired,
    request: {
      ...original,
      identifiers: redeliver.map((i) => i.identifier),
      output,
      redeliver: { from: report.workflowId, orderId: report.orderId },
    },
  };
}

/** The request a harvest was started with, from its first history event. */
export async function originalRequest(client: Client, handle: WorkflowHandle): Promise<HarvestRequestInput> {
  const history = await handle.fetchHistory();
  const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
  const [input] = await decodePayloads(client, payloads);
  return input as HarvestRequestInput;
}

/**
 * A closed harvest's report: its result, or (cancelled, failed) its last progress — whose outcome
 * still says `running` when the workflow failed before it could finish its report.
 */
export async function finishedReport(handle: WorkflowHandle): Promise<HarvestReport> {
  try {
    return (await handle.result()) as HarvestReport;
  } catch {
    const progress = await handle.query(progressQuery);
    return { ...progress, outcome: progress.outcome === 'running' ? 'failed' : progress.outcome };
  }
}
