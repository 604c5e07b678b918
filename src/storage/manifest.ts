/**
 * Writes a harvest or campaign report as `manifest.json` next to the products: in a local sink
 * directory (temporary file, fsync, atomic rename, directory fsync, so a reader sees the old
 * manifest or the new one, never half of one) or under an S3 prefix (a single PutObject, which
 * S3 applies atomically, with a SHA-256 checksum the server verifies).
 *
 * Signed URL parameters are removed from every string in the report on the way out: a report may
 * carry an item's DownloadLink, and a TempURL is a credential until it expires.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { fsyncDirectory } from './local-sink';
import { redactText } from '../shared/redact';
import { parseS3Url } from './s3-client';
import { safeFileName } from './safe-name';

export const MANIFEST_NAME = 'manifest.json';

export interface ManifestWritten {
  /** `s3://bucket/key` or an absolute file path. */
  location: string;
  size: number;
  sha256: string;
}

export interface WriteManifestOptions {
  /** Needed for `s3://` targets. */
  s3?: S3Client;
  /** Default `manifest.json`; made safe like any file name. */
  fileName?: string;
  /**
   * S3 only: write only over this ETag (`'*'`: only when there is no object yet); another writer
   * in between makes the write fail with `PreconditionFailed` (read, merge and write again).
   */
  ifMatch?: string;
}

/**
 * Writes `report` as JSON into `target`: `s3://bucket/prefix`, `file:///dir` or a directory path.
 */
export async function writeManifest(
  target: string,
  report: unknown,
  options: WriteManifestOptions = {},
): Promise<ManifestWritten> {
  const fileName = safeFileName(options.fileName ?? MANIFEST_NAME);
  if (target.startsWith('s3://')) {
    if (!options.s3) throw new Error(`an S3 client is needed to write a manifest to ${target}`);
    const { bucket, prefix } = parseS3Url(target);
    return writeManifestToS3(options.s3, bucket, prefix ? `${prefix}/${fileName}` : fileName, report, options.ifMatch);
  }
  const dir = target.startsWith('file:') ? fileURLToPath(target) : path.resolve(target);
  return writeManifestToDirectory(dir, report, fileName);
}

/** The bytes of a manifest: indented JSON with signed URL parameters redacted, newline-terminated. */
export function serializeManifest(report: unknown): Buffer {
  const json = JSON.stringify(
    report,
    (_key, value: unknown) => (typeof value === 'string' ? redactText(value) : value),
    2,
  );
  if (json === undefined) throw new TypeError('a manifest must be a JSON value');
  return Buffer.from(`${json}\n`);
}

export async function writeManifestToDirectory(
  dir: string,
  report: unknown,
  fileName = MANIFEST_NAME,
): Promise<ManifestWritten> {
  const body = serializeManifest(report);
  await mkdir(dir, { recursive: true });
  const finalPath = path.join(dir, safeFileName(fileName));
  const { tempPath, handle } = await openTemporary(dir, path.basename(finalPath));
  try {
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tempPath, finalPath);
  } catch (err) {
    await unlink(tempPath).catch(() => undefined);
    throw err;
  }
  await fsyncDirectory(dir);
  return { location: finalPath, size: body.length, sha256: createHash('sha256').update(body).digest('hex') };
}

/** A temporary file older than this was left by a writer that died (a write takes milliseconds). */
const ABANDONED_TEMP_MS = 5_000;

/**
 * The temporary file of a write has a fixed name per final file, so that a writer killed midway
 * leaves it where the next write of that file finds it and takes it over once it is clearly
 * abandoned (no listing of the folder, which may hold thousands of products). While another
 * writer is using it, this write takes a name of its own.
 */
async function openTemporary(dir: string, finalName: string): Promise<{ tempPath: string; handle: FileHandle }> {
  const exclusive = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
  const fixed = path.join(dir, `.${finalName}.tmp`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return { tempPath: fixed, handle: await open(fixed, exclusive, 0o644) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const info = await stat(fixed).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs < ABANDONED_TEMP_MS) break;
      await unlink(fixed).catch(() => undefined);
    }
  }
  const own = path.join(dir, `.${finalName}.${randomBytes(6).toString('hex')}.tmp`);
  return { tempPath: own, handle: await open(own, exclusive, 0o644) };
}

export async function writeManifestToS3(
  s3: S3Client,
  bucket: string,
  key: string,
  report: unknown,
  ifMatch?: string,
): Promise<ManifestWritten> {
  const body = serializeManifest(report);
  const digest = createHash('sha256').update(body);
  const sha256 = digest.copy().digest('hex');
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentLength: body.length,
      ContentType: 'application/json',
      ChecksumSHA256: digest.digest('base64'),
      ...(ifMatch === '*' ? { IfNoneMatch: '*' } : ifMatch ? { IfMatch: ifMatch } : {}),
    }),
  );
  return { location: `s3://${bucket}/${key}`, size: body.length, sha256 };
}
