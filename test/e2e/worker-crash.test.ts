/**
 * The worker process is killed (SIGKILL) in the middle of a download and a new one started: the
 * harvest finishes with the right file, one order at the Hook, the download resumed from the
 * bytes the first worker left (its first `Range` starts there), and no partial file left. And a
 * harvest cancelled while its worker is dead (the delivery never hears of the cancellation): the
 * new worker's workflow discards the partial, a `.part` file or an S3 multipart upload.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { Client, type WorkflowFailedError } from '@temporalio/client';
import type { HarvestReport } from '../../src/shared/harvest-report';
import { WorkerSupervisor, chaosWorkerEnv, emulatorStats } from '../chaos/chaos-harness';
import { eventually } from '../helpers/hook';
import { catalogueIdentifiers, request } from '../helpers/harvest-env';
import { listUnfinishedUploads, productsNotAsGenerated, harvestFiles } from '../helpers/sink-audit';
import { createTestBucket, stackS3Client } from '../helpers/s3';
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

describe('a harvest cancelled while its worker is dead', () => {
  const env = useCrashEnv(SIZE, 'crash-cancel');
  let s3: S3Client;
  beforeAll(() => {
    s3 = stackS3Client();
  });
  afterAll(() => s3.destroy());

  /**
   * Starts a harvest of one product into `output`, kills the worker once `partial` says some of it
   * is stored, cancels the harvest and starts a new worker; returns the activities the cancelled
   * harvest scheduled.
   */
  async function cancelWithWorkerDead(
    output: { sink: string; sinkCredentials?: string },
    connectionsPerProduct: number,
    partial: () => Promise<boolean>,
  ) {
    const taskQueue = `crash-cancel-${randomUUID()}`;
    await env.workers?.close();
    env.workers = new WorkerSupervisor(
      chaosWorkerEnv({
        temporal: testStack().temporal,
        emulator: env.emulator,
        taskQueue,
        s3: { name: 'crash-s3', ...testStack().s3 },
      }),
      path.join(env.scratch, `worker-${taskQueue}.log`),
    );
    const client = new Client({ connection: env.connection, namespace: testStack().temporal.namespace });
    await env.workers.start();
    const [identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 1);
    const handle = await client.workflow.start('harvest', {
      taskQueue,
      workflowId: `crash-cancel-${randomUUID()}`,
      args: [
        request({
          identifiers: [identifier!],
          output: { storage: 'TEMPORARY', ...output },
          // Longer than the new worker takes to pick the harvest up (its sticky queue on the dead
          // worker times out first): the delivery is not retried before the cancellation is seen.
          downloadHeartbeatTimeout: '30s',
          connectionsPerProduct,
        }),
      ],
    });
    await eventually(partial, (stored) => stored, 60_000);
    await env.workers.kill();
    expect(await partial()).toBe(true); // what the dead worker left
    await handle.cancel();
    await env.workers.start();

    const failure = await handle.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect((failure as WorkflowFailedError).cause?.name).toBe('CancelledFailure');
    const events = (await handle.fetchHistory()).events ?? [];
    // No attempt of the delivery heard of the cancellation (it would have acknowledged it).
    expect(events.filter((e) => e.activityTaskCanceledEventAttributes)).toEqual([]);
    return events.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
  }

  it('discards the .part file of a download in one stream', async () => {
    const sinkDir = path.join(env.sinkDir, 'one-stream');
    await mkdir(sinkDir);
    const [identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 1);
    const partFile = path.join(sinkDir, `${identifier}.zip.part`);
    const scheduled = await cancelWithWorkerDead({ sink: pathToFileURL(sinkDir).toString() }, 1, () =>
      stat(partFile).then(
        (s) => s.size > 0 && s.size < SIZE,
        () => false,
      ),
    );
    expect((await readdir(sinkDir)).filter((f) => f.startsWith(identifier!))).toEqual([]);
    expect(scheduled).toContain('discardPartial');
  });

  it('aborts the multipart upload of a download in parallel ranges into S3', async () => {
    const bucket = await createTestBucket(s3, 'crash-cancel');
    const scheduled = await cancelWithWorkerDead(
      { sink: `s3://${bucket}/h`, sinkCredentials: 'crash-s3' },
      4,
      async () => (await listUnfinishedUploads(s3, bucket, 'h/')).length > 0,
    );
    expect(await listUnfinishedUploads(s3, bucket)).toEqual([]);
    expect(scheduled).toContain('discardPartial');
  });
});
