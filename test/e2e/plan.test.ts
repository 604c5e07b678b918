/**
 * Plans with sizes, end to end (issue 17, item 4): `campaign plan`, `harvest plan` and
 * `run|start --dry-run` through the CLI against a real worker and the emulator over HTTP. The
 * totals come from the catalogue's `file:size`, products held in the ledger are counted, the
 * orders are set against the account's monthly budget and parallel-item limit, `--json` has the
 * documented shape — and the emulator saw no order created.
 */
import { startCampaign } from '../../src/client/campaign-api';
import { planOutputSchema } from '../../src/client/plan-output';
import { formatBytes } from '../../src/client/render';
import type { CampaignReport } from '../../src/shared/campaign-report';
import { type CampaignEnv, COLLECTION, campaignRequest, catalogueIds, startCampaignEnv } from '../helpers/campaign-env';
import { testStack } from '../helpers/stack';
import { cli, emulatorStats, scratchDir } from './cli-helpers';

describe('plans with sizes', () => {
  let env: CampaignEnv;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let cliEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    // Default product sizes: a different size per identifier, so a wrong sum cannot pass.
    env = await startCampaignEnv({ timing: { queuedMs: 0, processingMs: 10 } });
    scratch = await scratchDir('plan');
    const { address, namespace } = testStack().temporal;
    cliEnv = { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, DEDL_TASK_QUEUE: env.taskQueue };
  });
  afterAll(async () => {
    await scratch?.cleanup();
    await env?.close();
  });

  const sizeOf = (id: string) => env.emulator.catalogue.getItem(COLLECTION, id)!.assets.downloadLink['file:size'];
  const sum = (ids: string[]) => ids.reduce((total, id) => total + sizeOf(id), 0);
  const ordersCreated = async () => (await emulatorStats(env.emulator.adminUrl)).ordersCreated;

  it('plans a campaign: held products left out, sizes from the catalogue, orders against the budget', async () => {
    const ids = catalogueIds(env.emulator, 7);
    const sink = env.freshSink('campaign-plan');
    // Two of them delivered first: the plan finds them in the ledger.
    const earlier = campaignRequest({
      name: 'plan earlier',
      identifiers: ids.slice(0, 2),
      output: { storage: 'TEMPORARY', sink: sink.url },
    });
    const handle = await startCampaign(env.client, earlier, { taskQueue: env.taskQueue });
    const report: CampaignReport = await handle.result();
    expect(report.counts.delivered).toBe(2);

    const before = await ordersCreated();
    await scratch.write('campaign.json', {
      ...campaignRequest({ name: 'plan later', identifiers: ids, output: { storage: 'TEMPORARY', sink: sink.url } }),
      orderSize: 2,
      account: { name: `plan-${Date.now()}`, maxItemsInFlight: 2, monthlyOrders: 1 },
    });
    const json = await cli(['campaign', 'plan', 'campaign.json', '--json', '--item-time', '30m'], cliEnv, scratch.dir);
    expect(json.code).toBe(0);
    const { plan, estimate } = planOutputSchema.parse(JSON.parse(json.stdout));
    expect(plan).toMatchObject({ kind: 'campaign', found: 7, alreadyVerified: 2, toOrder: 5, ordersNeeded: 3 });
    expect(plan.size).toEqual({ bytes: sum(ids.slice(2)), known: 5, unknown: 0 });
    expect(plan.fitsMonthlyBudget).toBe(false);
    // 5 items, 2 at a time: 3 rounds of 30 minutes; 3 orders against 1 a month: 2 wait for later months.
    expect(estimate).toMatchObject({ itemTime: '30m', rounds: 3, processingSeconds: 5400, laterMonths: 2 });
    const now = new Date();
    const inTwoMonths = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 2, 1));
    expect(estimate.lastOrderMonth).toBe(inTwoMonths.toISOString().slice(0, 7));

    const text = await cli(['campaign', 'plan', 'campaign.json'], cliEnv, scratch.dir);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/verified already: +2 \(ledger /);
    expect(text.stdout).toMatch(/to order: +5 in 3 orders of up to 2/);
    expect(text.stdout).toContain(`total size:            ${formatBytes(sum(ids.slice(2)))}\n`);
    expect(text.stdout).toMatch(/does NOT fit this month's budget: 2 orders would wait/);
    expect(text.stdout).toMatch(/time the quota allows: 3 rounds of 2 items ≈ 30m at 10m an item/);
    expect(await ordersCreated()).toBe(before);
  });

  it('plans a harvest with `harvest plan` and `run|start --dry-run`, ordering nothing', async () => {
    const ids = catalogueIds(env.emulator, 3);
    const unknown = 'S2B_MSIL1C_NOT_IN_THE_CATALOGUE';
    const request = {
      name: 'dry run',
      collection: COLLECTION,
      identifiers: [...ids, unknown],
      output: { storage: 'TEMPORARY', sink: './dry' },
    };
    await scratch.write('request.json', request);
    const before = await ordersCreated();

    const planned = await cli(['harvest', 'plan', 'request.json'], cliEnv, scratch.dir);
    expect(planned.stderr).toBe('');
    expect(planned.code).toBe(0);
    expect(planned.stdout).toMatch(
      /Harvest "dry run" \(EO\.ESA\.DAT\.SENTINEL-2\.MSI\.L1C\), a dry run: nothing was ordered/,
    );
    expect(planned.stdout).toMatch(/to order: +4 in 1 order of up to 4/);
    expect(planned.stdout).toMatch(/total size: .* for 3 products; 1 of unknown size/);

    for (const command of ['run', 'start']) {
      const dry = await cli([command, 'request.json', '--dry-run', '--json'], cliEnv, scratch.dir);
      expect(dry.code).toBe(0);
      const { plan } = planOutputSchema.parse(JSON.parse(dry.stdout));
      expect(plan).toMatchObject({ kind: 'harvest', found: 4, alreadyVerified: 0, toOrder: 4, ordersNeeded: 1 });
      expect(plan.size).toEqual({ bytes: sum(ids), known: 3, unknown: 1 });
      expect(plan.account).toMatchObject({ name: 'default', maxItemsInFlight: expect.any(Number) });
    }

    expect(await ordersCreated()).toBe(before);
    expect((await env.hookOrders()).filter((o) => o.Name.startsWith('dry run'))).toHaveLength(0);
  });

  it('refuses a bad --item-time before anything runs', async () => {
    const bad = await cli(['harvest', 'plan', 'request.json', '--item-time', 'soon'], cliEnv, scratch.dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--item-time must be a duration/);
  });
});
