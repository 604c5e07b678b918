/**
 * The S3 sink as the download activity sees it (src/storage/sinks.ts): an upload left by an
 * earlier attempt that died before its checkpoint reached Temporal cannot be resumed, and is
 * aborted once the product is delivered, so no unfinished multipart upload stays behind.
 */
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
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
});
