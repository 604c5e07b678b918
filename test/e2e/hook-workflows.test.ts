/**
 * Every Hook workflow family harvests end to end, not only data-harvest: a processing hook reading
 * a DESP catalogue (lai), one with typed options (card_cohinf: `card_producttype`, `timespan`), hooks
 * that find their input themselves (copdem, maja with `input_type=TIMESPAN`), and the custom hook
 * dedl_hello_world (`IdentifierList ["Custom Hook"]`, its input folder from `source_s3_*`).
 */
import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import type { HarvestRequestInput } from '../../src/shared/harvest-request';
import type { HarvestReport } from '../../src/shared/harvest-report';
import { type HarvestEnv, catalogueIdentifiers, startHarvestEnv } from '../helpers/harvest-env';
import { testStack } from '../helpers/stack';
import { emulatorStats } from '../chaos/fault-storm-audit';
import { harvestFiles } from '../helpers/sink-audit';

const POLLING = { initialInterval: '100ms', maxInterval: '300ms', backoff: 1.5, deadline: '2m' };

describe('harvests with every Hook workflow family', () => {
  let env: HarvestEnv;
  beforeAll(async () => {
    const { s3 } = testStack();
    env = await startHarvestEnv(
      { timing: { queuedMs: 20, processingMs: 50 }, productSize: 20_000 },
      {
        DEDL_CREDENTIALS_LOCAL_ACCESS_KEY_ID: s3.accessKeyId,
        DEDL_CREDENTIALS_LOCAL_SECRET_ACCESS_KEY: s3.secretAccessKey,
        DEDL_CREDENTIALS_LOCAL_REGION: s3.region,
      },
    );
  });
  afterAll(() => env?.close());

  /** Runs the request into a fresh sink folder; returns the report and the files written. */
  const harvest = async (request: Omit<HarvestRequestInput, 'output' | 'polling'>) => {
    const sink = `${env.sinkUrl}/${randomUUID()}`;
    const report: HarvestReport = await env.client.workflow.execute('harvest', {
      taskQueue: env.taskQueue,
      workflowId: `workflow-family-${request.workflow}-${randomUUID()}`,
      args: [{ ...request, output: { storage: 'TEMPORARY', sink }, polling: POLLING }],
    });
    const files = await readdir(new URL(sink)).catch(() => [] as string[]);
    return { report, files };
  };

  it('a processing hook reading a DESP catalogue (lai)', async () => {
    const identifiers = catalogueIdentifiers(env.emulator, 'EO.ESA.DAT.SENTINEL-2.MSI.L2A', 2);
    const { report, files } = await harvest({
      name: 'lai run',
      workflow: 'lai',
      collection: 'EO.ESA.DAT.SENTINEL-2.MSI.L2A',
      identifiers,
    });
    expect(report.outcome).toBe('delivered');
    expect(files.sort()).toEqual(harvestFiles(identifiers));
  });

  it('a hook with typed options (card_cohinf: card_producttype, timespan)', async () => {
    const identifiers = catalogueIdentifiers(env.emulator, 'EO.ESA.DAT.SENTINEL-1.L1_SLC', 1);
    const { report } = await harvest({
      name: 'cohinf run',
      workflow: 'card_cohinf',
      collection: 'EO.ESA.DAT.SENTINEL-1.L1_SLC',
      identifiers,
      options: [
        { name: 'card_producttype', value: 'CARD_INF' },
        { name: 'timespan', value: 24 },
      ],
    });
    expect(report.outcome).toBe('delivered');
  });

  it('hooks that find their input themselves: copdem (no source) and maja (TIMESPAN)', async () => {
    const sentinel3 =
      'S3A_SL_1_RBT____20161110T022134_20161110T022434_20181003T070309_0179_010_374______LR1_R_NT_003.SEN3';
    const copdem = await harvest({
      name: 'copdem run',
      workflow: 'copdem',
      source: { type: 'NONE' },
      identifiers: [sentinel3],
    });
    expect(copdem.report.outcome).toBe('delivered');
    expect(copdem.report.collection).toBeUndefined();

    const end = 'S2B_MSIL1C_20220429T102549_N0400_R108_T31UGQ_20220429T124017.SAFE';
    const maja = await harvest({
      name: 'maja run',
      workflow: 'maja',
      source: { type: 'NONE' },
      identifiers: [end],
      options: [
        { name: 'input_type', value: 'TIMESPAN' },
        { name: 'timeseries_end_id', value: end },
        { name: 'timespan', value: 18 },
      ],
    });
    expect(maja.report.outcome).toBe('delivered');
    expect(maja.files).toContain(`${end}.zip`);
  });

  it('the custom hook dedl_hello_world: "Custom Hook" as identifier, its input folder from source_s3_*', async () => {
    const { report, files } = await harvest({
      name: 'hello run',
      workflow: 'dedl_hello_world',
      source: {
        type: 'S3',
        path: 's3://hello-input/dedl_hello_world/input_file_location',
        endpoint: testStack().s3.endpoint,
        credentials: 'local',
      },
      identifiers: ['Custom Hook'],
    });
    expect(report.outcome).toBe('delivered');
    expect(report.items.map((i) => i.identifier)).toEqual(['Custom Hook']);
    expect(files.filter((f) => f.endsWith('.zip'))).toHaveLength(1);
  });

  it('refuses before ordering what the workflow certainly does not take', async () => {
    const before = (await emulatorStats(env.emulator)).ordersCreated;
    const failure = await harvest({
      name: 'maja wrong',
      workflow: 'maja',
      source: { type: 'NONE' },
      identifiers: ['S2B_MSIL1C_20220429T102549_N0400_R108_T31UGQ_20220429T124017.SAFE'],
      options: [{ name: 'timespan', value: 'eighteen' }],
    }).catch((err: unknown) => err);
    const messages: string[] = [];
    for (let e = failure as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
      messages.push(String(e.message));
    }
    expect(messages.join(' / ')).toMatch(/options\.0: must be an integer, not "eighteen"/);
    expect((await emulatorStats(env.emulator)).ordersCreated).toBe(before);
  });
});
