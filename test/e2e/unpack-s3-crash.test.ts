/**
 * The worker process is killed (SIGKILL) while it unpacks a verified product into an S3 sink
 * (`output.unpack`), its big entry half uploaded under the hidden staging prefix: at that moment
 * no object is under the product's folder and no sidecar says it is complete; a new worker redoes
 * the delivery and every entry appears as its object (size and CRC as the zip says), with no
 * staging object, no unfinished multipart upload and no zip left.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import {
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Client } from '@temporalio/client';
import { productEntries } from '../../src/emulator/product';
import type { HarvestReport } from '../../src/shared/harvest-report';
import { WorkerSupervisor, chaosWorkerEnv } from '../chaos/chaos-harness';
import { eventually } from '../helpers/hook';
import { catalogueIdentifiers, request } from '../helpers/harvest-env';
import { createTestBucket, stackS3Client } from '../helpers/s3';
import { testStack } from '../helpers/stack';
import { useCrashEnv } from '../helpers/crash-env';

// The big entry is uploaded in 8 MiB parts (32 of them); the kill lands while at most half are
// stored, which leaves many part uploads of margin before the copy to the final keys could begin.
const SIZE = 256 * 1024 * 1024;
const PART = 8 * 1024 * 1024;
const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';

// Budget: the product is downloaded, uploaded and unpacked twice (the retry starts over).
jest.setTimeout(120_000);

describe('a worker killed mid-unpack into S3', () => {
  const env = useCrashEnv(SIZE, 'unpack-s3-crash');
  let s3: S3Client;
  beforeAll(() => {
    s3 = stackS3Client();
  });
  afterAll(() => s3.destroy());

  it('leaves no object under the folder and no sidecar, and a new worker delivers it whole', async () => {
    const bucket = await createTestBucket(s3, 'unpack-crash');
    const taskQueue = `unpack-s3-crash-${randomUUID()}`;
    env.workers = new WorkerSupervisor(
      chaosWorkerEnv({
        temporal: testStack().temporal,
        emulator: env.emulator,
        taskQueue,
        s3: { name: 'crash-s3', ...testStack().s3 },
      }),
      path.join(env.scratch, 'worker.log'),
    );
    const client = new Client({ connection: env.connection, namespace: testStack().temporal.namespace });
    const [identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 1);
    const entries = productEntries({ identifier: identifier!, size: SIZE });
    const big = entries.reduce((a, b) => (a.size > b.size ? a : b));
    expect(big.size).toBeGreaterThan(24 * PART);
    const inside = (name: string) => name.slice(name.indexOf('/') + 1);
    const keys = async (prefix: string) =>
      ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? [])
        .map((o) => o.Key!)
        .sort();
    const uploads = async () =>
      (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'h/' }))).Uploads ?? [];

    await env.workers.start();
    const handle = await client.workflow.start('harvest', {
      taskQueue,
      workflowId: `unpack-s3-crash-${randomUUID()}`,
      args: [
        request({
          identifiers: [identifier!],
          output: { storage: 'TEMPORARY', sink: `s3://${bucket}/h`, sinkCredentials: 'crash-s3', unpack: true },
          downloadHeartbeatTimeout: '3s',
        }),
      ],
    });

    // Kill while the big entry's staged upload has some parts but at most half of them.
    const bigStaging = `h/.${identifier}.unpacking-`;
    const stored = await eventually(
      async () => {
        const upload = (await uploads()).find((u) => u.Key?.startsWith(bigStaging) && u.Key.endsWith(inside(big.name)));
        if (!upload) return 0;
        const parts = await s3.send(
          new ListPartsCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }),
        );
        return parts.Parts?.length ?? 0;
      },
      (count) => count > 0 && count <= 16,
      90_000,
    );
    await env.workers.kill();
    expect(stored).toBeLessThanOrEqual(16);
    // What the kill left: the zip, staged objects and the half upload; nothing in the folder, no sidecar.
    expect(await keys(`h/${identifier}/`)).toEqual([]);
    expect(await keys(`h/${identifier}.stac.json`)).toEqual([]);
    expect((await keys(bigStaging)).length).toBeGreaterThan(0);
    expect((await uploads()).length).toBeGreaterThan(0);

    await env.workers.start();
    const report: HarvestReport = await handle.result();
    expect(report.outcome).toBe('delivered');
    expect(report.items[0]!.location).toBe(`s3://${bucket}/h/${identifier}/`);
    // The folder's objects, whole; no staging object, no upload, no zip.
    expect(await keys('h/')).toEqual(
      [
        `h/${identifier}.stac.json`,
        'h/catalog.json',
        'h/manifest.json',
        ...entries.map((e) => `h/${identifier}/${inside(e.name)}`),
      ].sort(),
    );
    expect(await uploads()).toEqual([]);
    for (const entry of entries) {
      const object = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: `h/${identifier}/${inside(entry.name)}` }),
      );
      let crc = 0;
      let size = 0;
      for await (const chunk of object.Body as AsyncIterable<Uint8Array>) {
        crc = crc32(chunk, crc);
        size += chunk.length;
      }
      expect(size).toBe(entry.size);
      expect(crc >>> 0).toBe(entry.crc32 >>> 0);
    }
  });
});
