import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../../src/storage/s3-client';
import { testStack } from './stack';

/** An S3 client for the test stack's versitygw (optionally with other credentials). */
export function stackS3Client(overrides: { secretAccessKey?: string } = {}): S3Client {
  const { endpoint, region, accessKeyId, secretAccessKey } = testStack().s3;
  return createS3Client({
    endpoint,
    region,
    accessKeyId,
    secretAccessKey: overrides.secretAccessKey ?? secretAccessKey,
  });
}

/** Creates a bucket with a unique name for one test file. */
export async function createTestBucket(s3: S3Client, label: string): Promise<string> {
  const bucket = `${label}-${randomUUID().slice(0, 8)}`.toLowerCase();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}
