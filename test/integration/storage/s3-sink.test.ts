import { createHash } from 'node:crypto';
import {
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createProductStream, productDigest } from '../../../src/emulator/product';
import { CorruptZipError, SizeMismatchError } from '../../../src/storage/errors';
import { MIN_PART_SIZE, partChecksum } from '../../../src/storage/s3-multipart';
import { S3Sink, type S3UploadCheckpoint } from '../../../src/storage/s3-sink';
import { createTestBucket, stackS3Client } from '../../helpers/s3';
import { testStack } from '../../helpers/stack';

const MiB = 1024 * 1024;
const spec = { identifier: 'S2B_MSIL2A_20240605T102559_N0510_R108_T32TLR_20240605T134223.SAFE', size: 12 * MiB + 123 };
const NAME = `${spec.identifier}.zip`;

/** The product's bytes from `start`, in 256 KiB chunks, optionally failing after `failAt` bytes. */
async function* product(start = 0, failAt?: number, damageAt?: number): AsyncGenerator<Buffer> {
  let position = start;
  for await (const chunk of createProductStream(spec, { start, end: spec.size - 1 })) {
    let bytes = chunk as Buffer;
    if (damageAt !== undefined && damageAt >= position && damageAt < position + bytes.length) {
      bytes = Buffer.from(bytes);
      bytes[damageAt - position] = bytes[damageAt - position]! ^ 0x20;
    }
    if (failAt !== undefined && position + bytes.length > failAt) {
      yield bytes.subarray(0, failAt - position);
      throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    }
    position += bytes.length;
    yield bytes;
  }
}

async function objectSha256(s3: S3Client, bucket: string, key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  for await (const chunk of object.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
  return hash.digest('hex');
}

describe('S3Sink on versitygw', () => {
  let s3: S3Client;
  let bucket: string;
  let expected: { sha256: string; size: number };
  const expect_ = { contentLength: spec.size, processedSize: spec.size };

  const openUploads = async () =>
    (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.map((u) => u.Key) ?? [];
  const keys = async (prefix: string) =>
    (await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents?.map((o) => o.Key) ?? [];

  beforeAll(async () => {
    s3 = stackS3Client();
    bucket = await createTestBucket(s3, 's3-sink');
    expected = await productDigest(spec);
  });
  afterAll(() => s3?.destroy());

  it('streams a product with SHA-256 part checksums, checkpointing the stored parts', async () => {
    const sink = new S3Sink({ s3, bucket, prefix: 'fresh/', partSize: MIN_PART_SIZE });
    const checkpoints: S3UploadCheckpoint[] = [];
    const delivery = await sink.upload(NAME, product(), {
      expect: expect_,
      onCheckpoint: (cp) => void checkpoints.push(cp),
    });

    expect(delivery).toMatchObject({
      location: `s3://${bucket}/fresh/${NAME}`,
      key: `fresh/${NAME}`,
      size: spec.size,
      resumedFrom: 0,
      verifiedBy: 'stream',
      verification: { sha256: expected.sha256, size: spec.size },
    });
    // One checkpoint when the upload is created, then one each time the unbroken run of stored
    // parts grows (parts go up to 4 at once, so a checkpoint may take in several).
    expect(checkpoints[0]).toMatchObject({ parts: [], bytes: 0 });
    expect(checkpoints.at(-1)).toMatchObject({ bytes: spec.size });
    expect(checkpoints.at(-1)!.parts.map((part) => part.PartNumber)).toEqual([1, 2, 3]);
    const lengths = checkpoints.map((cp) => cp.parts.length);
    expect(lengths).toEqual([...new Set(lengths)].sort((a, b) => a - b)); // strictly growing
    for (const cp of checkpoints) expect(cp.bytes).toBe(cp.parts.reduce((sum, part) => sum + part.size, 0));
    expect(new Set(checkpoints.map((cp) => cp.uploadId)).size).toBe(1);

    // The checkpointed checksums are those of the bytes; the server verified each one.
    let offset = 0;
    const all = [];
    for await (const chunk of product()) all.push(chunk);
    const bytes = Buffer.concat(all);
    for (const part of checkpoints.at(-1)!.parts) {
      expect(part.checksum).toBe(partChecksum('SHA256', bytes.subarray(offset, offset + part.size)));
      offset += part.size;
    }
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: delivery.key, ChecksumMode: 'ENABLED' }));
    expect(head.ContentLength).toBe(spec.size);
    expect(head.ChecksumSHA256).toMatch(/^[A-Za-z0-9+/]+=*-3$/);
    expect(await objectSha256(s3, bucket, delivery.key)).toBe(expected.sha256);
    expect(await openUploads()).toEqual([]);
  });

  it('resumes an upload interrupted after 2 parts, and the object has the right sha256', async () => {
    const sink = new S3Sink({ s3, bucket, prefix: 'resume', partSize: MIN_PART_SIZE });
    let saved: S3UploadCheckpoint | undefined;
    await expect(
      sink.upload(NAME, product(0, 2 * MIN_PART_SIZE + MiB), {
        expect: expect_,
        onCheckpoint: (cp) => {
          saved = cp;
        },
        keepForResume: (err) => (err as { code?: string }).code === 'ECONNRESET',
      }),
    ).rejects.toThrow('read ECONNRESET');
    expect(saved?.parts.length).toBe(2);
    expect(await openUploads()).toEqual([`resume/${NAME}`]);

    // Later, maybe in another process: the checkpoint is all that survived.
    const checkpoint = JSON.parse(JSON.stringify(saved)) as S3UploadCheckpoint;
    const point = await sink.prepareResume(NAME, checkpoint);
    expect(point).toEqual({ offset: 2 * MIN_PART_SIZE, checkpoint });

    const progress: number[] = [];
    const delivery = await sink.upload(NAME, product(point.offset), {
      expect: expect_,
      resume: point.checkpoint,
      onProgress: (n) => progress.push(n),
    });
    expect(delivery).toMatchObject({
      resumedFrom: 2 * MIN_PART_SIZE,
      size: spec.size,
      verifiedBy: 'read-back',
      verification: { sha256: expected.sha256 },
    });
    expect(progress[0]).toBeGreaterThan(2 * MIN_PART_SIZE);
    expect(progress.at(-1)).toBe(spec.size);
    expect(await objectSha256(s3, bucket, `resume/${NAME}`)).toBe(expected.sha256);
    expect(await openUploads()).toEqual([]);
  });

  it('restarts from zero when the checkpointed upload is gone or its parts differ', async () => {
    const sink = new S3Sink({ s3, bucket, prefix: 'stale', partSize: MIN_PART_SIZE });
    let saved: S3UploadCheckpoint | undefined;
    await expect(
      sink.upload(NAME, product(0, MIN_PART_SIZE + 10), {
        onCheckpoint: (cp) => {
          saved = cp;
        },
        keepForResume: true,
      }),
    ).rejects.toThrow('ECONNRESET');
    const tampered = { ...saved!, parts: saved!.parts.map((p) => ({ ...p, ETag: '"0000"' })) };
    expect(await sink.prepareResume(NAME, tampered)).toEqual({
      offset: 0,
      restartReason: 'part 1 is not the one that was checkpointed',
    });
    // The stale upload was aborted on the way.
    expect(await openUploads()).toEqual([]);
    expect(await sink.prepareResume(NAME, saved)).toEqual({ offset: 0, restartReason: 'the upload no longer exists' });
    expect(await sink.prepareResume(NAME, undefined)).toEqual({ offset: 0 });
  });

  it('a cancelled upload leaves no multipart upload and no object behind', async () => {
    const sink = new S3Sink({ s3, bucket, prefix: 'cancel', partSize: MIN_PART_SIZE });
    const controller = new AbortController();
    await expect(
      sink.upload(NAME, product(), {
        expect: expect_,
        signal: controller.signal,
        keepForResume: true, // cancellation aborts anyway
        onCheckpoint: (cp) => {
          if (cp.parts.length >= 1) controller.abort();
        },
      }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(await openUploads()).toEqual([]);
    expect(await keys('cancel/')).toEqual([]);
  });

  it('never completes a product that fails verification, and aborts its upload', async () => {
    const sink = new S3Sink({ s3, bucket, prefix: 'corrupt', partSize: MIN_PART_SIZE });
    await expect(
      sink.upload(NAME, product(0, undefined, 7 * MiB), { expect: expect_, keepForResume: true }),
    ).rejects.toThrow(CorruptZipError);
    expect(await openUploads()).toEqual([]);
    expect(await keys('corrupt/')).toEqual([]);
  });

  it('a resumed upload whose new bytes are bad is rejected and leaves nothing', async () => {
    const sink = new S3Sink({ s3, bucket, prefix: 'bad-resume', partSize: MIN_PART_SIZE });
    let saved: S3UploadCheckpoint | undefined;
    const firstAttempt = sink.upload(NAME, product(0, MIN_PART_SIZE + 100), {
      onCheckpoint: (cp) => {
        saved = cp;
      },
      keepForResume: true,
    });
    await expect(firstAttempt).rejects.toThrow('ECONNRESET');

    // Too long: caught while streaming, before the upload is completed.
    let point = await sink.prepareResume(NAME, saved);
    async function* tooLong() {
      yield* product(point.offset);
      yield Buffer.from('extra');
    }
    await expect(sink.upload(NAME, tooLong(), { expect: expect_, resume: point.checkpoint })).rejects.toThrow(
      SizeMismatchError,
    );
    expect(await openUploads()).toEqual([]);

    // Damaged: found by reading the completed object back; the object is deleted.
    await expect(
      sink.upload(NAME, product(0, MIN_PART_SIZE + 100), {
        onCheckpoint: (cp) => {
          saved = cp;
        },
        keepForResume: true,
      }),
    ).rejects.toThrow('ECONNRESET');
    point = await sink.prepareResume(NAME, saved);
    await expect(
      sink.upload(NAME, product(point.offset, undefined, 9 * MiB), { expect: expect_, resume: point.checkpoint }),
    ).rejects.toThrow(CorruptZipError);
    expect(await openUploads()).toEqual([]);
    expect(await keys('bad-resume/')).toEqual([]);
  });

  it('keeps hostile names under its prefix', async () => {
    const sink = S3Sink.fromUrl(s3, `s3://${bucket}/safe/names`, { partSize: MIN_PART_SIZE });
    expect(sink.keyFor('../../x')).toMatch(/^safe\/names\/[^/]+$/);
    expect(sink.keyFor('/abs/path.zip')).toMatch(/^safe\/names\/_abs_path~[0-9a-f]{12}\.zip$/);
    const small = { contentLength: null, minSize: 0, zip: false } as const;
    const delivery = await sink.upload(
      '../../x',
      (async function* () {
        yield Buffer.from('payload');
      })(),
      {
        expect: small,
      },
    );
    expect(await keys('safe/names/')).toEqual([delivery.key]);
  });

  it('the server checks every part checksum (so the bucket certifies the bytes)', async () => {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'checked', ChecksumAlgorithm: 'SHA256' }),
    );
    const Body = Buffer.from('part bytes');
    await expect(
      s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: 'checked',
          UploadId,
          PartNumber: 1,
          Body,
          ChecksumSHA256: partChecksum('SHA256', Buffer.from('other bytes')),
        }),
      ),
    ).rejects.toMatchObject({ name: 'BadDigest' });
    await new S3Sink({ s3, bucket, prefix: '' }).abort({
      bucket,
      key: 'checked',
      uploadId: UploadId!,
      parts: [],
      bytes: 0,
    });
    expect(await openUploads()).toEqual([]);
  });

  it('keeps credentials out of the errors it raises', async () => {
    const { secretAccessKey } = testStack().s3;
    const impostor = stackS3Client({ secretAccessKey: 'impostor-secret-value' });
    try {
      const sink = new S3Sink({ s3: impostor, bucket, prefix: 'denied', partSize: MIN_PART_SIZE });
      const err = (await sink.upload(NAME, product(), { expect: expect_ }).catch((e: unknown) => e)) as Error;
      expect(err).toMatchObject({ name: 'SignatureDoesNotMatch' });
      const everything = `${err.message}\n${err.stack}\n${JSON.stringify(err)}`;
      expect(everything).not.toContain(secretAccessKey);
      expect(everything).not.toContain('impostor-secret-value');
    } finally {
      impostor.destroy();
    }
  });
});
