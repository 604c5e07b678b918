import { createHash, createCipheriv } from 'node:crypto';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { MIN_PART_SIZE, multipartUpload } from '../../src/storage/s3-multipart';
import { createTestBucket, stackS3Client } from '../helpers/s3';

const MiB = 1024 * 1024;

/** Deterministic pseudo-random bytes (AES-CTR keystream), produced in 64 KiB chunks. */
async function* pseudoRandomChunks(total: number, chunkSize = 64 * 1024): AsyncGenerator<Buffer> {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  for (let offset = 0; offset < total; offset += chunkSize) {
    yield cipher.update(Buffer.alloc(Math.min(chunkSize, total - offset)));
  }
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

describe('S3 on versitygw, with real signatures', () => {
  let s3: S3Client;
  let bucket: string;

  beforeAll(async () => {
    s3 = stackS3Client();
    bucket = await createTestBucket(s3, 's3-proof');
  });

  afterAll(() => s3?.destroy());

  it('stores a 20 MiB streamed multipart upload that reads back with the same sha256', async () => {
    const size = 20 * MiB;
    const expected = createHash('sha256')
      .update(await collect(pseudoRandomChunks(size)))
      .digest('hex');
    const seenParts: number[] = [];

    const result = await multipartUpload({
      s3,
      bucket,
      key: 'products/big.zip',
      body: pseudoRandomChunks(size),
      partSize: MIN_PART_SIZE,
      partConcurrency: 1, // one part at a time: one report per part
      onPart: (state) => void seenParts.push(state.parts.length),
    });

    expect(result).toMatchObject({ size, parts: 4 });
    expect(seenParts).toEqual([1, 2, 3, 4]);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'products/big.zip' }));
    expect(head.ContentLength).toBe(size);
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'products/big.zip' }));
    const hash = createHash('sha256');
    for await (const chunk of object.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
    expect(hash.digest('hex')).toBe(expected);

    // A range across the first part boundary returns exactly those bytes.
    const all = await collect(pseudoRandomChunks(size));
    const start = MIN_PART_SIZE - 10;
    const ranged = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'products/big.zip', Range: `bytes=${start}-${start + 19}` }),
    );
    expect(ranged.ContentRange).toBe(`bytes ${start}-${start + 19}/${size}`);
    expect(Buffer.from(await ranged.Body!.transformToByteArray())).toEqual(all.subarray(start, start + 20));
  });

  it('aborts the multipart upload when the body fails, leaving no parts behind', async () => {
    async function* failingBody(): AsyncGenerator<Buffer> {
      yield* pseudoRandomChunks(6 * MiB);
      throw new Error('source connection reset');
    }

    await expect(
      multipartUpload({ s3, bucket, key: 'products/broken.zip', body: failingBody(), partSize: MIN_PART_SIZE }),
    ).rejects.toThrow('source connection reset');

    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(uploads.Uploads ?? []).toEqual([]);
    await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'products/broken.zip' }))).rejects.toMatchObject({
      name: 'NotFound',
    });
  });

  it('pages through ListObjectsV2 with continuation tokens', async () => {
    const keys = Array.from({ length: 7 }, (_, i) => `listing/item-${i}.txt`);
    await Promise.all(keys.map((Key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Key }))));

    const pages: string[][] = [];
    for await (const page of paginateListObjectsV2(
      { client: s3, pageSize: 3 },
      { Bucket: bucket, Prefix: 'listing/' },
    )) {
      pages.push((page.Contents ?? []).map((object) => object.Key ?? ''));
    }

    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat()).toEqual(keys);
  });

  it('rejects a request signed with the wrong secret key', async () => {
    const impostor = stackS3Client({ secretAccessKey: 'not-the-secret' });
    try {
      await expect(impostor.send(new ListObjectsV2Command({ Bucket: bucket }))).rejects.toMatchObject({
        name: 'SignatureDoesNotMatch',
        $metadata: { httpStatusCode: 403 },
      });
    } finally {
      impostor.destroy();
    }
  });
});
