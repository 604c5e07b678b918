/**
 * Quarantine and gaps, end to end (issue 17, item 5), on the emulator with a real worker:
 * products whose downloads come damaged (the emulator's `corruptRate`) fail verification and are
 * set aside in the ledger; the next run skips them without ordering, lists them, and
 * `--retry-quarantined` orders them again (the verified copy lifts the quarantine). A schedule
 * backfilled over windows past the catalogue's end reports those windows as gaps.
 */
import { startCampaign } from '../../src/client/campaign-api';
import { backfillHarvestSchedule, createHarvestSchedule, deleteHarvestSchedule } from '../../src/client/schedule-api';
import type { FaultsInput } from '../../src/emulator/faults';
import type { CampaignReport } from '../../src/shared/campaign-report';
import {
  COLLECTION,
  type CampaignEnv,
  campaignRequest,
  catalogueIds,
  patchFaults,
  startCampaignEnv,
  until,
} from '../helpers/campaign-env';
import { testStack } from '../helpers/stack';
import { cli, scratchDir } from './cli-helpers';

const DAY = 86_400_000;
jest.setTimeout(120_000);

describe('quarantine and gaps', () => {
  let env: CampaignEnv;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let cliEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    env = await startCampaignEnv({
      timing: { queuedMs: 0, processingMs: 10 },
      productSize: 8192,
      catalogueItemsPerCollection: 1500,
    });
    scratch = await scratchDir('quarantine');
    const { address, namespace } = testStack().temporal;
    cliEnv = { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, DEDL_TASK_QUEUE: env.taskQueue };
  });
  afterAll(async () => {
    await scratch?.cleanup();
    await env?.close();
  });

  const setFaults = (faults: FaultsInput) => patchFaults(env.emulator, faults);
  const ordered = async (name: string) =>
    (await env.hookOrders()).filter((o) => o.Name.startsWith(`${name} o`)).flatMap((o) => o.IdentifierList);

  it('sets products that fail verification aside, skips them later, and orders them again when asked', async () => {
    const ids = catalogueIds(env.emulator, 6).slice(3);
    const sink = env.freshSink('quarantine');
    const request = campaignRequest({
      name: 'quarantine',
      identifiers: ids,
      output: { storage: 'TEMPORARY', sink: sink.url },
    });

    await setFaults({ corruptRate: 1, scopes: ['storage'] });
    let first: CampaignReport;
    try {
      first = await (
        await startCampaign(env.client, request, { taskQueue: env.taskQueue, workflowId: 'q-1' })
      ).result();
    } finally {
      await setFaults({ corruptRate: 0 });
    }
    expect(first.counts).toMatchObject({ items: 3, quarantined: 3, delivered: 0 });
    for (const item of first.items!) expect(item.error).toMatch(/corrupt zip|CRC|checksum/i);
    expect(await ordered('quarantine')).toHaveLength(3);

    // A later run: nothing is ordered, the report lists the quarantined products and why.
    const second = await (
      await startCampaign(env.client, request, { taskQueue: env.taskQueue, workflowId: 'q-2' })
    ).result();
    expect(second.counts).toMatchObject({ items: 3, quarantined: 3, delivered: 0 });
    expect(second.orders).toBe(0);
    expect(await ordered('quarantine')).toHaveLength(3);
    const shown = await cli(['campaign', 'report', 'q-2'], cliEnv, scratch.dir);
    expect(shown.code).toBe(3);
    for (const id of ids)
      expect(shown.stdout).toMatch(new RegExp(`quarantined ${id}: quarantined earlier: .*corrupt`, 'i'));

    // --retry-quarantined orders them again; delivered, their verified copies lift the quarantine.
    await scratch.write('quarantine.json', request);
    const started = await cli(
      ['campaign', 'start', 'quarantine.json', '--retry-quarantined', '--id', 'q-3'],
      cliEnv,
      scratch.dir,
    );
    expect(started.code).toBe(0);
    const third: CampaignReport = await env.client.workflow.getHandle('q-3').result();
    expect(third.counts).toMatchObject({ items: 3, delivered: 3, quarantined: 0 });
    expect(await ordered('quarantine')).toHaveLength(6);
    const fourth = await (
      await startCampaign(env.client, request, { taskQueue: env.taskQueue, workflowId: 'q-4' })
    ).result();
    expect(fourth.counts).toMatchObject({ items: 3, skipped: 3, quarantined: 0 });
  });

  it('reports the windows of a schedule that delivered nothing as gaps', async () => {
    const scheduleId = `gaps-${Date.now()}`;
    const sink = env.freshSink('gaps');
    await createHarvestSchedule(env.client, {
      scheduleId,
      every: '10d',
      overlap: 'BUFFER_ALL',
      taskQueue: env.taskQueue,
      input: {
        name: 'gaps',
        collection: COLLECTION,
        output: { storage: 'TEMPORARY', sink: sink.url },
        polling: { initialInterval: '50ms', maxInterval: '200ms', backoff: 1.5, deadline: '2m' },
        account: { name: `gaps-${Date.now()}`, maxItemsInFlight: 50 },
        orderSize: 20,
      },
      paused: true,
    });
    try {
      // Runs every 10 days since the epoch; the catalogue ends on 2024-12-31, so the later windows are empty.
      const start = new Date('2024-12-01T00:00:00Z');
      const end = new Date('2025-01-25T00:00:00Z');
      const times: number[] = [];
      for (let t = Math.ceil(start.getTime() / (10 * DAY)) * 10 * DAY; t <= end.getTime(); t += 10 * DAY) times.push(t);
      await backfillHarvestSchedule(env.client, scheduleId, start, end);

      type Gaps = {
        runs: number;
        gaps: number;
        windows: {
          gap: boolean;
          window?: { start: string; end: string };
          found?: number;
          held?: number;
          delivered?: number;
          status: string;
        }[];
      };
      const read = async () => {
        const run = await cli(['schedule', 'gaps', scheduleId, '--json'], cliEnv, scratch.dir);
        return { code: run.code, report: JSON.parse(run.stdout) as Gaps };
      };
      const { code, report } = await until(
        read,
        (r) => r.report.runs === times.length && r.report.windows.every((w) => w.status === 'COMPLETED'),
        90_000,
      );
      expect(report.windows.map((w) => Date.parse(w.window!.end))).toEqual(times);
      const catalogueEnd = Date.parse('2025-01-01T00:00:00Z');
      // Windows after the catalogue's end found nothing; every window is a gap exactly when it holds nothing.
      const afterEnd = report.windows.filter((w) => Date.parse(w.window!.start) >= catalogueEnd);
      expect(afterEnd.length).toBeGreaterThan(0);
      expect(afterEnd.map((w) => [w.gap, w.found])).toEqual(afterEnd.map(() => [true, 0]));
      expect(report.windows.map((w) => w.gap)).toEqual(report.windows.map((w) => w.delivered! + w.held! === 0));
      expect(report.windows.some((w) => !w.gap)).toBe(true);
      expect(report.gaps).toBe(report.windows.filter((w) => w.gap).length);
      expect(report.gaps).toBeGreaterThan(0);
      expect(code).toBe(3);

      const text = await cli(['schedule', 'gaps', scheduleId], cliEnv, scratch.dir);
      expect(text.stdout).toMatch(
        new RegExp(`Schedule ${scheduleId}: ${times.length} runs, ${report.gaps} windows delivered nothing`),
      );
      expect(text.stdout).toMatch(
        /GAP 2025-01-\S+ … 2025-01-\S+ {2}0 found, 0 delivered.*\(no product found in the window\)/,
      );
    } finally {
      await deleteHarvestSchedule(env.client, scheduleId);
    }
  });
});
