/**
 * `output.unpack` / `output.entries` into an S3 sink: a verified product zip object becomes one
 * object per entry under `<dir>/<folder>/<entry path>`. Entries are read out of the zip object by
 * ranged GETs (pinned to its ETag), inflated and checked against their CRC-32 and size while they
 * stream into multipart uploads under a hidden staging prefix `<dir>/.<folder>.unpacking-<rand>/`;
 * an entry that fails its check is never completed (its upload is aborted). Only when every entry
 * is staged are they copied server-side to their final keys and the staging objects deleted. S3
 * has no rename, so the final keys fill one by one: the caller marks the folder complete (the STAC
 * sidecar) only after this returns. A crash leaves staging objects or unfinished uploads, which the
 * next attempt removes before it redoes the whole folder.
 */
import { randomBytes } from 'node:crypto';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { UnsupportedZipError } from './errors';
import { createS3Client, parseS3Url, type S3Connection } from './s3-client';
import { abortMultipartUpload, multipartUpload } from './s3-multipart';
import { type UnpackedEntry, type UnpackOptions, type ZipSource, checkedEntry, selectEntries } from './unpack';

/** The largest object one CopyObject can copy (S3's limit); bigger entries would need UploadPartCopy. */
const MAX_COPY_SIZE = 5 * 1024 ** 3;

const STAGING_MARK = '.unpacking-';

export interface UnpackToS3Options extends UnpackOptions {
  s3: S3Client;
  bucket: string;
  /** The zip object's key. */
  zipKey: string;
  /** Key prefix of the folder the zip is in (no trailing slash; '' for the bucket root). */
  dir: string;
  folderName: string;
  /** Part size for entries' multipart uploads (default 8 MiB). */
  partSize?: number;
}

/** Unpacks the zip object into `<dir>/<folderName>/…`; returns the entries written. */
export async function unpackToS3(options: UnpackToS3Options): Promise<UnpackedEntry[]> {
  const { s3, bucket, signal } = options;
  if (options.folderName.includes('/') || !options.folderName) {
    throw new Error(`refusing a folder name that leaves the sink: ${options.folderName}`);
  }
  const base = options.dir ? `${options.dir}/` : '';
  const stagingMark = stagingPrefix(options.dir, options.folderName);
  await removeStaging(s3, bucket, stagingMark);
  const staging = `${stagingMark}${randomBytes(6).toString('hex')}/`;
  const finalPrefix = `${base}${options.folderName}/`;
  try {
    const source = await s3ZipSource(s3, bucket, options.zipKey, signal);
    const selected = await selectEntries(source, options.entries);
    const tooBig = selected.find(({ entry }) => entry.size > MAX_COPY_SIZE);
    if (tooBig) {
      throw new UnsupportedZipError(
        `entry ${tooBig.entry.name} (${tooBig.entry.size} bytes) is larger than one S3 copy allows (5 GiB)`,
        tooBig.entry.localOffset,
      );
    }
    const written: UnpackedEntry[] = [];
    let bytes = 0;
    for (const { entry, relative } of selected) {
      signal?.throwIfAborted();
      const checked = await checkedEntry(source, entry, signal);
      await multipartUpload({
        s3,
        bucket,
        key: `${staging}${relative}`,
        body: counting(checked.body, (n) => options.onProgress?.(bytes + n)),
        partSize: options.partSize,
        contentType: 'application/octet-stream',
        checksumAlgorithm: 'SHA256',
        signal,
      });
      const result = checked.result();
      bytes += result.size;
      written.push({ path: relative, ...result });
    }
    // Every entry is staged and checked: now the final keys (an earlier unpack's are overwritten).
    for (const { path } of written) {
      signal?.throwIfAborted();
      await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: `${finalPrefix}${path}`,
          CopySource: `${bucket}/${encodeURIComponent(`${staging}${path}`).replace(/%2F/g, '/')}`,
        }),
        { abortSignal: signal },
      );
    }
    // An earlier unpack with another selection may have left objects this one did not write.
    const keep = new Set(written.map((e) => `${finalPrefix}${e.path}`));
    await deleteKeys(
      s3,
      bucket,
      (await listKeys(s3, bucket, finalPrefix)).filter((key) => !keep.has(key)),
    );
    await removeStaging(s3, bucket, staging);
    return written;
  } catch (err) {
    await removeStaging(s3, bucket, staging).catch(() => undefined);
    throw err;
  }
}

/** `<dir>/.<folder>.unpacking-`: where every attempt's staging prefix for that folder starts. */
function stagingPrefix(dir: string, folderName: string): string {
  return `${dir ? `${dir}/` : ''}.${folderName}${STAGING_MARK}`;
}

/**
 * Removes what an unpack of `<dir>/<folderName>` cut short (staging objects, unfinished uploads),
 * for a harvest cancelled after a killed attempt. The final objects, if any, are not touched.
 */
export async function removeUnpackLeftovers(
  s3: S3Client,
  bucket: string,
  dir: string,
  folderName: string,
): Promise<void> {
  await removeStaging(s3, bucket, stagingPrefix(dir, folderName));
}

/**
 * Unpacks the zip at `zipUrl` (`s3://bucket/dir/name.zip`) into `<dir>/<folderName>/` with its own
 * client; removes the zip unless `keepZip`. Returns the folder's `s3://…/` URL and its entries.
 */
export async function unpackS3Object(
  connection: S3Connection,
  zipUrl: string,
  folderName: string,
  options: UnpackOptions & { keepZip?: boolean; partSize?: number },
): Promise<{ location: string; entries: UnpackedEntry[] }> {
  const { bucket, prefix: zipKey } = parseS3Url(zipUrl);
  const dir = zipKey.includes('/') ? zipKey.slice(0, zipKey.lastIndexOf('/')) : '';
  const s3 = createS3Client(connection);
  try {
    const entries = await unpackToS3({ ...options, s3, bucket, zipKey, dir, folderName });
    if (!options.keepZip) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: zipKey }));
    return { location: `s3://${bucket}/${dir ? `${dir}/` : ''}${folderName}/`, entries };
  } finally {
    s3.destroy();
  }
}

/** The zip object as a {@link ZipSource}: ranged GETs, each pinned to the ETag it had when opened. */
async function s3ZipSource(s3: S3Client, bucket: string, key: string, signal?: AbortSignal): Promise<ZipSource> {
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
  const get = async (start: number, end: number) => {
    const object = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end}`, IfMatch: head.ETag }),
      { abortSignal: signal },
    );
    return object.Body as AsyncIterable<Uint8Array> & { transformToByteArray(): Promise<Uint8Array> };
  };
  return {
    size: head.ContentLength ?? 0,
    read: async (position, length) =>
      length === 0
        ? Buffer.alloc(0)
        : Buffer.from(await (await get(position, position + length - 1)).transformToByteArray()),
    stream: get,
  };
}

/** Passes chunks through, reporting the running total. */
async function* counting(source: AsyncIterable<Buffer>, onTotal: (total: number) => void): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    onTotal(total);
    yield chunk;
  }
}

/** Deletes every object under `prefix` and aborts every unfinished upload there (a crash's leftovers). */
async function removeStaging(s3: S3Client, bucket: string, prefix: string): Promise<void> {
  for (let marker: { KeyMarker?: string; UploadIdMarker?: string } = {}; ;) {
    const page = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix, ...marker }));
    for (const upload of page.Uploads ?? []) {
      if (upload.Key?.startsWith(prefix) && upload.UploadId) {
        await abortMultipartUpload(s3, bucket, upload.Key, upload.UploadId);
      }
    }
    if (!page.IsTruncated) break;
    marker = { KeyMarker: page.NextKeyMarker, UploadIdMarker: page.NextUploadIdMarker };
  }
  await deleteKeys(s3, bucket, await listKeys(s3, bucket, prefix));
}

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for (let token: string | undefined; ;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    if (!page.IsTruncated || !page.NextContinuationToken) return keys;
    token = page.NextContinuationToken;
  }
}

async function deleteKeys(s3: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    const result = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
    );
    if (result.Errors?.length) {
      throw new Error(
        `could not delete ${result.Errors.length} object(s) under s3://${bucket}/, e.g. ${result.Errors[0]?.Key}`,
      );
    }
  }
}
