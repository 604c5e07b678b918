/**
 * PRIVATE output end to end: the emulator writes each product into a bucket on the real S3 server
 * (with the keys the order carries), and the harvest verifies the bucket by listing it.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { HarvestReport } from '../../src/shared/harvest-report';
import { type HarvestEnv, catalogueIdentifiers, request, startHarvestEnv } from '../helpers/harvest-env';
import { createTestBucket, stackS3Client } from '../helpers/s3';
import { productsNotAsGenerated } from '../helpers/sink-audit';
import { testStack } from '../helpers/stack';
import { startHoldProxy } from '../helpers/hold-proxy';
import { eventually } from '../helpers/hook';
import { stacCatalogProblems, stacItemProblems } from '../helpers/stac-validate';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';
const SIZE = 200_000;

describe('harvest into a private bucket (PRIVATE)', () => {
  let env: HarvestEnv;
  let s3: S3Client;
  let bucket: string;

  beforeAll(async () => {
    const { s3: stackS3 } = testStack();
    s3 = stackS3Client();
    bucket = await createTestBucket(s3, 'private-harvest');
    env = await startHarvestEnv(
      { timing: { queuedMs: 20, processingMs: 50 }, productSize: SIZE },
      {
        DEDL_CREDENTIALS_LOCAL_ACCESS_KEY_ID: stackS3.accessKeyId,
        DEDL_CREDENTIALS_LOCAL_SECRET_ACCESS_KEY: stackS3.secretAccessKey,
        DEDL_CREDENTIALS_LOCAL_REGION: stackS3.region,
      },
    );
  });
  afterAll(async () => {
    await env?.close();
    s3?.destroy();
  });

  /**
   * Runs a PRIVATE harvest of `identifiers` whose outputs land under `s3://<bucket>/<prefix>` (the
   * stack's S3, credential set `local`), on `on`'s worker; `output` adds or overrides options.
   */
  const privateHarvest = (
    on: HarvestEnv,
    workflowId: string,
    identifiers: string[],
    prefix: string,
    output: Record<string, string> = {},
  ): Promise<HarvestReport> =>
    on.client.workflow.execute('harvest', {
      taskQueue: on.taskQueue,
      workflowId,
      args: [
        request({
          identifiers,
          output: {
            storage: 'PRIVATE',
            target: `s3://${bucket}/${prefix}`,
            endpoint: testStack().s3.endpoint,
            credentials: 'local',
            ...output,
          },
        }),
      ],
    });

  const object = async (key: string) =>
    Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
  const json = async (key: string) => JSON.parse((await object(key)).toString('utf8')) as Json;

  /**
   * The STAC beside PRIVATE outputs: a valid sidecar per product whose one asset is its object
   * (s3:// location, size; sha256 only when `hashed`), and a valid catalog at the prefix linking them.
   */
  async function expectPrivateStac(prefix: string, identifiers: readonly string[], hashed: boolean): Promise<void> {
    for (const identifier of identifiers) {
      const bytes = await object(`${prefix}/${identifier}.zip`);
      const sidecar = await json(`${prefix}/${identifier}.stac.json`);
      expect(stacItemProblems(sidecar)).toEqual([]);
      expect(sidecar.id).toBe(identifier);
      expect(sidecar.geometry).toMatchObject({ type: expect.any(String) }); // the catalogue item's
      expect(Object.keys(sidecar.assets as Json)).toEqual(['product']);
      expect(sidecar.assets.product).toEqual({
        href: `s3://${bucket}/${prefix}/${identifier}.zip`,
        type: 'application/zip',
        roles: ['data'],
        'file:size': bytes.length,
        ...(hashed ? { 'file:checksum': `1220${createHash('sha256').update(bytes).digest('hex')}` } : {}),
      });
    }
    const catalog = await json(`${prefix}/catalog.json`);
    expect(stacCatalogProblems(catalog)).toEqual([]);
    const items = (catalog.links as Json[]).filter((l) => l.rel === 'item').map((l) => l.href as string);
    expect(items.sort()).toEqual(identifiers.map((id) => `./${id}.stac.json`).sort());
  }

  it('finds every product in the bucket, and copies them locally with the emulator sha256', async () => {
    const identifiers = catalogueIdentifiers(env.emulator, COLLECTION, 2);
    const copyDir = await mkdtemp(path.join(tmpdir(), 'dedl-private-copy-'));
    try {
      const report = await privateHarvest(env, `e2e-private-${Date.now()}`, identifiers, 'harvest-1', {
        download: pathToFileURL(copyDir).toString(),
      });
      expect(report.outcome).toBe('delivered');
      for (const identifier of identifiers) {
        expect(report.items.find((i) => i.identifier === identifier)).toMatchObject({
          state: 'delivered',
          bytes: SIZE,
          location: `s3://${bucket}/harvest-1/${identifier}.zip`,
        });
      }
      expect((await readdir(copyDir)).sort()).toEqual(
        [...identifiers.map((id) => `${id}.zip`), 'manifest.json'].sort(),
      );
      // Every product re-hashed against the emulator's generator: in the bucket and in the local copy.
      expect(await productsNotAsGenerated({ s3, bucket, prefix: 'harvest-1' }, identifiers, SIZE)).toEqual([]);
      expect(await productsNotAsGenerated({ dir: copyDir }, identifiers, SIZE)).toEqual([]);
      // The copy hashed each object: its sidecar carries that checksum.
      await expectPrivateStac('harvest-1', identifiers, true);

      // A second harvest into the same prefix: the sidecars there are no outputs, and the catalog is its own.
      const again = `e2e-private-again-${Date.now()}`;
      const second = await privateHarvest(env, again, identifiers, 'harvest-1');
      expect(second.items.map((i) => [i.state, i.bytes, i.objects?.length])).toEqual(
        identifiers.map(() => ['delivered', SIZE, 1]),
      );
      expect((await json('harvest-1/catalog.json')).id).toBe(again);
    } finally {
      await rm(copyDir, { recursive: true, force: true });
    }
  });

  it('reports items whose output is missing from the bucket, after looking again for listingWait', async () => {
    const identifiers = catalogueIdentifiers(env.emulator, COLLECTION, 1);
    const workflowId = `e2e-private-missing-${Date.now()}`;
    const report = await privateHarvest(env, workflowId, identifiers, 'harvest-2', {
      keyTemplate: '{prefix}/elsewhere/{identifier}.zip',
      listingWait: '1s',
    });
    // Four looks at the bucket (the activity's attempts) before the product counted as missing.
    const attempts = ((await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [])
      .map((e) => e.activityTaskStartedEventAttributes?.attempt)
      .filter((a) => a !== undefined && a !== null);
    expect(Math.max(...attempts)).toBe(4);
    expect(report.outcome).toBe('failed');
    expect(report.items[0]).toMatchObject({ state: 'failed' });
    expect(report.items[0]!.error).toMatch(/no output for this item under s3:\/\/.*harvest-2 \(no matching object/);
  });

  it('waits for outputs the store lists a little after the Hook reports them completed', async () => {
    const { s3: stackS3 } = testStack();
    const lagging = await startHarvestEnv(
      { timing: { queuedMs: 20, processingMs: 50 }, productSize: SIZE, privateOutputLagMs: 1500 },
      {
        DEDL_CREDENTIALS_LOCAL_ACCESS_KEY_ID: stackS3.accessKeyId,
        DEDL_CREDENTIALS_LOCAL_SECRET_ACCESS_KEY: stackS3.secretAccessKey,
        DEDL_CREDENTIALS_LOCAL_REGION: stackS3.region,
      },
    );
    try {
      const identifiers = catalogueIdentifiers(lagging.emulator, COLLECTION, 2);
      const workflowId = `e2e-private-lag-${Date.now()}`;
      const report = await privateHarvest(lagging, workflowId, identifiers, 'harvest-lag', { listingWait: '6s' });
      expect(report.items.map((i) => i.state)).toEqual(['delivered', 'delivered']);
      // Listing gives no hash, so no checksum; the sidecars written once the outputs were listed.
      await expectPrivateStac('harvest-lag', identifiers, false);
      expect(report.items.map((i) => i.bytes)).toEqual([SIZE, SIZE]);
      // The wait was needed: an earlier look at the bucket missed the outputs, and a later one found
      // them. Only the verification's attempts count (polling retries by design: its attempts are polls).
      const events = (await lagging.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
      const verifications = new Set(
        events
          .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'verifyPrivateOutput')
          .map((e) => String(e.eventId)),
      );
      const retriedAfter = events
        .map((e) => e.activityTaskStartedEventAttributes)
        .filter((started) => verifications.has(String(started?.scheduledEventId)) && (started?.attempt ?? 1) > 1)
        .map((started) => started?.lastFailure?.message ?? '');
      expect(retriedAfter.length).toBeGreaterThan(0);
      expect(retriedAfter.every((message) => /outputs? not listed under .* yet \(look \d of \d\)/.test(message))).toBe(
        true,
      );
    } finally {
      await lagging.close();
    }
  });

  /** A server timestamp's seconds (a Long in the raw description). */
  const secondsOf = (t: { seconds?: { toString(): string } | null } | null | undefined) =>
    Number(t?.seconds?.toString() ?? NaN);

  it('keeps a copy that outlasts its heartbeat timeout alive, and a cancellation removes its partial', async () => {
    // The worker reads the bucket through a proxy that holds the product's body after 50 kB: the
    // copy is stuck mid-object, as on a stalled network, for longer than the heartbeat timeout.
    const proxy = await startHoldProxy(testStack().s3.endpoint, 50_000);
    const copyDir = await mkdtemp(path.join(tmpdir(), 'dedl-private-held-'));
    try {
      const [identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 1);
      const handle = await env.client.workflow.start('harvest', {
        taskQueue: env.taskQueue,
        workflowId: `e2e-private-held-${Date.now()}`,
        args: [
          request({
            identifiers: [identifier!],
            downloadHeartbeatTimeout: '2s',
            output: {
              storage: 'PRIVATE',
              target: `s3://${bucket}/harvest-held`,
              endpoint: proxy.url,
              credentials: 'local',
              download: pathToFileURL(copyDir).toString(),
            },
          }),
        ],
      });
      // The first attempt heartbeats well past its 2 s timeout while the copy is held.
      const verification = await eventually(
        async () =>
          (await handle.describe()).raw.pendingActivities?.find((a) => a.activityType?.name === 'verifyPrivateOutput'),
        (a) => proxy.held() && secondsOf(a?.lastHeartbeatTime) > secondsOf(a?.lastStartedTime) + 6,
      );
      expect(verification?.attempt).toBe(1);
      expect(await readdir(copyDir)).toEqual([`${identifier}.zip.part`]);

      await handle.cancel();
      await expect(handle.result()).rejects.toThrow();
      // The cancellation reached the copy through its heartbeat: it stopped and removed its partial
      // (what is left is the cancelled harvest's manifest).
      await eventually(
        () => readdir(copyDir),
        (names) => names.join() === 'manifest.json',
      );
    } finally {
      await proxy.close();
      await rm(copyDir, { recursive: true, force: true });
    }
  });
});
