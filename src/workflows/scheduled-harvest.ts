/**
 * `scheduledHarvest`: the action of a Temporal Schedule. Each run takes its scheduled time (the
 * `TemporalScheduledStartTime` search attribute the Schedule sets; else `scheduledTime` in the
 * input; else the run's start), derives its time window (scheduled-harvest.ts) and runs a child
 * campaign over the catalogue search of that window. Windows overlap on purpose; the ledger makes
 * the overlap free, and a backfill over past windows harvests only what is missing.
 *
 * The child campaign's id is `<this run's id>/campaign`; a Schedule gives each run an id with its
 * scheduled time, so a re-run of the same window (backfill) continues the same chain of ids.
 */
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { executeChild, workflowInfo } from '@temporalio/workflow';
import { invalidRequest } from '../shared/failures';
import type { CampaignReport } from '../shared/campaign-report';
import type { CampaignRequestInput } from '../shared/campaign-request';
import {
  type ScheduledHarvestInput,
  type TimeWindow,
  compactTime,
  parseScheduledHarvest,
  windowOf,
} from '../shared/scheduled-harvest';
import { harvestCampaign } from './campaign';

/** Set by the Temporal server on every run a Schedule starts (also on backfills). */
const TemporalScheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export interface ScheduledHarvestResult {
  scheduledTime: string;
  /** Where the scheduled time came from. */
  scheduledTimeSource: 'schedule' | 'input' | 'start';
  window: TimeWindow;
  campaignWorkflowId: string;
  /** The campaign's report, without its item list (see its manifest). */
  campaign: Omit<CampaignReport, 'items'>;
}

export async function scheduledHarvest(input: ScheduledHarvestInput): Promise<ScheduledHarvestResult> {
  const parsed = parseScheduledHarvest(input);
  if (!parsed.ok) throw invalidRequest('scheduled harvest', parsed.problems);
  const { request } = parsed;
  const info = workflowInfo();
  const fromSchedule = info.typedSearchAttributes.get(TemporalScheduledStartTime);
  const [scheduled, source]: [Date, ScheduledHarvestResult['scheduledTimeSource']] = request.scheduledTime
    ? [new Date(request.scheduledTime), 'input']
    : fromSchedule
      ? [new Date(fromSchedule), 'schedule']
      : [info.startTime, 'start'];
  const window = windowOf(scheduled, request);

  const {
    name,
    bbox,
    filter,
    maxItems,
    every: _every,
    overlap: _overlap,
    delay: _delay,
    scheduledTime: _t,
    ...rest
  } = request;
  const campaign: CampaignRequestInput = {
    ...rest,
    name: `${name} ${compactTime(window.end)}`,
    query: { bbox, filter, maxItems, datetime: `${window.start}/${window.end}` },
  };
  const campaignWorkflowId = `${info.workflowId}/campaign`;
  const { items: _items, ...report } = await executeChild(harvestCampaign, {
    workflowId: campaignWorkflowId,
    args: [campaign],
  });
  return {
    scheduledTime: scheduled.toISOString(),
    scheduledTimeSource: source,
    window,
    campaignWorkflowId,
    campaign: report,
  };
}
