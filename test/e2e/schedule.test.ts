/**
 * Scheduled harvesting end to end: a Temporal Schedule created with the plain Temporal CLI
 * (`temporal schedule create --type scheduledHarvest --input '…'`), three runs over overlapping
 * windows (a CLI backfill of past weeks, so the windows fall in the catalogue's time span), then a
 * wider backfill through the client API that repeats those windows and adds two. Each product of
 * the windows is ordered exactly once; the repeated windows order nothing.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Client, ScheduleDescription } from '@temporalio/client';
import {
  backfillHarvestSchedule,
  deleteHarvestSchedule,
  describeHarvestSchedule,
  listHarvestSchedules,
  pauseHarvestSchedule,
  triggerHarvestSchedule,
} from '../../src/client/schedule-api';
import { TEMPORAL_CLI, ensureTool } from '../../src/devstack/tools';
import type { ScheduledHarvestInput } from '../../src/shared/scheduled-harvest';
import type { ScheduledHarvestResult } from '../../src/workflows/scheduled-harvest';
import {
  COLLECTION,
  type CampaignEnv,
  catalogueSearch,
  orderCounts,
  startCampaignEnv,
  until,
} from '../helpers/campaign-env';
import { testStack } from '../helpers/stack';

const run = promisify(execFile);
const DAY = 86_400_000;

describe('scheduledHarvest', () => {
  let env: CampaignEnv;

  beforeAll(async () => {
    env = await startCampaignEnv({
      timing: { queuedMs: 0, processingMs: 10 },
      productSize: 4096,
      catalogueItemsPerCollection: 1500,
    });
  });
  afterAll(() => env?.close());

  /** Waits until the schedule has taken `count` actions and none runs; returns their results, oldest first. */
  async function results(client: Client, scheduleId: string, count: number): Promise<ScheduledHarvestResult[]> {
    const description: ScheduleDescription = await until(
      () => describeHarvestSchedule(client, scheduleId),
      (d) => d.info.numActionsTaken >= count && d.info.runningActions.length === 0,
      60_000,
    );
    const actions = description.info.recentActions.slice(-count);
    return Promise.all(
      actions.map(
        (a) =>
          client.workflow
            .getHandle(a.action.workflow.workflowId, a.action.workflow.firstExecutionRunId)
            .result() as Promise<ScheduledHarvestResult>,
      ),
    );
  }

  it('orders each product of overlapping windows once, across runs and backfills', async () => {
    const scheduleId = `s2-weekly-${Date.now()}`;
    const sink = env.freshSink('scheduled');
    const input: ScheduledHarvestInput = {
      name: 's2 tenday',
      collection: COLLECTION,
      every: '10d',
      overlap: '5d',
      output: { storage: 'TEMPORARY', sink: sink.url },
      polling: { initialInterval: '50ms', maxInterval: '200ms', backoff: 1.5, deadline: '2m' },
      account: { name: `sched-${Date.now()}`, maxItemsInFlight: 50 },
      orderSize: 10,
    };
    const temporal = await ensureTool(TEMPORAL_CLI);
    const { address, namespace } = testStack().temporal;
    const cli = (...args: string[]) => run(temporal, [...args, '--address', address, '--namespace', namespace]);

    // Plain Temporal CLI: create, then backfill January 2023 (runs at 01-03, 01-13, 01-23: 10-day intervals since the epoch).
    await cli(
      'schedule', 'create',
      '--schedule-id', scheduleId,
      '--interval', '10d',
      '--task-queue', env.taskQueue,
      '--type', 'scheduledHarvest',
      '--workflow-id', `scheduled/${scheduleId}`,
      '--overlap-policy', 'BufferAll',
      '--input', JSON.stringify(input),
    ); // prettier-ignore
    await cli(
      'schedule', 'backfill',
      '--schedule-id', scheduleId,
      '--start-time', '2023-01-01T00:00:00Z',
      '--end-time', '2023-01-31T00:00:00Z',
      '--overlap-policy', 'BufferAll',
    ); // prettier-ignore
    const first = await results(env.client, scheduleId, 3);
    const times = ['2023-01-03', '2023-01-13', '2023-01-23'].map((d) => Date.parse(`${d}T00:00:00Z`));
    expect(first.map((r) => Date.parse(r.scheduledTime))).toEqual(times);
    for (const [i, r] of first.entries()) {
      expect(r.scheduledTimeSource).toBe('schedule');
      expect(r.window).toEqual({
        start: new Date(times[i]! - 15 * DAY).toISOString(),
        end: new Date(times[i]!).toISOString(),
      });
    }
    // The windows overlap: later runs found products the earlier ones had verified, and skipped them.
    expect(first[0]!.campaign.counts.skipped).toBe(0);
    expect(first[1]!.campaign.counts.skipped + first[2]!.campaign.counts.skipped).toBeGreaterThan(0);

    // A wider backfill through the API: repeats the three windows and adds 2022-12-24 and 2023-02-02.
    await backfillHarvestSchedule(
      env.client,
      scheduleId,
      new Date('2022-12-20T00:00:00Z'),
      new Date('2023-02-05T00:00:00Z'),
    );
    const second = await results(env.client, scheduleId, 8);
    const backfilled = second.slice(3);
    expect(backfilled.map((r) => r.scheduledTime.slice(0, 10))).toEqual([
      '2022-12-24',
      '2023-01-03',
      '2023-01-13',
      '2023-01-23',
      '2023-02-02',
    ]);
    for (const repeated of backfilled.slice(1, 4)) {
      expect(repeated.campaign.orders).toBe(0);
      expect(repeated.campaign.counts.delivered).toBe(0);
      expect(repeated.campaign.counts.skipped).toBe(repeated.campaign.counts.items);
    }

    // Every product of the union of the windows, each ordered exactly once.
    const expected = catalogueSearch(env.emulator, {
      collections: [COLLECTION],
      datetime: { start: Date.parse('2022-12-24T00:00:00Z') - 15 * DAY, end: Date.parse('2023-02-02T00:00:00Z') },
    }).map((item) => item.id);
    expect(expected.length).toBeGreaterThan(20);
    const counts = orderCounts(await env.hookOrders());
    expect([...counts.keys()].sort()).toEqual([...expected].sort());
    expect([...counts.values()].every((n) => n === 1)).toBe(true);

    // The rest of the schedule API: list, trigger (a window ending now: nothing in the catalogue), pause, delete.
    expect((await listHarvestSchedules(env.client)).map((s) => s.scheduleId)).toContain(scheduleId);
    await triggerHarvestSchedule(env.client, scheduleId);
    const [now] = (await results(env.client, scheduleId, 9)).slice(-1);
    expect(Date.parse(now!.window.end)).toBeGreaterThan(Date.parse('2026-01-01T00:00:00Z'));
    expect(now!.campaign).toMatchObject({ outcome: 'empty', orders: 0 });
    await pauseHarvestSchedule(env.client, scheduleId, 'e2e');
    expect((await describeHarvestSchedule(env.client, scheduleId)).state.paused).toBe(true);
    await deleteHarvestSchedule(env.client, scheduleId);
    expect((await listHarvestSchedules(env.client)).map((s) => s.scheduleId)).not.toContain(scheduleId);
  });
});
