/**
 * Scheduled harvesting end to end: a Temporal Schedule created with the plain Temporal CLI
 * (`temporal schedule create --type scheduledHarvest --input '…'`), three runs over overlapping
 * windows (a CLI backfill of past weeks, so the windows fall in the catalogue's time span), then a
 * wider backfill through the client API that repeats those windows and adds two. Each product of
 * the windows is ordered exactly once; the repeated windows order nothing. Then invalid scheduled
 * inputs on every path: our CLI and the client API refuse them before a schedule exists, and a
 * schedule made with the Temporal CLI runs them into a quick non-retryable InvalidRequest.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ApplicationFailure, type Client, type ScheduleDescription, WorkflowFailedError } from '@temporalio/client';
import {
  ScheduleRequestError,
  backfillHarvestSchedule,
  createHarvestSchedule,
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
import { cli as ourCli, scratchDir } from './cli-helpers';

const run = promisify(execFile);
const DAY = 86_400_000;
// Budget: the slower test took 23–32 s pinned to one core (`taskset -c 0 npx jest
// test/e2e/schedule.test.ts`, 2026-12-06, machine load average about 20); three times that.
jest.setTimeout(100_000);

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

    // Plain Temporal CLI: create, then backfill January 2023 (runs at 01-03, 01-13, 01-23: 10-day intervals since the
    // epoch). The range is inclusive at both ends (Temporal server ≥ 1.24; older servers and some SDK docs exclude the
    // start): the runs scheduled exactly at the start and at the end both run, as `schedule backfill --help` says.
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
      '--start-time', '2023-01-03T00:00:00Z',
      '--end-time', '2023-01-23T00:00:00Z',
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
    // Listing reads the visibility store, which catches up with a create or delete a little later.
    const listedIds = async () => (await listHarvestSchedules(env.client)).map((s) => s.scheduleId);
    await until(listedIds, (ids) => ids.includes(scheduleId), 30_000);
    await triggerHarvestSchedule(env.client, scheduleId);
    const [now] = (await results(env.client, scheduleId, 9)).slice(-1);
    expect(Date.parse(now!.window.end)).toBeGreaterThan(Date.parse('2026-01-01T00:00:00Z'));
    expect(now!.campaign).toMatchObject({ outcome: 'empty', orders: 0 });
    await pauseHarvestSchedule(env.client, scheduleId, 'e2e');
    expect((await describeHarvestSchedule(env.client, scheduleId)).state.paused).toBe(true);
    await deleteHarvestSchedule(env.client, scheduleId);
    await until(listedIds, (ids) => !ids.includes(scheduleId), 30_000);
  });

  it('refuses invalid scheduled inputs on every path, naming the field; nothing is ordered', async () => {
    const valid: ScheduledHarvestInput = {
      name: 'bad input',
      collection: COLLECTION,
      every: '1d',
      output: { storage: 'TEMPORARY', sink: env.freshSink('scheduled-invalid').url },
      account: { name: `sched-bad-${Date.now()}`, maxItemsInFlight: 5 },
    };
    const cases: Array<{ label: string; input: unknown; says: string }> = [
      { label: 'a window in words', input: { ...valid, every: 'weekly' }, says: 'every: every must be a duration' },
      {
        label: 'a secret instead of a credential set',
        input: { ...valid, output: { storage: 'PRIVATE', target: 's3://bucket/p', endpoint: 'https://s3.example.eu', credentials: 'AKIA-SECRET/KEY' } },
        says: 'output.credentials: must name a credential set',
      },
      { label: 'a path as collection', input: { ...valid, collection: '../etc' }, says: 'collection: must be a catalogue collection id' },
      { label: 'identifiers (a schedule searches)', input: { ...valid, identifiers: ['A'] }, says: 'Unrecognized key: "identifiers"' },
    ]; // prettier-ignore
    const temporal = await ensureTool(TEMPORAL_CLI);
    const { address, namespace } = testStack().temporal;
    const temporalCli = (...args: string[]) => run(temporal, [...args, '--address', address, '--namespace', namespace]);
    const scratch = await scratchDir('schedule-invalid');
    const cliEnv = { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, DEDL_TASK_QUEUE: env.taskQueue };
    const ordersBefore = (await env.hookOrders()).length;
    try {
      for (const [i, c] of cases.entries()) {
        const scheduleId = `bad-input-${Date.now()}-${i}`;
        // Our CLI: exit 2, the field named, no schedule.
        const file = path.join(scratch.dir, `case-${i}.json`);
        await writeFile(file, JSON.stringify(c.input));
        const refused = await ourCli(
          ['schedule', 'create', file, '--schedule-id', scheduleId, '--every', '1d'],
          cliEnv,
          scratch.dir,
        );
        expect({ label: c.label, code: refused.code, named: refused.stderr.includes(c.says) }).toEqual({
          label: c.label,
          code: 2,
          named: true,
        });
        // The client API: a ScheduleRequestError naming the field, no schedule.
        const api = await createHarvestSchedule(env.client, {
          scheduleId,
          every: '1d',
          input: c.input as ScheduledHarvestInput,
          taskQueue: env.taskQueue,
        }).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(api).toBeInstanceOf(ScheduleRequestError);
        expect((api as ScheduleRequestError).problems.join('\n')).toContain(c.says);
        // A secret pasted where a credential set's name belongs is not repeated back.
        expect(`${refused.stdout}${refused.stderr}${(api as Error).message}`).not.toContain('AKIA-SECRET');
        expect((await listHarvestSchedules(env.client)).map((s) => s.scheduleId)).not.toContain(scheduleId);

        // The plain Temporal CLI cannot check the input: the run it starts fails, quickly and for good.
        await temporalCli(
          'schedule', 'create',
          '--schedule-id', scheduleId,
          '--interval', '1d',
          '--paused',
          '--task-queue', env.taskQueue,
          '--type', 'scheduledHarvest',
          '--workflow-id', `scheduled/${scheduleId}`,
          '--input', JSON.stringify(c.input),
        ); // prettier-ignore
        try {
          await temporalCli('schedule', 'trigger', '--schedule-id', scheduleId);
          const description = await until(
            () => describeHarvestSchedule(env.client, scheduleId),
            (d) => d.info.recentActions.length >= 1,
            30_000,
          );
          const started = description.info.recentActions[0]!.action.workflow;
          const failure = await env.client.workflow
            .getHandle(started.workflowId, started.firstExecutionRunId)
            .result()
            .then(
              () => undefined,
              (err: unknown) => err,
            );
          expect(failure).toBeInstanceOf(WorkflowFailedError);
          const cause = (failure as WorkflowFailedError).cause;
          expect(cause).toBeInstanceOf(ApplicationFailure);
          expect({
            type: (cause as ApplicationFailure).type,
            nonRetryable: (cause as ApplicationFailure).nonRetryable,
          }).toEqual({
            type: 'InvalidRequest',
            nonRetryable: true,
          });
          expect((cause as ApplicationFailure).message).toContain(c.says);
          expect((cause as ApplicationFailure).message).not.toContain('AKIA-SECRET');
        } finally {
          await deleteHarvestSchedule(env.client, scheduleId);
        }
      }
    } finally {
      await scratch.cleanup();
    }
    expect((await env.hookOrders()).length).toBe(ordersBefore);
  });
});
