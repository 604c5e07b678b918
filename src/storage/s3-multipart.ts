/**
 * Streams a body of unknown length into S3 as a multipart upload, holding at most one part in
 * memory. The caller can observe each completed part (to checkpoint it) and hand earlier parts
 * back in to resume an upload after a crash; on failure or abort the upload is aborted so no
 * dangling parts are left (unless the caller asks to keep them for a resume).
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

/** S3's minimum size for every part but the last. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
/** S3's maximum number of parts in one upload. */
export const MAX_PARTS = 10_000;

/**
 * Additional checksums S3 verifies on every part (`x-amz-checksum-*`), so the bucket itself
 * certifies the bytes it stored. Computed here from the part buffer, which is why only algorithms
 * Node has built in are offered.
 */
export type PartChecksumAlgorithm = 'SHA256' | 'CRC32';

export interface UploadedPart {
  PartNumber: number;
  ETag: string;
  size: number;
  /** Base64 checksum of the part in the upload's algorithm; CompleteMultipartUpload needs it back. */
  checksum?: string;
}

export interface MultipartState {
  uploadId: string;
  parts: UploadedPart[];
  /** The upload's part checksum algorithm, when it has one (set at creation, fixed for the upload). */
  checksumAlgorithm?: PartChecksumAlgorithm;
}

export interface MultipartUploadOptions {
  s3: S3Client;
  bucket: string;
  key: string;
  /** Bytes to upload. When resuming, it must start right after the last part in `resume`. */
  body: AsyncIterable<Uint8Array>;
  partSize?: number;
  contentType?: string;
  /** A previous upload to continue. */
  resume?: MultipartState;
  /** Called once a new upload is created (not on resume), before any part is sent, e.g. to record its id for cleanup. */
  onCreate?: (uploadId: string) => void | Promise<void>;
  /** Called after each part is stored, e.g. to heartbeat the state. */
  onPart?: (state: MultipartState) => void | Promise<void>;
  signal?: AbortSignal;
  /** Leave the upload open on failure so it can be resumed (default: abort it). */
  keepOnFailure?: boolean;
  /**
   * Checksum every part with this algorithm (ignored when resuming: the upload keeps the
   * algorithm it was created with, from `resume.checksumAlgorithm`). Default: none.
   */
  checksumAlgorithm?: PartChecksumAlgorithm;
}

export interface MultipartResult {
  etag: string;
  size: number;
  parts: number;
}

export async function multipartUpload(options: MultipartUploadOptions): Promise<MultipartResult> {
  const { s3, bucket, key, signal } = options;
  const partSize = options.partSize ?? 8 * 1024 * 1024;
  if (partSize < MIN_PART_SIZE) throw new RangeError(`partSize must be at least ${MIN_PART_SIZE} bytes`);

  const checksumAlgorithm = options.resume ? options.resume.checksumAlgorithm : options.checksumAlgorithm;
  const uploadId =
    options.resume?.uploadId ??
    (
      await s3.send(
        new CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          ContentType: options.contentType,
          ChecksumAlgorithm: checksumAlgorithm,
        }),
        { abortSignal: signal },
      )
    ).UploadId;
  if (!uploadId) throw new Error(`S3 returned no UploadId for s3://${bucket}/${key}`);
  if (!options.resume) {
    try {
      await options.onCreate?.(uploadId);
    } catch (err) {
      if (!options.keepOnFailure) await abortMultipartUpload(s3, bucket, key, uploadId).catch(() => undefined);
      throw err;
    }
  }
  const state: MultipartState = { uploadId, parts: [...(options.resume?.parts ?? [])], checksumAlgorithm };

  const sendPart = async (chunks: Uint8Array[], size: number): Promise<void> => {
    const PartNumber = state.parts.length + 1;
    if (PartNumber > MAX_PARTS) throw new RangeError(`more than ${MAX_PARTS} parts: raise partSize`);
    const Body = Buffer.concat(chunks, size);
    const checksum = checksumAlgorithm ? partChecksum(checksumAlgorithm, Body) : undefined;
    const { ETag } = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber,
        Body,
        ...checksumFields(checksumAlgorithm, checksum),
      }),
      { abortSignal: signal },
    );
    if (!ETag) throw new Error(`S3 returned no ETag for part ${PartNumber} of s3://${bucket}/${key}`);
    state.parts.push({ PartNumber, ETag, size, ...(checksum ? { checksum } : {}) });
    await options.onPart?.({ ...state, parts: [...state.parts] });
  };

  try {
    let pending: Uint8Array[] = [];
    let pendingSize = 0;
    for await (const chunk of options.body) {
      let rest = chunk;
      while (pendingSize + rest.byteLength >= partSize) {
        const take = partSize - pendingSize;
        pending.push(rest.subarray(0, take));
        rest = rest.subarray(take);
        await sendPart(pending, partSize);
        pending = [];
        pendingSize = 0;
      }
      if (rest.byteLength > 0) {
        pending.push(rest);
        pendingSize += rest.byteLength;
      }
    }
    // S3 needs at least one part, even for an empty object.
    if (pendingSize > 0 || state.parts.length === 0) await sendPart(pending, pendingSize);

    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: {
          Parts: state.parts.map(({ PartNumber, ETag, checksum }) => ({
            PartNumber,
            ETag,
            ...checksumFields(checksumAlgorithm, checksum),
          })),
        },
      }),
      { abortSignal: signal },
    );
    return {
      etag: done.ETag ?? '',
      size: state.parts.reduce((sum, part) => sum + part.size, 0),
      parts: state.parts.length,
    };
  } catch (err) {
    // The original error says what went wrong; a failed abort must not replace it.
    if (!options.keepOnFailure) await abortMultipartUpload(s3, bucket, key, uploadId).catch(() => undefined);
    throw err;
  }
}

/** The base64 checksum S3 expects in `x-amz-checksum-<algorithm>` for these bytes. */
export function partChecksum(algorithm: PartChecksumAlgorithm, bytes: Uint8Array): string {
  if (algorithm === 'SHA256') return createHash('sha256').update(bytes).digest('base64');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(bytes));
  return crc.toString('base64');
}

/** `ChecksumSHA256`/`ChecksumCRC32` fields for a command, or none without an algorithm. */
function checksumFields(
  algorithm: PartChecksumAlgorithm | undefined,
  checksum: string | undefined,
): { ChecksumSHA256?: string; ChecksumCRC32?: string } {
  if (!algorithm || !checksum) return {};
  return algorithm === 'SHA256' ? { ChecksumSHA256: checksum } : { ChecksumCRC32: checksum };
}

/** Aborts an upload, ignoring "no such upload" (already completed or aborted). */
export async function abortMultipartUpload(s3: S3Client, bucket: string, key: string, uploadId: string): Promise<void> {
  try {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
  } catch (err) {
    if ((err as { name?: string }).name !== 'NoSuchUpload') throw err;
  }
}
