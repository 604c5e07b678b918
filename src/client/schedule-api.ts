/**
 * A typed client API for scheduled harvests: Temporal Schedules whose action is the
 * `scheduledHarvest` workflow. Each run harvests one time window derived from its scheduled time,
 * so `every` is both the schedule's interval and the window's length. The same schedules can be
 * made with the Temporal CLI alone:
 *
 *   temporal schedule create --schedule-id s2-alps --interval 1d --overlap-policy BufferOne \
 *     --task-queue dedl-harvest --type scheduledHarvest --workflow-id scheduled/s2-alps \
 *     --input '{"name":"s2-alps","collection":"EO.ESA.DAT.SENTINEL-2.MSI.L1C","every":"1d","overlap":"6h",
 *               "bbox":[5,45,11,48],"output":{"storage":"TEMPORARY","sink":"file:///data/s2"}}'
 */
import type {
  Client,
  ScheduleDescription,
  ScheduleHandle,
  ScheduleOverlapPolicy,
  ScheduleSummary,
} from '@temporalio/client';
import { SCHEDULED_HARVEST_WORKFLOW } from '../shared/campaign-messages';
import type { ScheduledHarvestResult } from '../workflows/scheduled-harvest';
import { TASK_QUEUE } from '../shared/constants';
import { type ScheduledHarvestInput, parseScheduledHarvest } from '../shared/scheduled-harvest';

/** A scheduled-harvest input refused before anything was created; `problems` name their fields. */
export class ScheduleRequestError extends Error {
  override readonly name = 'ScheduleRequestError';
  constructor(readonly problems: string[]) {
    super(`the scheduled harvest was refused: ${problems.join('; ')}`);
  }
}

export interface HarvestScheduleOptions {
  scheduleId: string;
  /** What each run harvests; its `every` defaults to the schedule's. */
  input: Omit<ScheduledHarvestInput, 'every'> & { every?: string };
  /** Interval between runs, e.g. `1d` or `6h`. */
  every: string;
  /** Phase of the interval, e.g. `2h` for runs at 02:00 with `every: '1d'`. */
  offset?: string;
  /** Base of the runs' workflow ids (the server appends the scheduled time). Default `scheduled/<scheduleId>`. */
  workflowId?: string;
  taskQueue?: string;
  /**
   * What happens when a run is due while the last one still runs. Default BUFFER_ONE: runs never
   * overlap (the ledger then sees each run's deliveries before the next starts), none is lost.
   */
  overlap?: ScheduleOverlapPolicy;
  /** How late a missed run is still made up after an outage. Default 1 day. */
  catchupWindow?: string;
  paused?: boolean;
  note?: string;
}

function checkedInput(options: HarvestScheduleOptions): ScheduledHarvestInput {
  const input = { ...options.input, every: options.input.every ?? options.every };
  const parsed = parseScheduledHarvest(input);
  if (!parsed.ok) throw new ScheduleRequestError(parsed.problems);
  return input;
}

export async function createHarvestSchedule(client: Client, options: HarvestScheduleOptions): Promise<ScheduleHandle> {
  const input = checkedInput(options);
  return client.schedule.create({
    scheduleId: options.scheduleId,
    spec: { intervals: [{ every: options.every, ...(options.offset ? { offset: options.offset } : {}) }] },
    action: {
      type: 'startWorkflow',
      workflowType: SCHEDULED_HARVEST_WORKFLOW,
      workflowId: options.workflowId ?? `scheduled/${options.scheduleId}`,
      taskQueue: options.taskQueue ?? TASK_QUEUE,
      args: [input],
    },
    policies: { overlap: options.overlap ?? 'BUFFER_ONE', catchupWindow: options.catchupWindow ?? '1d' },
    state: { paused: options.paused ?? false, note: options.note },
  });
}

/** Schedules whose action is a scheduled harvest. */
export async function listHarvestSchedules(client: Client): Promise<ScheduleSummary[]> {
  const found: ScheduleSummary[] = [];
  for await (const schedule of client.schedule.list()) {
    if (schedule.action?.type === 'startWorkflow' && schedule.action.workflowType === SCHEDULED_HARVEST_WORKFLOW) {
      found.push(schedule);
    }
  }
  return found;
}

export async function describeHarvestSchedule(client: Client, scheduleId: string): Promise<ScheduleDescription> {
  return client.schedule.getHandle(scheduleId).describe();
}

export async function pauseHarvestSchedule(client: Client, scheduleId: string, note?: string): Promise<void> {
  await client.schedule.getHandle(scheduleId).pause(note);
}

export async function unpauseHarvestSchedule(client: Client, scheduleId: string, note?: string): Promise<void> {
  await client.schedule.getHandle(scheduleId).unpause(note);
}

/** Runs the action now (its window ends now). */
export async function triggerHarvestSchedule(client: Client, scheduleId: string): Promise<void> {
  await client.schedule.getHandle(scheduleId).trigger();
}

/**
 * Runs the schedule's action for every time it would have run in [start, end), one after the other
 * (BUFFER_ALL): what an outage missed is harvested, and thanks to the ledger nothing twice.
 */
export async function backfillHarvestSchedule(
  client: Client,
  scheduleId: string,
  start: Date,
  end: Date,
  overlap: ScheduleOverlapPolicy = 'BUFFER_ALL',
): Promise<void> {
  await client.schedule.getHandle(scheduleId).backfill({ start, end, overlap });
}

/** One run of a schedule, as `schedule gaps` sees it. */
export interface ScheduledWindow {
  workflowId: string;
  status: string;
  scheduledTime?: string;
  window?: { start: string; end: string };
  /** Products of the window: found, delivered by this run, held already, failed (any way). */
  found?: number;
  delivered?: number;
  held?: number;
  failed?: number;
  /** The run held nothing of its window: no product found, every one failed, or the run itself failed. */
  gap: boolean;
  why?: string;
}

/**
 * The schedule's runs (from the visibility store: every run the schedule started and the server
 * still keeps), oldest window first, each marked as a gap when its window delivered nothing.
 * Runs still going are listed, never as gaps.
 */
export async function scheduleGaps(client: Client, scheduleId: string): Promise<ScheduledWindow[]> {
  const windows: ScheduledWindow[] = [];
  if (/['"\\]/.test(scheduleId))
    throw new Error(`a schedule id with quotes or backslashes cannot be looked up: ${scheduleId}`);
  const query = `TemporalScheduledById = '${scheduleId}'`;
  for await (const run of client.workflow.list({ query })) {
    const status = run.status.name;
    const base = { workflowId: run.workflowId, status };
    if (status === 'RUNNING') {
      windows.push({ ...base, gap: false, why: 'running' });
      continue;
    }
    if (status !== 'COMPLETED') {
      windows.push({ ...base, gap: true, why: `the run ${status.toLowerCase().replace('_', ' ')}` });
      continue;
    }
    const result = (await client.workflow.getHandle(run.workflowId, run.runId).result()) as ScheduledHarvestResult;
    const c = result.campaign.counts;
    const failed = c.failed + (c.quarantined ?? 0) + c.timed_out + c.cancelled;
    const held = c.delivered + c.skipped;
    windows.push({
      ...base,
      scheduledTime: result.scheduledTime,
      window: result.window,
      found: c.items,
      delivered: c.delivered,
      held: c.skipped,
      failed,
      gap: held === 0,
      ...(held === 0 ? { why: c.items === 0 ? 'no product found in the window' : `all ${c.items} failed` } : {}),
    });
  }
  const key = (w: ScheduledWindow) => w.window?.start ?? w.scheduledTime ?? '~';
  return windows.sort((a, b) => key(a).localeCompare(key(b)));
}

export async function deleteHarvestSchedule(client: Client, scheduleId: string): Promise<void> {
  await client.schedule.getHandle(scheduleId).delete();
}
