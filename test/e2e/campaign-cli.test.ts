/**
 * The `campaign` and `schedule` subcommands, run in-process against a real worker: plan (orders
 * nothing), start paused, resume, watch to the end (exit 0), report as JSON, the account's
 * limiter; create, list and delete a schedule. The commands are called directly (they are
 * registered in cli.ts by its owner).
 */
import path from 'node:path';
import { campaignCommand } from '../../src/client/commands/campaign';
import type { Command, FlagValues } from '../../src/client/command';
import { scheduleCommand } from '../../src/client/commands/schedule';
import type { CampaignReport } from '../../src/shared/campaign-report';
import { type CampaignEnv, COLLECTION, catalogueIds, startCampaignEnv, until } from '../helpers/campaign-env';
import { testStack } from '../helpers/stack';
import { captureIO, scratchDir } from './cli-helpers';

describe('dedl-harvest campaign and schedule', () => {
  let env: CampaignEnv;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let cliEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    env = await startCampaignEnv({ timing: { queuedMs: 0, processingMs: 10 }, productSize: 4096 });
    scratch = await scratchDir('campaign');
    const { address, namespace } = testStack().temporal;
    cliEnv = { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, DEDL_TASK_QUEUE: env.taskQueue };
  });
  afterAll(async () => {
    await scratch?.cleanup();
    await env?.close();
  });

  async function run(command: Command, positionals: string[], flags: FlagValues = {}, json = false) {
    const captured = captureIO({ ...cliEnv }, scratch.dir);
    const code = await command.run({ io: captured.io, positionals, flags, json });
    return { code, stdout: captured.stdout(), stderr: captured.stderr() };
  }

  it('plans, starts paused, resumes, watches and reports a campaign', async () => {
    const account = `cli-${Date.now()}`;
    await scratch.write('campaign.json', {
      name: 'cli campaign',
      collection: COLLECTION,
      identifiers: catalogueIds(env.emulator, 5),
      orderSize: 2,
      polling: { initialInterval: '50ms', maxInterval: '200ms', backoff: 1.5, deadline: '1m' },
      account: { name: account, maxItemsInFlight: 10 },
      output: { storage: 'TEMPORARY', sink: './out' },
    });

    const plan = await run(campaignCommand, ['plan', 'campaign.json']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/a dry run: nothing was ordered/);
    expect(plan.stdout).toMatch(/products found: +5/);
    expect(plan.stdout).toMatch(/to order: +5 in 3 orders of up to 2/);
    expect(await env.hookOrders()).toHaveLength(0);

    const started = await run(campaignCommand, ['start', 'campaign.json'], { paused: true });
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(/runs as workflow campaign\/cli-campaign/);
    expect(started.stdout).toMatch(/it is paused/);

    expect((await run(campaignCommand, ['resume', 'campaign/cli-campaign'])).code).toBe(0);
    const watched = await run(campaignCommand, ['watch', 'campaign/cli-campaign']);
    expect(watched.code).toBe(0);
    expect(watched.stdout).toMatch(/Campaign "cli campaign" delivered: 5 delivered, 0 already verified, 0 failed/);
    expect(watched.stdout).toContain(`manifest: file://${path.join(scratch.dir, 'out', 'manifest.json')}`);

    const reported = await run(campaignCommand, ['report', 'campaign/cli-campaign'], {}, true);
    expect(reported.code).toBe(0);
    const { report } = JSON.parse(reported.stdout) as { report: CampaignReport };
    expect(report.counts).toMatchObject({ items: 5, delivered: 5 });
    expect(report.manifest).toBe(`file://${path.join(scratch.dir, 'out', 'manifest.json')}`);

    const status = await run(campaignCommand, ['account', account]);
    expect(status.stdout).toMatch(new RegExp(`Account ${account}: 0 of 10 items in flight \\(peak \\d+\\)`));
    expect(status.stdout).toMatch(/3 orders, 997 left of 1000/);
    const changed = await run(campaignCommand, ['account', account], { 'max-items': '4' }, true);
    expect(JSON.parse(changed.stdout)).toMatchObject({ limits: { maxItemsInFlight: 4 } });

    await expect(run(campaignCommand, ['pause', 'campaign/cli-campaign'])).rejects.toThrow(
      'campaign campaign/cli-campaign: the campaign has already completed',
    );
  });

  it('refuses a bad campaign file naming the fields, and creates, lists and deletes a schedule', async () => {
    await scratch.write('bad.json', {
      name: 'bad',
      collection: COLLECTION,
      output: { storage: 'TEMPORARY', sink: 'x' },
    });
    await expect(run(campaignCommand, ['start', 'bad.json'])).rejects.toMatchObject({
      problems: ['identifiers: give either "identifiers" or "query", not both'],
    });

    await scratch.write('scheduled.json', {
      name: 'cli schedule',
      collection: COLLECTION,
      bbox: [5, 45, 11, 48],
      output: { storage: 'TEMPORARY', sink: './scheduled' },
    });
    const id = `cli-schedule-${Date.now()}`;
    const created = await run(scheduleCommand, ['create', 'scheduled.json'], {
      'schedule-id': id,
      every: '1d',
      paused: true,
    });
    expect(created.code).toBe(0);
    // Schedules are listed from the visibility store, which catches up a moment later.
    const listed = await until(
      async () => JSON.parse((await run(scheduleCommand, ['list'], {}, true)).stdout) as { scheduleId: string }[],
      (list) => list.some((s) => s.scheduleId === id),
    );
    expect(listed).toEqual(expect.arrayContaining([expect.objectContaining({ scheduleId: id, paused: true })]));
    const described = await run(scheduleCommand, ['describe', id]);
    expect(described.stdout).toMatch(new RegExp(`Schedule ${id}: paused, 0 runs so far`));
    expect((await run(scheduleCommand, ['delete', id])).code).toBe(0);
  });
});
