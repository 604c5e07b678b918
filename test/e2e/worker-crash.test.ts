/**
 * The worker process is killed (SIGKILL) in the middle of a download and a new one started: the
 * harvest finishes with the right file, one order at the Hook, the download resumed from the
 * bytes the first worker left (its first `Range` starts there), and no partial file left.
 */
import { randomUUID } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@temporalio/client';
import type { HarvestReport } from '../../src/shared/harvest-report';
import { WorkerSupervisor, chaosWorkerEnv, emulatorStats } from '../chaos/chaos-harness';
import { eventually } from '../helpers/hook';
import { catalogueIdentifiers, request } from '../helpers/harvest-env';
import { productsNotAsGenerated, harvestFiles } from '../helpers/sink-audit';
import { testStack } from '../helpers/stack';
import { useCrashEnv } from '../helpers/crash-env';

// Large enough that the download is still running when the kill lands (it starts at the first byte).
const SIZE = 256 * 1024 * 1024;
const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';

// Budget: the test took 26 s pinned to one core (`taskset -c 0 npx jest test/e2e/worker-crash.test.ts`,
// 2026-12-06, machine load average 20, workers loading the run's prebuilt bundle); three times that.
jest.setTimeout(80_000);

describe('a worker killed mid-download', () => {
  const env = useCrashEnv(SIZE, 'crash');

  it('is replaced by a new worker that resumes from the bytes on disk and finishes the harvest', async () => {
    const taskQueue = `crash-${randomUUID()}`;
    // `dedl-harvest worker` processes loading the run's prebuilt workflow bundle (no webpack at start).
    env.workers = new WorkerSupervisor(
      chaosWorkerEnv({ temporal: testStack().temporal, emulator: env.emulator, taskQueue }),
      path.join(env.scratch, 'worker.log'),
    );
    const client = new Client({ connection: env.connection, namespace: testStack().temporal.namespace });
    const [identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 1);
    const partFile = path.join(env.sinkDir, `${identifier}.zip.part`);

    await env.workers.start();
    const handle = await client.workflow.start('harvest', {
      taskQueue,
      workflowId: `crash-${randomUUID()}`,
      args: [
        request({
          identifiers: [identifier!],
          output: { storage: 'TEMPORARY', sink: pathToFileURL(env.sinkDir).toString() },
          downloadHeartbeatTimeout: '3s',
          // One stream: this test is about resuming from the file's length (a product this big
          // takes parallel ranges by default; their crash-resume is test/e2e/ranged-delivery.test.ts).
          connectionsPerProduct: 1,
        }),
      ],
    });

    // Kill as soon as the product is partly on disk.
    await eventually(
      () =>
        stat(partFile).then(
          (s) => s.size,
          () => 0,
        ),
      (size) => size > 0 && size < SIZE,
      30_000,
    );
    await env.workers.kill();
    // The checkpoint the dead worker left: the bytes in the .part file.
    const leftBehind = (await stat(partFile)).size;
    const readsBeforeRestart = (await emulatorStats(env.emulator)).storageReads.length;
    expect(leftBehind).toBeGreaterThan(0);
    expect(leftBehind).toBeLessThan(SIZE);

    await env.workers.start();
    const report: HarvestReport = await handle.result();

    expect(report.outcome).toBe('delivered');
    expect(report.items[0]).toMatchObject({ state: 'delivered', bytes: SIZE });
    // The file itself, re-hashed, holds the emulator's bytes.
    expect(await productsNotAsGenerated({ dir: env.sinkDir }, [identifier!], SIZE)).toEqual([]);
    expect((await readdir(env.sinkDir)).sort()).toEqual(harvestFiles([identifier!]));
    const stats = await emulatorStats(env.emulator);
    expect(stats.ordersCreated).toBe(1);
    // The first read of the signed link from byte 0; the new worker's first read from the
    // checkpoint on disk (a Range starting there), not from the start again.
    const starts = stats.storageReads.map((read) => read.start);
    expect(starts[0]).toBe(0);
    expect(starts[readsBeforeRestart]).toBe(leftBehind);
    const attempts = ((await handle.fetchHistory()).events ?? [])
      .filter((e) => e.activityTaskStartedEventAttributes)
      .map((e) => e.activityTaskStartedEventAttributes!.attempt);
    expect(Math.max(...attempts.map(Number))).toBeGreaterThanOrEqual(2);
  });
});
