/**
 * What `status` shows of a harvest in trouble: the download that keeps failing is tied to its
 * item (read from the activity's scheduled event), with its expected size and the last error,
 * while the item itself stays "delivering".
 */
import type { HarvestSnapshot } from '../../src/client/progress';
import { eventually } from '../helpers/hook';
import { type HarvestEnv, catalogueIdentifiers, startHarvestEnv } from '../helpers/harvest-env';
import { testStack } from '../helpers/stack';
import { cli, scratchDir } from './cli-helpers';

const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';
const SIZE = 300_000;

describe('status of a harvest whose download keeps failing', () => {
  let env: HarvestEnv;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;

  beforeAll(async () => {
    // Every product download is cut off after 100 kB: the download activity fails and is retried.
    env = await startHarvestEnv({
      timing: { queuedMs: 20, processingMs: 50 },
      productSize: SIZE,
      faults: { resetRate: 1, resetAfterBytes: 100_000 },
    });
    scratch = await scratchDir('progress');
  });
  afterAll(async () => {
    await env?.close();
    await scratch?.cleanup();
  });

  it('shows the retrying download against its item, then cancels cleanly', async () => {
    const { address, namespace } = testStack().temporal;
    const cliEnv = { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, DEDL_TASK_QUEUE: env.taskQueue };
    const identifier = catalogueIdentifiers(env.emulator, COLLECTION, 1)[0]!;
    const file = await scratch.write('reset.json', {
      name: 'cli progress',
      collection: COLLECTION,
      identifiers: [identifier],
      output: { storage: 'TEMPORARY', sink: './reset-output' },
      polling: { initialInterval: '100ms', maxInterval: '300ms', backoff: 1.5, deadline: '2m' },
    });
    const workflowId = `cli-progress-${Date.now()}`;
    const started = await cli(['start', file, '--id', workflowId], cliEnv, scratch.dir);
    expect(started.code).toBe(0);
    expect(started.stdout).toContain(`dedl-harvest watch ${workflowId}`);

    const snapshot = await eventually(
      async () => {
        const status = await cli(['status', workflowId, '--json'], cliEnv, scratch.dir);
        return JSON.parse(status.stdout) as HarvestSnapshot;
      },
      (s) => s.retrying.some((r) => r.type === 'deliverProduct'),
      30_000,
    );
    expect(snapshot.status).toBe('RUNNING');
    expect(snapshot.items).toEqual([
      expect.objectContaining({ identifier, state: 'delivering', hookStatus: 'completed', expectedBytes: SIZE }),
    ]);
    expect(snapshot.downloads).toEqual([expect.objectContaining({ identifier, expectedBytes: SIZE })]);
    expect(snapshot.downloads[0]!.attempt).toBeGreaterThanOrEqual(2);
    // The bytes the failed attempt had stored, from its last heartbeat: where the next attempt resumes.
    expect(snapshot.downloads[0]!.bytes).toBeGreaterThan(0);
    expect(snapshot.downloads[0]!.bytes).toBeLessThan(SIZE);
    expect(snapshot.retrying).toEqual([
      expect.objectContaining({ type: 'deliverProduct', identifier, attempt: snapshot.downloads[0]!.attempt }),
    ]);
    expect(snapshot.unassignedInFlightBytes).toBe(0);

    const human = await cli(['status', workflowId], cliEnv, scratch.dir);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      new RegExp(`! retrying deliverProduct for ${identifier.replace(/\./g, '\\.')} \\(attempt \\d+\\): `),
    );

    const cancel = await cli(['cancel', workflowId], cliEnv, scratch.dir);
    expect(cancel.code).toBe(0);
    const result = await cli(['result', workflowId], cliEnv, scratch.dir);
    expect(result.code).toBe(4);
  });
});
