/**
 * The `dedl-harvest` CLI end to end, in-process through `runCli`: a real worker on the test
 * stack's Temporal dev server, the emulator over HTTP, products on disk.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { runCli } from '../../src/client/cli';
import { productDigest } from '../../src/emulator/product';
import type { HarvestReport } from '../../src/shared/harvest-report';
import { eventually } from '../helpers/hook';
import { type HarvestEnv, catalogueIdentifiers, startHarvestEnv } from '../helpers/harvest-env';
import { testStack } from '../helpers/stack';
import { captureIO, cli, emulatorStats, scratchDir } from './cli-helpers';
import { productsNotAsGenerated, harvestFiles } from '../helpers/sink-audit';

const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';
const SIZE = 300_000;
const POLLING = { initialInterval: '100ms', maxInterval: '300ms', backoff: 1.5, deadline: '2m' };
const unique = (label: string) => `cli-${label}-${Date.now()}-${Math.random().toString(36).slice(2, 7)}`;

describe('dedl-harvest CLI against a real worker and the emulator', () => {
  let env: HarvestEnv;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let cliEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    env = await startHarvestEnv({ timing: { queuedMs: 50, processingMs: 150 }, productSize: SIZE });
    scratch = await scratchDir('e2e');
    const { address, namespace } = testStack().temporal;
    cliEnv = {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: namespace,
      DEDL_TASK_QUEUE: env.taskQueue,
      HOOK_BASE_URL: env.emulator.url,
      DESP_USERNAME: 'demo',
      DESP_PASSWORD: 'demo',
    };
  });
  afterAll(async () => {
    await env?.close();
    await scratch?.cleanup();
  });

  it('runs a harvest: exit 0, the report printed, every product on disk with the emulator sha256', async () => {
    const identifiers = catalogueIdentifiers(env.emulator, COLLECTION, 2);
    const file = await scratch.write('good.json', {
      name: 'cli good',
      collection: COLLECTION,
      identifiers,
      output: { storage: 'TEMPORARY', sink: './good-output' },
      polling: POLLING,
    });
    const workflowId = unique('good');
    const result = await cli(['run', file, '--id', workflowId], cliEnv, scratch.dir);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`as workflow ${workflowId}`);
    expect(result.stdout).toContain('Harvest "cli good": delivered — 2 of 2 delivered');
    const sinkDir = path.join(scratch.dir, 'good-output');
    for (const identifier of identifiers) {
      // The relative sink became an absolute file URL under the working directory.
      expect(result.stdout).toContain(`file://${sinkDir}/${identifier}.zip`);
      const expected = await productDigest({ identifier, size: SIZE });
      expect(result.stdout).toContain(`${identifier}  delivered 293 KiB sha256 ${expected.sha256.slice(0, 12)}`);
    }
    expect((await readdir(sinkDir)).sort()).toEqual(harvestFiles(identifiers));
    // The files themselves, re-hashed, hold the emulator's bytes.
    expect(await productsNotAsGenerated({ dir: sinkDir }, identifiers, SIZE)).toEqual([]);

    // The finished harvest can be looked at again: result (same exit code) and status.
    const again = await cli(['result', workflowId, '--json'], cliEnv, scratch.dir);
    expect(again.code).toBe(0);
    const parsed = JSON.parse(again.stdout) as { outcome: string; report: HarvestReport };
    expect(parsed.outcome).toBe('delivered');
    expect(parsed.report.items.map((i) => i.identifier).sort()).toEqual([...identifiers].sort());
    const status = await cli(['status', workflowId], cliEnv, scratch.dir);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`${workflowId}: completed`);
  });

  it('prints one JSON document with --json, the report inside', async () => {
    const [identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 3).slice(2);
    const file = await scratch.write('json.json', {
      name: 'cli json',
      collection: COLLECTION,
      identifiers: [identifier],
      output: { storage: 'TEMPORARY', sink: './json-output' },
      polling: POLLING,
    });
    const result = await cli(['run', file, '--json'], cliEnv, scratch.dir);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as { workflowId: string; exitCode: number; report: HarvestReport };
    expect(doc.exitCode).toBe(0);
    expect(doc.workflowId).toMatch(/^harvest-cli-json-[0-9a-f]{6}$/);
    expect(doc.report).toMatchObject({ outcome: 'delivered', totals: { items: 1, delivered: 1, bytes: SIZE } });
    expect(doc.report.items[0]!.sha256).toBe((await productDigest({ identifier: identifier!, size: SIZE })).sha256);
    expect(await productsNotAsGenerated({ dir: path.join(scratch.dir, 'json-output') }, [identifier!], SIZE)).toEqual(
      [],
    );
  });

  it('exits 3 when some items fail, with the Hook message in the report', async () => {
    const [good] = catalogueIdentifiers(env.emulator, COLLECTION, 1);
    const missing = 'S2A_MSIL1C_20991231T000000_N0000_R000_T00AAA_20991231T000000.SAFE';
    const file = await scratch.write('partial.json', {
      name: 'cli partial',
      collection: COLLECTION,
      identifiers: [good, missing],
      output: { storage: 'TEMPORARY', sink: './partial-output' },
      polling: POLLING,
    });
    const result = await cli(['run', file, '--json'], cliEnv, scratch.dir);
    expect(result.code).toBe(3);
    const { report } = JSON.parse(result.stdout) as { report: HarvestReport };
    expect(report.outcome).toBe('partial');
    expect(report.totals).toMatchObject({ items: 2, delivered: 1, failed: 1 });
    const failed = report.items.find((i) => i.identifier === missing)!;
    expect(failed.state).toBe('failed');
    expect(failed.error).toContain(`Item '${missing}' not found in collection`);
  });

  it('builds the request from the tutorial variables (run --from-env)', async () => {
    const identifiers = catalogueIdentifiers(env.emulator, COLLECTION, 5).slice(3);
    const envFile = await scratch.write(
      '.env_tutorial',
      [
        `HOOK_ORDER_NAME=from-tutorial`,
        `HOOK_COLLECTION_ID=${COLLECTION}`,
        `HOOK_DATA_ID=${identifiers.join(', ')}`,
      ].join('\n'),
    );
    const result = await cli(['run', '--from-env', envFile, '--sink', './tutorial-output'], cliEnv, scratch.dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Harvest "from-tutorial": delivered — 2 of 2 delivered');
    const files = await readdir(path.join(scratch.dir, 'tutorial-output'));
    expect(files.sort()).toEqual(harvestFiles(identifiers));
  });

  it("lists the Hook workflows and one workflow's options", async () => {
    const list = await cli(['workflows'], cliEnv, scratch.dir);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/data-harvest\s+Data harvest/);
    const one = await cli(['workflows', 'data-harvest'], cliEnv, scratch.dir);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain('source_type  [str; marked required; default EXTERNAL; one of DESP, EXTERNAL]');
    const unknown = await cli(['workflows', 'no-such-workflow'], cliEnv, scratch.dir);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('the Hook has no workflow "no-such-workflow"');
  });

  it('warns when no worker picks the harvest up; Ctrl-C stops following and leaves it running (exit 130)', async () => {
    const [identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 1);
    const file = await scratch.write('no-worker.json', {
      name: 'cli no worker',
      collection: COLLECTION,
      identifiers: [identifier],
      output: { storage: 'TEMPORARY', sink: './no-worker-output' },
    });
    const workflowId = unique('no-worker');
    const stop = new AbortController();
    const follower = captureIO({ ...cliEnv }, scratch.dir, { signal: stop.signal });
    const following = runCli(['run', file, '--id', workflowId, '--task-queue', `nobody-${workflowId}`], follower.io);
    await follower.stdoutMatching(/no worker has picked up the work for \d+ s/);
    stop.abort();
    expect(await following).toBe(130);
    expect(follower.stderr()).toContain(`the harvest goes on. Follow it again with: dedl-harvest watch ${workflowId}`);
    expect(follower.stdout()).toContain(`task queue "nobody-${workflowId}"`);

    const status = await cli(['status', workflowId, '--json'], cliEnv, scratch.dir);
    expect((JSON.parse(status.stdout) as { status: string }).status).toBe('RUNNING');
    expect((await cli(['cancel', workflowId, '--no-wait'], cliEnv, scratch.dir)).code).toBe(0);
  });

  it('says clearly when a workflow id is unknown (exit 1, no stack trace)', async () => {
    const result = await cli(['status', 'no-such-harvest'], cliEnv, scratch.dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('dedl-harvest: no harvest with workflow id "no-such-harvest" in this namespace\n');
  });
});

describe('cancelling a harvest that is being followed', () => {
  let env: HarvestEnv;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;

  beforeAll(async () => {
    // Items stay in progress for a minute: long enough to cancel them, whatever the machine.
    env = await startHarvestEnv({ timing: { queuedMs: 50, processingMs: 60_000 }, productSize: SIZE });
    scratch = await scratchDir('cancel');
  });
  afterAll(async () => {
    await env?.close();
    await scratch?.cleanup();
  });

  it('cancel exits 0, the follower exits 4, the Hook order is cancelled', async () => {
    const { address, namespace } = testStack().temporal;
    const cliEnv = { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, DEDL_TASK_QUEUE: env.taskQueue };
    const identifiers = catalogueIdentifiers(env.emulator, COLLECTION, 2);
    const file = await scratch.write('slow.json', {
      name: 'cli cancel',
      collection: COLLECTION,
      identifiers,
      output: { storage: 'TEMPORARY', sink: './cancel-output' },
      polling: POLLING,
    });
    const workflowId = unique('cancel');
    const follower = captureIO(cliEnv, scratch.dir);
    const following = runCli(['run', file, '--id', workflowId], follower.io);

    // Cancel once the order exists and the follower shows it (both observed, not waited for blindly).
    await eventually(
      () => emulatorStats(env.emulator.adminUrl),
      (stats) => stats.ordersCreated === 1,
    );
    await follower.stdoutMatching(/in progress at the Hook|queued at the Hook/);
    const cancel = await cli(['cancel', workflowId], cliEnv, scratch.dir);
    expect(cancel.stderr).toBe('');
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toContain(`Harvest ${workflowId} cancelled`);

    expect(await following).toBe(4);
    expect(follower.stdout()).toContain(`Harvest ${workflowId}: the harvest was cancelled.`);
    const stats = await emulatorStats(env.emulator.adminUrl);
    expect(stats.itemsByState.cancelled).toBe(2);
    // Nothing was delivered and no partial file is left.
    const leftovers = await readdir(path.join(scratch.dir, 'cancel-output')).catch(() => []);
    expect(leftovers.filter((name) => name.endsWith('.part'))).toEqual([]);
    const manifest = JSON.parse(
      await readFile(path.join(scratch.dir, 'cancel-output', 'manifest.json'), 'utf8'),
    ) as HarvestReport;
    expect(manifest.outcome).toBe('cancelled');
  });
});
