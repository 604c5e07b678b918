/**
 * One place that builds S3 clients, so every caller gets the same settings: path-style
 * addressing (S3-compatible servers such as DEDL Islet, versitygw, MinIO, Ceph), SDK retries
 * switched off, because Temporal owns retries (two retry loops multiply), and timeouts.
 */
import { S3Client } from '@aws-sdk/client-s3';

/** Longest wait for a TCP (and TLS) connection to an S3 endpoint. */
const CONNECT_TIMEOUT_MS = 10_000;
/**
 * Longest time a request's socket may stay silent, in either direction. Generous: a server may
 * say nothing for minutes while it assembles a large object for CompleteMultipartUpload.
 */
const SOCKET_IDLE_TIMEOUT_MS = 5 * 60_000;

export interface S3Connection {
  /** e.g. `https://s3.central.data.destination-earth.eu`; omitted for AWS itself. */
  endpoint?: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Path-style URLs (`endpoint/bucket/key`); default true, which every S3-compatible server accepts. */
  forcePathStyle?: boolean;
  /**
   * false: a GET's body is checked against the stored checksum only when the request asks
   * (`ChecksumMode: 'ENABLED'`). For readers that check what they read themselves; default true.
   */
  validateResponseChecksums?: boolean;
}

export function createS3Client(connection: S3Connection): S3Client {
  return new S3Client({
    endpoint: connection.endpoint,
    region: connection.region,
    forcePathStyle: connection.forcePathStyle ?? true,
    credentials: { accessKeyId: connection.accessKeyId, secretAccessKey: connection.secretAccessKey },
    maxAttempts: 1,
    ...(connection.validateResponseChecksums === false ? { responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
    // Without these a stalled connection hangs forever. A request that stops moving fails, so the
    // activity fails and Temporal retries it (and a cancelled upload, which waits for the parts
    // in flight to end, is not held up by one).
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, socketTimeout: SOCKET_IDLE_TIMEOUT_MS },
  });
}

/** Splits `s3://bucket/some/prefix` into its parts; throws a clear error for anything else. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!match?.[1]) throw new Error(`not an s3://bucket/prefix URL: ${JSON.stringify(url)}`);
  return { bucket: match[1], prefix: (match[2] ?? '').replace(/\/+$/, '') };
}
