/**
 * A sink that dies after the preflight: a folder turned read-only mid-harvest ends its remaining
 * item as `undelivered` after a short retry (the harvest goes on, exit code 3, the report says the
 * manifest was not written and why); a full disk keeps the `.part`, retries while the user is
 * told, and resumes where it stopped once there is room; a cancelled harvest whose bucket is gone
 * ends at once, its report naming what was not written. An undelivered item is redelivered by
 * `dedl-harvest redeliver` without a new order. The emulator runs on a manual clock: an item
 * completes (and its download can begin) only when the test moves the clock.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { DeleteBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { WorkflowFailedError } from '@temporalio/client';
import { exitCodeForReport } from '../../src/client/exit-codes';
import { createManualClock } from '../../src/emulator/clock';
import { productDigest } from '../../src/emulator/product';
import type { HarvestProgress, HarvestReport } from '../../src/shared/harvest-report';
import { progressQuery } from '../../src/shared/messages';
import { type CampaignEnv, catalogueIds, startCampaignEnv, until } from '../helpers/campaign-env';
import { request } from '../helpers/harvest-env';
import { createTestBucket, s3CredentialEnv, stackS3Client } from '../helpers/s3';
import { testStack } from '../helpers/stack';
import { type Tmpfs, mountTmpfs } from '../helpers/tmpfs';
import { cli, scratchDir } from './cli-helpers';
import { harvestFiles } from '../helpers/sink-audit';

const BIG = 1_500_000;
const TIMING = { queuedMs: 20, processingMs: 2_000 };
const clock = createManualClock(Date.now());
/** Products bigger than the small disk (the emulator sizes products by identifier). */
const big = new Set<string>();

/** The CLI's environment: the test stack's Temporal and the env's task queue. */
function cliEnv(): NodeJS.ProcessEnv {
  const { address, namespace } = testStack().temporal;
  return { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, DEDL_TASK_QUEUE: env.taskQueue };
}

let env: CampaignEnv;

/**
 * Once the Hook holds the order of `identifiers`, moves the emulator's clock past its queueing
 * and one item's processing: with one item processed at a time, exactly one more item completes.
 */
async function completeOneItem(identifiers: readonly string[]): Promise<void> {
  await until(
    () => env.hookOrders(),
    (orders) => orders.some((o) => identifiers.every((id) => o.IdentifierList.includes(id))),
  );
  clock.advance(TIMING.queuedMs + TIMING.processingMs);
}

describe('a sink that dies after the preflight', () => {
  let s3: S3Client;
  const mounts: Tmpfs[] = [];

  beforeAll(async () => {
    s3 = stackS3Client();
    env = await startCampaignEnv(
      {
        // One item processed at a time: products complete one after the other.
        includeDefaultAccount: false,
        accounts: [{ username: 'demo', password: 'demo', maxParallelItems: 1 }],
        timing: TIMING,
        clock,
        productSize: (identifier: string) => (big.has(identifier) ? BIG : 100_000),
      },
      s3CredentialEnv('local'),
    );
  });
  afterAll(async () => {
    for (const mount of mounts) await mount.unmount().catch(() => undefined);
    await env?.close();
    s3?.destroy();
  });

  it('a folder turned read-only: the next item is undelivered with its cause, the harvest goes on, exit code 3', async () => {
    const sink = await mountTmpfs('8m');
    mounts.push(sink);
    const identifiers = catalogueIds(env.emulator, 2);
    const handle = await env.client.workflow.start('harvest', {
      taskQueue: env.taskQueue,
      workflowId: `e2e-readonly-${Date.now()}`,
      args: [request({ identifiers, output: { storage: 'TEMPORARY', sink: sink.url } })],
    });
    // The first product delivered whole (its STAC sidecar is written last), then the folder turns
    // read-only — before the second item completes at the Hook, so its download has not begun.
    await completeOneItem(identifiers);
    await until(
      () => readdir(sink.dir),
      (files) => files.some((f) => f.endsWith('.stac.json')),
    );
    await sink.makeReadOnly();
    clock.advance(TIMING.processingMs);
    const report: HarvestReport = await handle.result();

    expect(report.totals).toMatchObject({ items: 2, delivered: 1, undelivered: 1, failed: 0 });
    const undelivered = report.items.find((i) => i.state === 'undelivered')!;
    expect(undelivered.error).toMatch(/^EROFS: .*read-only/);
    expect(undelivered.hookStatus).toBe('completed');
    expect(report.manifestError).toMatch(/EROFS/);
    expect(report.outcome).toBe('partial');
    expect(exitCodeForReport(report)).toBe(3);

    // Redelivered without ordering again, into another folder: the link is read back from the order.
    const ordersBefore = (await env.hookOrders()).length;
    const elsewhere = env.freshSink('redelivered');
    const scratch = await scratchDir('redeliver');
    try {
      const run = await cli(['redeliver', handle.workflowId, '--sink', elsewhere.url], cliEnv(), scratch.dir);
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      expect(run.stdout).toContain(`Redelivering 1 item(s) of ${handle.workflowId} (Hook order ${report.orderId})`);
    } finally {
      await scratch.cleanup();
    }
    expect((await readdir(elsewhere.dir)).sort()).toEqual(harvestFiles([undelivered.identifier]));
    const manifest = JSON.parse(await readFile(path.join(elsewhere.dir, 'manifest.json'), 'utf8')) as HarvestReport;
    const digest = await productDigest({ identifier: undelivered.identifier, size: 100_000 });
    expect(manifest.items).toEqual([
      expect.objectContaining({ identifier: undelivered.identifier, state: 'delivered', sha256: digest.sha256 }),
    ]);
    expect(manifest.orderId).toBe(report.orderId);
    expect((await env.hookOrders()).length).toBe(ordersBefore);
  });

  it('a full disk keeps the .part and resumes where it stopped once there is room', async () => {
    const sink = await mountTmpfs('1m');
    mounts.push(sink);
    const identifier = catalogueIds(env.emulator, 10)[9]!;
    big.add(identifier);
    const handle = await env.client.workflow.start('harvest', {
      taskQueue: env.taskQueue,
      workflowId: `e2e-disk-full-${Date.now()}`,
      args: [request({ identifiers: [identifier], output: { storage: 'TEMPORARY', sink: sink.url } })],
    });
    await completeOneItem([identifier]);
    // The user is told: the retrying download's last failure says the disk is full.
    await until(
      async () => (await handle.describe()).raw.pendingActivities ?? [],
      (pending) => pending.some((p) => /^ENOSPC: .*free space/.test(p.lastFailure?.message ?? '')),
      60_000,
    );
    const kept = (await readdir(sink.dir)).filter((f) => f.endsWith('.part'));
    expect(kept).toHaveLength(1);
    const keptBytes = (await stat(path.join(sink.dir, kept[0]!))).size;
    expect(keptBytes).toBeGreaterThan(0);
    await sink.remount('size=8m');

    const report: HarvestReport = await handle.result();
    const expected = await productDigest({ identifier: identifier, size: BIG });
    expect(report.items[0]).toMatchObject({ state: 'delivered', bytes: BIG, sha256: expected.sha256 });
    expect((await readdir(sink.dir)).sort()).toEqual(harvestFiles([identifier]));
  });

  it('dedl-harvest cancel returns at once when the bucket is gone; the report says the manifest was not written', async () => {
    const bucket = await createTestBucket(s3, 'dead-sink-cancel');
    const scratch = await scratchDir('dead-sink');
    try {
      const workflowId = `e2e-dead-bucket-cancel-${Date.now()}`;
      const handle = await env.client.workflow.start('harvest', {
        taskQueue: env.taskQueue,
        workflowId,
        args: [
          request({
            identifiers: catalogueIds(env.emulator, 3),
            output: { storage: 'TEMPORARY', sink: `s3://${bucket}/p`, sinkCredentials: 'local' },
          }),
        ],
      });
      await until(
        () => handle.query(progressQuery),
        (p: HarvestProgress) => p.phase === 'polling',
      );
      await s3.send(new DeleteBucketCommand({ Bucket: bucket }));

      const started = Date.now();
      const cancel = await cli(['cancel', workflowId], cliEnv(), scratch.dir);
      const seconds = (Date.now() - started) / 1000;
      expect(cancel.code).toBe(0);
      expect(cancel.stdout).toContain(`Harvest ${workflowId} cancelled`);
      expect(cancel.stdout).toMatch(/manifest not written: s3:\/\/.*NoSuchBucket/);
      // Three short attempts at the manifest, not a retry policy's worth of minutes.
      expect(seconds).toBeLessThan(45);
      await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    } finally {
      await scratch.cleanup();
    }
  });
});
