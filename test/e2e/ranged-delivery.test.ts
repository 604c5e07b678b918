/**
 * Parallel ranged delivery into a local folder and into an S3 bucket (versitygw), end to end: a harvest on the real dev server, a
 * real worker, the emulator over HTTP behind a proxy that misbehaves on cue (test/helpers/link-proxy.ts).
 * A range killed mid-flight is resumed without refetching the ranges already landed (the heartbeat's
 * range map); a server that ignores Range gets one stream; a corrupt range fails the checks; a 429
 * storm on extra connections backs off and still delivers. Every product is re-hashed against the
 * emulator's generator; in S3 no multipart upload may be left behind.
 */
import { readdir } from 'node:fs/promises';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Payload } from '@temporalio/common';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import type { WorkflowHandle } from '@temporalio/client';
import { createProductStream, productDigest } from '../../src/emulator/product';
import { LocalSink } from '../../src/storage/local-sink';
import { RangedPart } from '../../src/storage/ranged-part';
import type { HarvestReport } from '../../src/shared/harvest-report';
import { type HarvestEnv, catalogueIdentifiers, request, startHarvestEnv } from '../helpers/harvest-env';
import { eventually, emulatorStats } from '../helpers/hook';
import { type LinkProxy, startLinkProxy } from '../helpers/link-proxy';
import { listUnfinishedUploads, productsNotAsGenerated } from '../helpers/sink-audit';
import { createTestBucket, s3CredentialEnv, stackS3Client } from '../helpers/s3';

const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';
const MIB = 1024 * 1024;
const SIZE = 6 * MIB;
// The floor for the worker's default connections lowered to this test's product (real: 128 MiB).
const WORKER_ENV = {
  DEDL_RANGE_BYTES: String(MIB),
  DEDL_MAX_EXTRA_CONNECTIONS: '8',
  DEDL_RANGED_MIN_BYTES: String(SIZE),
};

/** The range map the running download last heartbeated, if any. */
async function heartbeatedRanges(handle: WorkflowHandle, env: HarvestEnv): Promise<string | undefined> {
  const description = await handle.describe();
  const activity = (description.raw.pendingActivities ?? []).find((a) => a.activityType?.name === 'deliverProduct');
  if (!activity?.heartbeatDetails?.payloads) return undefined;
  const [details] = await decodeArrayFromPayloads(
    env.client.options.loadedDataConverter,
    activity.heartbeatDetails.payloads as Payload[],
  );
  return (details as { ranged?: { ranges: { done: string } } } | undefined)?.ranged?.ranges.done;
}

/** Waits until the running download's heartbeat says exactly the ranges `done` landed. */
function untilRangesLanded(handle: WorkflowHandle, env: HarvestEnv, done: string) {
  return eventually(
    () => heartbeatedRanges(handle, env),
    (landed) => landed === done,
    60_000,
  );
}

/** Starts a harvest of one product into `output.sink` in up to `connectionsPerProduct` ranges. */
function harvestInRanges(
  env: HarvestEnv,
  identifier: string,
  id: string,
  output: { sink: string; sinkCredentials?: string },
  /** null: none named, the worker's default applies. */
  connectionsPerProduct: number | null = 4,
) {
  return env.client.workflow.start('harvest', {
    taskQueue: env.taskQueue,
    workflowId: `e2e-ranged-${id}-${Date.now()}`,
    args: [
      request({
        identifiers: [identifier],
        output: { storage: 'TEMPORARY', ...output },
        ...(connectionsPerProduct === null ? {} : { connectionsPerProduct }),
        downloadHeartbeatTimeout: '5s',
      }),
    ],
  });
}

describe('parallel ranged delivery into a local folder', () => {
  let env: HarvestEnv;
  let proxy: LinkProxy;

  beforeAll(async () => {
    proxy = await startLinkProxy();
    env = await startHarvestEnv(
      { timing: { queuedMs: 50, processingMs: 150 }, productSize: SIZE, publicUrl: proxy.url },
      WORKER_ENV,
    );
    proxy.target = env.emulator.listenUrl;
  });
  afterAll(async () => {
    await env?.close();
    await proxy?.close();
  });
  beforeEach(() => {
    proxy.reads = [];
    proxy.ignoreRange = false;
    proxy.corrupt = undefined;
    proxy.stall = undefined;
  });

  const harvest = (identifier: string, id: string, connectionsPerProduct: number | null = 4) =>
    harvestInRanges(env, identifier, id, { sink: env.sinkUrl }, connectionsPerProduct);

  it('resumes a range killed mid-flight without fetching the landed ranges again', async () => {
    const [identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 1);
    proxy.stall = { start: 5 * MIB, after: 300_000 };
    const handle = await harvest(identifier!, 'kill');
    // The last range hangs part-way; once the heartbeat says every other range landed, cut it.
    await untilRangesLanded(handle, env, '0-4');
    expect(proxy.stalled()).toBe(true);
    proxy.cut();
    const report = (await handle.result()) as HarvestReport;

    expect(report.outcome).toBe('delivered');
    const expected = await productDigest({ identifier: identifier!, size: SIZE });
    expect(report.items[0]).toMatchObject({ state: 'delivered', bytes: SIZE, sha256: expected.sha256 });
    const starts = proxy.reads.map((r) => r.start / MIB).sort((a, b) => a - b);
    expect(starts).toEqual([0, 1, 2, 3, 4, 5, 5]); // only the killed range twice
    expect(proxy.reads.every((r) => r.range !== undefined && r.status === 206)).toBe(true);
    expect(await productsNotAsGenerated({ dir: env.sinkDir }, [identifier!], SIZE)).toEqual([]);
  });

  it("takes parallel ranges by the worker's default when the request names no connections", async () => {
    const [, , , , identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 5);
    const report = (await (await harvest(identifier!, 'default', null)).result()) as HarvestReport;

    expect(report.outcome).toBe('delivered');
    const expected = await productDigest({ identifier: identifier!, size: SIZE });
    expect(report.items[0]).toMatchObject({ state: 'delivered', bytes: SIZE, sha256: expected.sha256 });
    expect(proxy.reads.map((r) => r.start / MIB).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(proxy.reads.every((r) => r.range !== undefined && r.status === 206)).toBe(true);
    expect(await productsNotAsGenerated({ dir: env.sinkDir }, [identifier!], SIZE)).toEqual([]);
  });

  it('takes one stream from a server that ignores Range', async () => {
    const [, identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 2);
    proxy.ignoreRange = true;
    const report = (await (await harvest(identifier!, 'norange')).result()) as HarvestReport;

    expect(report.outcome).toBe('delivered');
    const expected = await productDigest({ identifier: identifier!, size: SIZE });
    expect(report.items[0]).toMatchObject({ state: 'delivered', sha256: expected.sha256 });
    expect(proxy.reads.map((r) => r.status)).toEqual([200]); // the probe's whole body, no second request
    expect(await productsNotAsGenerated({ dir: env.sinkDir }, [identifier!], SIZE)).toEqual([]);
  });

  it('does not resume one stream from the length of a file a ranged attempt left with holes', async () => {
    const [, , , identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 4);
    // What a ranged attempt killed before its first heartbeat leaves: ranges 0, 2 and 3 landed,
    // range 1 a hole, and no checkpoint. The next attempt takes one stream.
    const part = await (await LocalSink.create(env.sinkDir)).open(`${identifier!}.zip`);
    const ranged = new RangedPart(part, SIZE, MIB, new Set(), {});
    for (const i of [0, 2, 3]) {
      await ranged.writeRange(i, createProductStream({ identifier: identifier!, size: SIZE }, ranged.span(i)));
    }
    ranged.dispose();
    await part.close();
    const report = (await (await harvest(identifier!, 'holes', 1)).result()) as HarvestReport;

    expect(report.outcome).toBe('delivered');
    const expected = await productDigest({ identifier: identifier!, size: SIZE });
    expect(report.items[0]).toMatchObject({ state: 'delivered', bytes: SIZE, sha256: expected.sha256 });
    expect(proxy.reads.map((r) => r.start)).toEqual([0]); // the whole product again, in one read
    expect(await productsNotAsGenerated({ dir: env.sinkDir }, [identifier!], SIZE)).toEqual([]);
  });

  it('rejects a product with one corrupt range and leaves nothing behind', async () => {
    const [, , identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 3);
    proxy.corrupt = { start: 3 * MIB, at: 4321 };
    const report = (await (await harvest(identifier!, 'corrupt')).result()) as HarvestReport;

    expect(report.items[0]).toMatchObject({ state: 'failed' });
    expect(report.items[0]!.error).toMatch(/IntegrityError|CRC|sha256|corrupt/i);
    const files = await readdir(env.sinkDir);
    expect(files.filter((f) => f.startsWith(identifier!))).toEqual([]); // neither the product nor a .part
  });
});

describe('parallel ranged delivery into an S3 bucket (one multipart part per range)', () => {
  // S3 parts are at least 5 MiB: DEDL_RANGE_BYTES (1 MiB) is raised to 5 MiB, so 28 MiB is
  // ranges 0-5, the last one 3 MiB.
  const S3_SIZE = 28 * MIB;
  const S3_RANGE = 5 * MIB;
  let env: HarvestEnv;
  let proxy: LinkProxy;
  let s3: S3Client;
  let bucket: string;

  beforeAll(async () => {
    s3 = stackS3Client();
    bucket = await createTestBucket(s3, 'ranged');
    proxy = await startLinkProxy();
    env = await startHarvestEnv(
      { timing: { queuedMs: 50, processingMs: 150 }, productSize: S3_SIZE, publicUrl: proxy.url },
      { ...WORKER_ENV, ...s3CredentialEnv('local') },
    );
    proxy.target = env.emulator.listenUrl;
  });
  afterAll(async () => {
    await env?.close();
    await proxy?.close();
    s3?.destroy();
  });
  beforeEach(() => {
    proxy.reads = [];
    proxy.ignoreRange = false;
  });

  const harvest = (identifier: string, id: string, connectionsPerProduct: number | null = 4) =>
    harvestInRanges(
      env,
      identifier,
      id,
      { sink: `s3://${bucket}/${id}`, sinkCredentials: 'local' },
      connectionsPerProduct,
    );
  const delivered = async (identifier: string, id: string, report: HarvestReport) => {
    expect(report.outcome).toBe('delivered');
    const expected = await productDigest({ identifier, size: S3_SIZE });
    expect(report.items[0]).toMatchObject({ state: 'delivered', bytes: S3_SIZE, sha256: expected.sha256 });
    expect(report.items[0]!.location).toBe(`s3://${bucket}/${id}/${identifier}.zip`);
    // The bytes in the bucket re-hashed against the generator; no unfinished upload left.
    expect(await productsNotAsGenerated({ s3, bucket, prefix: id }, [identifier], S3_SIZE)).toEqual([]);
    expect(await listUnfinishedUploads(s3, bucket)).toEqual([]);
  };

  it('resumes a range killed mid-flight, fetching only that range again', async () => {
    const [identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 1);
    proxy.stall = { start: 5 * S3_RANGE, after: 300_000 };
    const handle = await harvest(identifier!, 's3-kill');
    // The last range hangs part-way; once the heartbeat says the other parts are stored, cut it.
    await untilRangesLanded(handle, env, '0-4');
    expect(proxy.stalled()).toBe(true);
    proxy.cut();
    const report = (await handle.result()) as HarvestReport;

    const starts = proxy.reads.map((r) => r.start / S3_RANGE).sort((a, b) => a - b);
    expect(starts).toEqual([0, 1, 2, 3, 4, 5, 5]); // only the killed range twice
    expect(proxy.reads.every((r) => r.range !== undefined && r.status === 206)).toBe(true);
    await delivered(identifier!, 's3-kill', report);
  });

  it("takes parallel ranges into S3 by the worker's default when the request names no connections", async () => {
    const [, , , , , identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 6);
    const report = (await (await harvest(identifier!, 's3-default', null)).result()) as HarvestReport;

    expect(proxy.reads.map((r) => r.start / S3_RANGE).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(proxy.reads.every((r) => r.range !== undefined && r.status === 206)).toBe(true);
    await delivered(identifier!, 's3-default', report);
  });

  it('aborts the upload when the harvest is cancelled mid-flight', async () => {
    const [, , , identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 4);
    proxy.stall = { start: 5 * S3_RANGE, after: 300_000 };
    const handle = await harvest(identifier!, 's3-cancel');
    await untilRangesLanded(handle, env, '0-4');
    expect(await listUnfinishedUploads(s3, bucket, 's3-cancel/')).toHaveLength(1); // five parts stored
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();

    // The stalled range still hangs: the activity learns of the cancellation at its next heartbeat
    // (at most 10 s apart) and aborts its upload.
    await eventually(
      () => listUnfinishedUploads(s3, bucket, 's3-cancel/'),
      (uploads) => uploads.length === 0,
      30_000,
    );
    proxy.cut();
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 's3-cancel/' }));
    expect((listed.Contents ?? []).filter((o) => o.Key?.endsWith('.zip'))).toEqual([]);
  });

  it('takes one stream into S3 from a server that ignores Range', async () => {
    const [, identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 2);
    proxy.ignoreRange = true;
    const report = (await (await harvest(identifier!, 's3-norange')).result()) as HarvestReport;

    expect(proxy.reads.map((r) => r.status)).toEqual([200]); // the probe's whole body, no second request
    await delivered(identifier!, 's3-norange', report);
  });

  it('rejects a product with one corrupt range: no object, no upload left', async () => {
    const [, , identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 3);
    proxy.corrupt = { start: 3 * S3_RANGE, at: 4321 };
    const report = (await (await harvest(identifier!, 's3-corrupt')).result()) as HarvestReport;

    expect(report.items[0]).toMatchObject({ state: 'failed' });
    expect(report.items[0]!.error).toMatch(/IntegrityError|CRC|sha256|corrupt/i);
    expect(proxy.reads.some((r) => r.start === 3 * S3_RANGE)).toBe(true);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 's3-corrupt/' }));
    expect((listed.Contents ?? []).map((o) => o.Key).filter((k) => k?.includes(identifier!))).toEqual([]);
    expect(await listUnfinishedUploads(s3, bucket)).toEqual([]);
  });
});

describe('parallel ranged delivery under a per-client connection cap', () => {
  it.each([
    { into: 'a local folder', size: 12 * MIB, s3: false },
    // Six 5 MiB parts: enough ranges for the ramp to open more connections than the cap allows.
    { into: 'an S3 bucket', size: 28 * MIB, s3: true },
  ])('backs off from a 429 storm on extra connections and still delivers into $into', async ({ size, s3: toS3 }) => {
    const env = await startHarvestEnv(
      {
        timing: { queuedMs: 50, processingMs: 150 },
        productSize: size,
        faults: {
          shaping: {
            perConnectionRate: '16Mbit',
            maxConnectionsPerClient: 2,
            overLimitStatus: 429,
            overLimitRetryAfterSec: 1,
          },
        },
      },
      { ...WORKER_ENV, ...(toS3 ? s3CredentialEnv('local') : {}) },
    );
    const s3 = toS3 ? stackS3Client() : undefined;
    try {
      const bucket = s3 && (await createTestBucket(s3, 'ranged-429'));
      const [identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 1);
      const output = bucket ? { sink: `s3://${bucket}/p`, sinkCredentials: 'local' } : { sink: env.sinkUrl };
      const report = (await (await harvestInRanges(env, identifier!, '429', output, 8)).result()) as HarvestReport;
      expect(report.outcome).toBe('delivered');
      const expected = await productDigest({ identifier: identifier!, size });
      expect(report.items[0]).toMatchObject({ state: 'delivered', sha256: expected.sha256 });
      const stats = await emulatorStats(env.emulator);
      // The cap was met (the ramp went past 2) and the delivery backed off instead of hammering.
      expect(stats.faultsInjected.overConnectionLimit).toBeGreaterThanOrEqual(1);
      expect(stats.faultsInjected.overConnectionLimit).toBeLessThanOrEqual(6);
      const sink = s3 && bucket ? { s3, bucket, prefix: 'p' } : { dir: env.sinkDir };
      expect(await productsNotAsGenerated(sink, [identifier!], size)).toEqual([]);
    } finally {
      s3?.destroy();
      await env.close();
    }
  });
});
