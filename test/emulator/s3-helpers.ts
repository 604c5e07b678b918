/** S3 helpers for the PRIVATE-output tests, against the real S3 server of the test stack. */
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { testStack } from '../helpers/stack';

export function stackS3(): {
  client: S3Client;
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
} {
  const { s3 } = testStack();
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  return {
    client,
    endpoint: s3.endpoint,
    region: s3.region,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
  };
}

/** Creates a bucket with a unique name starting with `stem`. */
export async function freshBucket(client: S3Client, stem: string): Promise<string> {
  const name = `${stem}-${randomBytes(4).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

/** Keys under `prefix`, the way the Tutorial lists the bucket (list_objects_v2 paginator). */
export async function listKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket, Prefix: prefix })) {
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
  }
  return keys;
}

export async function objectBytes(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}
