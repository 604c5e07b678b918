/**
 * Streams a body of unknown length into S3 as a multipart upload, sending up to
 * `partConcurrency` parts at once (a remote bucket answers each part after a round trip, so parts
 * sent one by one leave the link idle) and holding at most `partConcurrency + 1` parts in memory.
 * The caller can observe the stored parts (to checkpoint them) and hand them back in to resume an
 * upload after a crash; on failure or abort the upload is aborted so no dangling parts are left
 * (unless the caller asks to keep them for a resume).
 *
 * Parts may be stored out of order; what the caller is told is always the unbroken run of stored
 * parts from the first, so a resume continues right after bytes that are all in the upload. A
 * part stored beyond that run is simply sent again with the same number on resume (S3 keeps the
 * last one) or left out of CompleteMultipartUpload, which discards it.
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
/** Parts in flight at once by default. */
export const DEFAULT_PART_CONCURRENCY = 4;

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
  /** Called when the unbroken run of stored parts grows, e.g. to heartbeat the state. */
  onPart?: (state: MultipartState) => void | Promise<void>;
  /** Parts sent at once (default {@link DEFAULT_PART_CONCURRENCY}); each one in flight is held in memory. */
  partConcurrency?: number;
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
  const partConcurrency = options.partConcurrency ?? DEFAULT_PART_CONCURRENCY;
  if (!Number.isInteger(partConcurrency) || partConcurrency < 1) {
    throw new RangeError(`partConcurrency must be a positive integer, got ${String(partConcurrency)}`);
  }

  const checksumAlgorithm = options.resume ? options.resume.checksumAlgorithm : options.checksumAlgorithm;
  const uploadId =
    options.resume?.uploadId ??
    (await createUpload(s3, { bucket, key, contentType: options.contentType, checksumAlgorithm, signal }));
  if (!options.resume) {
    try {
      await options.onCreate?.(uploadId);
    } catch (err) {
      if (!options.keepOnFailure) await abortMultipartUpload(s3, bucket, key, uploadId).catch(() => undefined);
      throw err;
    }
  }
  const state: MultipartState = { uploadId, parts: [...(options.resume?.parts ?? [])], checksumAlgorithm };
  const parts = new PartSender({
    firstPartNumber: state.parts.length + 1,
    concurrency: partConcurrency,
    send: (partNumber, body) => uploadPart(s3, { bucket, key, uploadId, checksumAlgorithm }, partNumber, body),
    onStored: async (stored) => {
      state.parts.push(...stored);
      await options.onPart?.({ ...state, parts: [...state.parts] });
    },
  });

  try {
    let pending: Uint8Array[] = [];
    let pendingSize = 0;
    for await (const chunk of options.body) {
      let rest = chunk;
      while (pendingSize + rest.byteLength >= partSize) {
        const take = partSize - pendingSize;
        pending.push(rest.subarray(0, take));
        rest = rest.subarray(take);
        signal?.throwIfAborted();
        await parts.add(Buffer.concat(pending, partSize));
        pending = [];
        pendingSize = 0;
      }
      if (rest.byteLength > 0) {
        pending.push(rest);
        pendingSize += rest.byteLength;
      }
    }
    // S3 needs at least one part, even for an empty object.
    if (pendingSize > 0 || parts.count + state.parts.length === 0) await parts.add(Buffer.concat(pending, pendingSize));
    await parts.finish();

    const etag = await completeUpload(s3, { bucket, key, uploadId, checksumAlgorithm }, state.parts, signal);
    return {
      etag,
      size: state.parts.reduce((sum, part) => sum + part.size, 0),
      parts: state.parts.length,
    };
  } catch (err) {
    // No part may still be on its way when the upload is aborted (it would outlive the abort).
    await parts.settle();
    // The original error says what went wrong; a failed abort must not replace it.
    if (!options.keepOnFailure) await abortMultipartUpload(s3, bucket, key, uploadId).catch(() => undefined);
    throw err;
  }
}

/** An upload's coordinates, as every part request and the completion name them. */
export interface UploadRef {
  bucket: string;
  key: string;
  uploadId: string;
  checksumAlgorithm?: PartChecksumAlgorithm;
}

/** Starts a multipart upload; resolves with its UploadId. */
export async function createUpload(
  s3: S3Client,
  o: {
    bucket: string;
    key: string;
    contentType?: string;
    checksumAlgorithm?: PartChecksumAlgorithm;
    signal?: AbortSignal;
  },
): Promise<string> {
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: o.bucket,
      Key: o.key,
      ContentType: o.contentType,
      ChecksumAlgorithm: o.checksumAlgorithm,
    }),
    { abortSignal: o.signal },
  );
  if (!UploadId) throw new Error(`S3 returned no UploadId for s3://${o.bucket}/${o.key}`);
  return UploadId;
}

/** Stores `body` as part `partNumber`, with the upload's checksum (S3 verifies it). */
export async function uploadPart(
  s3: S3Client,
  upload: UploadRef,
  partNumber: number,
  body: Uint8Array,
): Promise<UploadedPart> {
  const { bucket, key, uploadId, checksumAlgorithm } = upload;
  const checksum = checksumAlgorithm ? partChecksum(checksumAlgorithm, body) : undefined;
  const { ETag } = await s3.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      PartNumber: partNumber,
      Body: body,
      ...checksumFields(checksumAlgorithm, checksum),
    }),
    // No abort signal: a part request dropped by the client may still be stored by the server
    // after the upload is aborted, which brings the upload back (AWS documents the same race).
    // Cancellation stops sending new parts and waits for these to end (at most a part's upload
    // time, or the client's idle timeout for a stalled one); only then is the upload aborted.
  );
  if (!ETag) throw new Error(`S3 returned no ETag for part ${partNumber} of s3://${bucket}/${key}`);
  return { PartNumber: partNumber, ETag, size: body.byteLength, ...(checksum ? { checksum } : {}) };
}

/** Completes an upload from `parts` (in part-number order); resolves with the object's ETag. */
export async function completeUpload(
  s3: S3Client,
  upload: UploadRef,
  parts: readonly UploadedPart[],
  signal?: AbortSignal,
): Promise<string> {
  const done = await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: upload.bucket,
      Key: upload.key,
      UploadId: upload.uploadId,
      MultipartUpload: {
        Parts: parts.map(({ PartNumber, ETag, checksum }) => ({
          PartNumber,
          ETag,
          ...checksumFields(upload.checksumAlgorithm, checksum),
        })),
      },
    }),
    { abortSignal: signal },
  );
  return done.ETag ?? '';
}

/**
 * Sends parts with bounded concurrency and reports, in part-number order, each newly unbroken run
 * of stored parts. The first failure stops it: {@link add} and {@link finish} reject with it.
 */
interface PartSenderOptions {
  firstPartNumber: number;
  concurrency: number;
  send: (partNumber: number, body: Buffer) => Promise<UploadedPart>;
  /** Called with each newly unbroken run of stored parts, in order, one call at a time. */
  onStored: (parts: UploadedPart[]) => Promise<void>;
}

class PartSender {
  readonly #options: PartSenderOptions;
  #nextPartNumber: number;
  /** The first part number not yet reported: every part before it is stored and reported. */
  #nextToReport: number;
  readonly #storedAhead = new Map<number, UploadedPart>();
  readonly #inFlight = new Set<Promise<void>>();
  /** Reports run one after another, in order. */
  #reporting: Promise<void> = Promise.resolve();
  #failure: { error: unknown } | undefined;

  constructor(options: PartSenderOptions) {
    this.#options = options;
    this.#nextPartNumber = options.firstPartNumber;
    this.#nextToReport = options.firstPartNumber;
  }

  /** Parts handed to {@link add} so far. */
  get count(): number {
    return this.#nextPartNumber - this.#options.firstPartNumber;
  }

  /** Starts sending `body` as the next part; resolves once there is room for another. */
  async add(body: Buffer): Promise<void> {
    this.#throwIfFailed();
    const partNumber = this.#nextPartNumber++;
    if (partNumber > MAX_PARTS) throw new RangeError(`more than ${MAX_PARTS} parts: raise partSize`);
    const sending: Promise<void> = this.#options
      .send(partNumber, body)
      .then((part) => this.#stored(part))
      .catch((error: unknown) => {
        this.#failure ??= { error };
      })
      .finally(() => this.#inFlight.delete(sending));
    this.#inFlight.add(sending);
    while (this.#inFlight.size >= this.#options.concurrency) await Promise.race(this.#inFlight);
    this.#throwIfFailed();
  }

  /** Waits for every part and report; rejects with the first failure. */
  async finish(): Promise<void> {
    await this.settle();
    this.#throwIfFailed();
  }

  /** Waits until nothing is in flight, whatever the outcome. */
  async settle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    await this.#reporting.catch(() => undefined);
  }

  #stored(part: UploadedPart): Promise<void> {
    this.#storedAhead.set(part.PartNumber, part);
    const run: UploadedPart[] = [];
    for (let next = this.#storedAhead.get(this.#nextToReport); next; next = this.#storedAhead.get(this.#nextToReport)) {
      this.#storedAhead.delete(this.#nextToReport++);
      run.push(next);
    }
    if (run.length > 0) this.#reporting = this.#reporting.then(() => this.#options.onStored(run));
    return this.#reporting;
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure.error;
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
