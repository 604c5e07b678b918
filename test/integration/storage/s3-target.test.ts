/**
 * The S3 sink as the download activity sees it (src/storage/sinks.ts): an upload left by an
 * earlier attempt that died before its checkpoint reached Temporal cannot be resumed, and is
 * aborted once the product is delivered, so no unfinished multipart upload stays behind; a
 * discarded transfer also takes an S3 unpack's staging leftovers with it. `writeJson` (a STAC
 * sidecar or catalog beside the products) lands in the target's folder, on S3 and in a local folder.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { openSinkTarget } from '../../../src/storage/sinks';
import { createProductStream } from '../../../src/emulator/product';
import { createTestBucket, stackS3Client } from '../../helpers/s3';
import { testStack } from '../../helpers/stack';

const spec = { identifier: 'S2A_MSIL1C_20240101T000000_N0510_R001_T31TCJ_20240101T010203.SAFE', size: 300_000 };
const NAME = `${spec.identifier}.zip`;

describe('S3 sink target', () => {
  let s3: S3Client;
  let bucket: string;

  beforeAll(async () => {
    s3 = stackS3Client();
    bucket = await createTestBucket(s3, 's3-target');
  });
  afterAll(() => s3.destroy());

  it('aborts uploads of the same key left by earlier attempts once the product is delivered', async () => {
    const { endpoint, region, accessKeyId, secretAccessKey } = testStack().s3;
    const target = await openSinkTarget(`s3://${bucket}/products`, { endpoint, region, accessKeyId, secretAccessKey });
    try {
      // What a killed attempt leaves: an upload created, its checkpoint never heartbeated.
      await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `products/${NAME}` }));
      await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `products/${NAME}-other` }));

      const part = await target.open(NAME);
      expect(part.offset).toBe(0);
      const delivered = await part.fill(createProductStream(spec, { start: 0, end: spec.size - 1 }), {
        expect: { contentLength: spec.size, processedSize: spec.size },
        signal: new AbortController().signal,
        keepPartialOnFailure: () => false,
        onProgress: () => undefined,
        onCheckpoint: () => undefined,
      });
      expect(delivered.location).toBe(`s3://${bucket}/products/${NAME}`);

      const left = (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];
      // Only the unrelated key's upload remains.
      expect(left.map((u) => u.Key)).toEqual([`products/${NAME}-other`]);
    } finally {
      target.close();
    }
  });

  it('removes an S3 unpack cut short (staging objects, unfinished uploads) when a transfer is discarded', async () => {
    const { endpoint, region, accessKeyId, secretAccessKey } = testStack().s3;
    const target = await openSinkTarget(`s3://${bucket}/discard`, { endpoint, region, accessKeyId, secretAccessKey });
    try {
      // What a worker killed mid-unpack leaves beside the product, and what is not its to remove.
      const staging = `discard/.${spec.identifier}.unpacking-0badc0ffee00/`;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${staging}MTD_MSIL1C.xml`, Body: '<half' }));
      await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `${staging}x_B04.jp2` }));
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: `discard/${spec.identifier}/MTD_MSIL1C.xml`, Body: 'x' }),
      );
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'discard/.other.unpacking-1/a', Body: 'x' }));

      await target.removePartial(NAME);
      const keys = ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'discard/' }))).Contents ?? [])
        .map((o) => o.Key)
        .sort();
      expect(keys).toEqual([`discard/${spec.identifier}/MTD_MSIL1C.xml`, 'discard/.other.unpacking-1/a'].sort());
      const left = (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'discard/' }))).Uploads;
      expect(left ?? []).toEqual([]);
    } finally {
      target.close();
    }
  });

  it('writes JSON beside the products with its own client (S3) and atomically into a folder (file)', async () => {
    const { endpoint, region, accessKeyId, secretAccessKey } = testStack().s3;
    const json = { type: 'Feature', id: spec.identifier, note: 'ünïcode' };
    const target = await openSinkTarget(`s3://${bucket}/json/2023`, { endpoint, region, accessKeyId, secretAccessKey });
    try {
      expect(await target.writeJson('a.stac.json', json)).toBe(`s3://${bucket}/json/2023/a.stac.json`);
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'json/2023/a.stac.json' }));
      expect(JSON.parse(await got.Body!.transformToString())).toEqual(json);
    } finally {
      target.close();
    }
    const dir = await mkdtemp(path.join(tmpdir(), 'dedl-target-json-'));
    try {
      const local = await openSinkTarget(pathToFileURL(path.join(dir, 'sub')).toString());
      expect(await local.writeJson('a.stac.json', json)).toBe(
        pathToFileURL(path.join(dir, 'sub', 'a.stac.json')).toString(),
      );
      expect(JSON.parse(await readFile(path.join(dir, 'sub', 'a.stac.json'), 'utf8'))).toEqual(json);
      expect(await readdir(path.join(dir, 'sub'))).toEqual(['a.stac.json']); // no temporary file left
      local.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
