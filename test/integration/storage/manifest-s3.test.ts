import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { writeManifest } from '../../../src/storage/manifest';
import { createTestBucket, stackS3Client } from '../../helpers/s3';

describe('manifest writer (S3 on versitygw)', () => {
  let s3: S3Client;
  let bucket: string;
  beforeAll(async () => {
    s3 = stackS3Client();
    bucket = await createTestBucket(s3, 'manifest');
  });
  afterAll(() => s3?.destroy());

  it('writes manifest.json under the prefix with a checksum the server verified', async () => {
    const report = { orderId: 7, items: [{ identifier: 'S1A', location: `s3://${bucket}/harvest/S1A.zip` }] };
    const written = await writeManifest(`s3://${bucket}/harvest/run-1`, report, { s3 });
    expect(written.location).toBe(`s3://${bucket}/harvest/run-1/manifest.json`);
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'harvest/run-1/manifest.json' }));
    expect(object.ContentType).toBe('application/json');
    expect(JSON.parse(await object.Body!.transformToString())).toEqual(report);
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: 'harvest/run-1/manifest.json', ChecksumMode: 'ENABLED' }),
    );
    expect(Buffer.from(head.ChecksumSHA256!, 'base64').toString('hex')).toBe(written.sha256);
  });

  it('writes only over the version it was given (ifMatch), or only when there is none yet (*)', async () => {
    const target = `s3://${bucket}/conditional`;
    const options = { s3, fileName: 'catalog.json' };
    await writeManifest(target, { v: 1 }, { ...options, ifMatch: '*' });
    await expect(writeManifest(target, { v: 2 }, { ...options, ifMatch: '*' })).rejects.toMatchObject({
      name: 'PreconditionFailed',
    });
    const { ETag } = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'conditional/catalog.json' }));
    await writeManifest(target, { v: 3 }, { ...options, ifMatch: ETag });
    await expect(writeManifest(target, { v: 4 }, { ...options, ifMatch: ETag })).rejects.toMatchObject({
      name: 'PreconditionFailed',
    });
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'conditional/catalog.json' }));
    expect(JSON.parse(await object.Body!.transformToString())).toEqual({ v: 3 });
  });
});
