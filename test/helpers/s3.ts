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

/**
 * The worker's environment for an S3 credential set `name` on the test stack's versitygw
 * (`DEDL_CREDENTIALS_<NAME>_*`); `overrides` put wrong keys in on purpose.
 */
export function s3CredentialEnv(
  name: string,
  overrides: { accessKeyId?: string; secretAccessKey?: string } = {},
): Record<string, string> {
  const { endpoint, region, accessKeyId, secretAccessKey } = testStack().s3;
  const stem = `DEDL_CREDENTIALS_${name.toUpperCase()}_`;
  return {
    [`${stem}ACCESS_KEY_ID`]: overrides.accessKeyId ?? accessKeyId,
    [`${stem}SECRET_ACCESS_KEY`]: overrides.secretAccessKey ?? secretAccessKey,
    [`${stem}ENDPOINT`]: endpoint,
    [`${stem}REGION`]: region,
  };
}
