/**
 * The S3 sink: a product streams into `s3://bucket/prefix/<safe name>` as a multipart upload with
 * a checksum on every part (S3 verifies each one), one part in memory at a time. After every part
 * the sink hands out a checkpoint (uploadId, completed parts with ETags, sizes and checksums) that
 * a caller can heartbeat; given that checkpoint back, {@link S3Sink.prepareResume} confirms with
 * ListParts that the parts are still there and says where the body must restart, or says to
 * restart from zero (and aborts the stale upload).
 *
 * Verification: a fresh upload is verified while it streams, and a product that fails is never
 * completed (the last part and CompleteMultipartUpload wait for the verifier's verdict). A resumed
 * upload cannot see the bytes of parts sent by an earlier attempt (S3 does not serve parts of an
 * unfinished upload, and hash states cannot be checkpointed), so it checks the sizes while
 * streaming and then reads the completed object back once through the full verifier; an object
 * that fails is deleted.
 *
 * Failure and cancellation abort the upload, so no parts are left to bill, unless the caller asks
 * to keep it for a resume; bad bytes and cancellation always abort.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListPartsCommand,
  type ListPartsCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { SizeMismatchError, isIntegrityError } from './errors';
import { type ProductExpectations, ProductVerifier, type VerificationRecord } from './integrity';
import { parseS3Url } from './s3-client';
import {
  MIN_PART_SIZE,
  type PartChecksumAlgorithm,
  type UploadedPart,
  abortMultipartUpload,
  multipartUpload,
} from './s3-multipart';
import { safeFileName } from './safe-name';

/** Everything needed to continue (or abort) an upload after a crash; plain JSON, safe to heartbeat. */
export interface S3UploadCheckpoint {
  bucket: string;
  key: string;
  uploadId: string;
  checksumAlgorithm?: PartChecksumAlgorithm;
  parts: UploadedPart[];
  /** Bytes in `parts`: where the body must resume. */
  bytes: number;
}

export interface S3SinkOptions {
  s3: S3Client;
  bucket: string;
  /** Key prefix without a trailing slash ('' for the bucket root). */
  prefix: string;
  /** Part size in bytes (default 16 MiB; at least 5 MiB). */
  partSize?: number;
  /** Parts uploaded at once (default 4); up to this many parts plus one are held in memory. */
  partConcurrency?: number;
  /** Per-part checksum S3 verifies (default SHA256). */
  checksumAlgorithm?: PartChecksumAlgorithm;
}

export interface S3UploadOptions {
  /** What to check; `false` uploads without verification (no record is returned). */
  expect?: ProductExpectations | false;
  /** A checkpoint confirmed by {@link S3Sink.prepareResume}; the body must start at its `bytes`. */
  resume?: S3UploadCheckpoint;
  /** Called when the upload is created and after each part, with a checkpoint to save. */
  onCheckpoint?: (checkpoint: S3UploadCheckpoint) => void | Promise<void>;
  /** Called with the bytes read so far (including resumed ones) as the body streams. */
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
  /**
   * Keep the multipart upload after a failure other than bad bytes or cancellation, so a retry
   * can resume it (default false). A function decides per error.
   */
  keepForResume?: boolean | ((err: unknown) => boolean);
  contentType?: string;
}

/** A product stored in S3. */
export interface S3Delivery {
  /** `s3://bucket/key` */
  location: string;
  bucket: string;
  key: string;
  etag: string;
  size: number;
  /** Bytes that came from an earlier attempt's parts. */
  resumedFrom: number;
  /** How the verification record was obtained: while streaming, or by reading the object back after a resume. */
  verifiedBy: 'stream' | 'read-back' | null;
  verification: VerificationRecord | null;
}

/** Where to start the body: from `offset`, continuing `checkpoint`, or from zero with a fresh upload. */
export interface S3ResumePoint {
  offset: number;
  checkpoint?: S3UploadCheckpoint;
  /** Why a checkpoint could not be used. */
  restartReason?: string;
}

export class S3Sink {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  readonly partSize: number;
  readonly partConcurrency: number | undefined;
  readonly checksumAlgorithm: PartChecksumAlgorithm;

  constructor(options: S3SinkOptions) {
    this.s3 = options.s3;
    this.bucket = options.bucket;
    this.prefix = options.prefix.replace(/^\/+|\/+$/g, '');
    this.partSize = options.partSize ?? 16 * 1024 * 1024;
    if (this.partSize < MIN_PART_SIZE) throw new RangeError(`partSize must be at least ${MIN_PART_SIZE} bytes`);
    this.partConcurrency = options.partConcurrency;
    this.checksumAlgorithm = options.checksumAlgorithm ?? 'SHA256';
  }

  /** A sink for `s3://bucket/prefix`. */
  static fromUrl(s3: S3Client, url: string, options: Omit<S3SinkOptions, 's3' | 'bucket' | 'prefix'> = {}): S3Sink {
    return new S3Sink({ s3, ...parseS3Url(url), ...options });
  }

  /** The object key a product name maps to (the name made safe, under the prefix). */
  keyFor(name: string): string {
    const fileName = safeFileName(name);
    return this.prefix ? `${this.prefix}/${fileName}` : fileName;
  }

  locationFor(name: string): string {
    return `s3://${this.bucket}/${this.keyFor(name)}`;
  }

  /**
   * Checks a saved checkpoint against the server. Every checkpointed part must still be listed
   * with the same ETag, size and checksum; then the body resumes at `offset`. Otherwise the old
   * upload is aborted (best effort) and the answer is to start from zero.
   */
  async prepareResume(name: string, checkpoint: S3UploadCheckpoint | undefined): Promise<S3ResumePoint> {
    if (!checkpoint) return { offset: 0 };
    const restart = async (reason: string): Promise<S3ResumePoint> => {
      await abortMultipartUpload(this.s3, checkpoint.bucket, checkpoint.key, checkpoint.uploadId).catch(
        () => undefined,
      );
      return { offset: 0, restartReason: reason };
    };
    if (checkpoint.bucket !== this.bucket || checkpoint.key !== this.keyFor(name)) {
      return restart(
        `the checkpoint is for s3://${checkpoint.bucket}/${checkpoint.key}, not ${this.locationFor(name)}`,
      );
    }
    let listed: Map<number, NonNullable<ListPartsCommandOutput['Parts']>[number]>;
    try {
      listed = await this.#listParts(checkpoint);
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchUpload')
        return { offset: 0, restartReason: 'the upload no longer exists' };
      throw err;
    }
    for (const part of checkpoint.parts) {
      const found = listed.get(part.PartNumber);
      const checksum = found && (checkpoint.checksumAlgorithm === 'CRC32' ? found.ChecksumCRC32 : found.ChecksumSHA256);
      if (
        !found ||
        found.ETag !== part.ETag ||
        found.Size !== part.size ||
        (part.checksum && checksum !== part.checksum)
      ) {
        return restart(`part ${part.PartNumber} is ${found ? 'not the one that was checkpointed' : 'missing'}`);
      }
    }
    const bytes = checkpoint.parts.reduce((sum, part) => sum + part.size, 0);
    if (bytes !== checkpoint.bytes)
      return restart(`the checkpoint's parts add up to ${bytes} bytes, not ${checkpoint.bytes}`);
    return { offset: bytes, checkpoint };
  }

  /**
   * Streams `body` into the product's key. With `resume`, `body` must start at `resume.bytes`.
   * Resolves once the object is complete and verified.
   */
  async upload(name: string, body: AsyncIterable<Uint8Array>, options: S3UploadOptions = {}): Promise<S3Delivery> {
    const key = this.keyFor(name);
    const resume = options.resume;
    if (resume && (resume.key !== key || resume.bucket !== this.bucket)) {
      throw new Error(`cannot resume s3://${resume.bucket}/${resume.key} as ${this.locationFor(name)}`);
    }
    const resumedFrom = resume?.bytes ?? 0;
    const expect = options.expect === false ? undefined : (options.expect ?? {});
    const verifier = expect && resumedFrom === 0 ? new ProductVerifier(expect) : undefined;

    let uploadId = resume?.uploadId;
    const counted = countBytes(body, resumedFrom, {
      onTotal: (total) => {
        if (expect && resumedFrom > 0) checkNotBeyond(expect, total);
        options.onProgress?.(total);
      },
      // Runs when the body ends, before the last part and CompleteMultipartUpload are sent.
      atEnd: (total) => {
        if (expect && resumedFrom > 0) checkComplete(expect, total);
      },
    });
    try {
      options.signal?.throwIfAborted();
      const result = await multipartUpload({
        s3: this.s3,
        bucket: this.bucket,
        key,
        body: verifier ? verifier.through(counted) : counted,
        partSize: this.partSize,
        partConcurrency: this.partConcurrency,
        contentType: options.contentType ?? 'application/zip',
        checksumAlgorithm: this.checksumAlgorithm,
        resume: resume && {
          uploadId: resume.uploadId,
          parts: resume.parts,
          checksumAlgorithm: resume.checksumAlgorithm,
        },
        signal: options.signal,
        keepOnFailure: true, // this sink decides below, once it knows why the upload failed
        onCreate: async (id) => {
          uploadId = id;
          await options.onCheckpoint?.(this.#checkpoint(key, id, []));
        },
        onPart: async (state) => {
          await options.onCheckpoint?.(this.#checkpoint(key, state.uploadId, state.parts, state.checksumAlgorithm));
        },
      });

      const delivery: S3Delivery = {
        location: `s3://${this.bucket}/${key}`,
        bucket: this.bucket,
        key,
        etag: result.etag,
        size: result.size,
        resumedFrom,
        verifiedBy: verifier ? 'stream' : null,
        verification: verifier?.result ?? null,
      };
      if (expect && resumedFrom > 0) {
        delivery.verification = await readBackVerified(
          this.s3,
          { bucket: this.bucket, key, etag: result.etag },
          expect,
          options.signal,
        );
        delivery.verifiedBy = 'read-back';
      }
      return delivery;
    } catch (err) {
      verifier?.dispose();
      const keep =
        !isIntegrityError(err) &&
        !options.signal?.aborted &&
        (typeof options.keepForResume === 'function' ? options.keepForResume(err) : (options.keepForResume ?? false));
      if (!keep && uploadId) await abortMultipartUpload(this.s3, this.bucket, key, uploadId).catch(() => undefined);
      throw err;
    }
  }

  /** Aborts the upload a checkpoint describes (cancellation after a crash); no-op if it is gone. */
  async abort(checkpoint: S3UploadCheckpoint): Promise<void> {
    await abortMultipartUpload(this.s3, checkpoint.bucket, checkpoint.key, checkpoint.uploadId);
  }

  #checkpoint(
    key: string,
    uploadId: string,
    parts: UploadedPart[],
    checksumAlgorithm: PartChecksumAlgorithm | undefined = this.checksumAlgorithm,
  ): S3UploadCheckpoint {
    return {
      bucket: this.bucket,
      key,
      uploadId,
      ...(checksumAlgorithm ? { checksumAlgorithm } : {}),
      parts: parts.map((part) => ({ ...part })),
      bytes: parts.reduce((sum, part) => sum + part.size, 0),
    };
  }

  async #listParts(
    checkpoint: S3UploadCheckpoint,
  ): Promise<Map<number, NonNullable<ListPartsCommandOutput['Parts']>[number]>> {
    const parts = new Map<number, NonNullable<ListPartsCommandOutput['Parts']>[number]>();
    let marker: string | undefined;
    for (;;) {
      const page = await this.s3.send(
        new ListPartsCommand({
          Bucket: checkpoint.bucket,
          Key: checkpoint.key,
          UploadId: checkpoint.uploadId,
          PartNumberMarker: marker,
        }),
      );
      for (const part of page.Parts ?? []) if (part.PartNumber !== undefined) parts.set(part.PartNumber, part);
      if (!page.IsTruncated || !page.NextPartNumberMarker || page.NextPartNumberMarker === marker) return parts;
      marker = page.NextPartNumberMarker;
    }
  }
}

/** Streams a completed object through the verifier; deletes it (if unchanged) when it fails. */
export async function readBackVerified(
  s3: S3Client,
  object: { bucket: string; key: string; etag: string },
  expect: ProductExpectations,
  signal: AbortSignal | undefined,
): Promise<VerificationRecord> {
  const { bucket, key, etag } = object;
  const verifier = new ProductVerifier(expect);
  try {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: etag }), {
      abortSignal: signal,
    });
    for await (const chunk of got.Body as AsyncIterable<Uint8Array>) await verifier.write(chunk);
    return await verifier.finish();
  } catch (err) {
    verifier.dispose();
    if (isIntegrityError(err)) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, IfMatch: etag })).catch(() => undefined);
    }
    throw err;
  }
}

/** Passes chunks through, reporting the running total (starting at `start`) and the end of the source. */
async function* countBytes(
  source: AsyncIterable<Uint8Array>,
  start: number,
  hooks: { onTotal: (total: number) => void; atEnd: (total: number) => void },
): AsyncGenerator<Uint8Array> {
  let total = start;
  for await (const chunk of source) {
    total += chunk.byteLength;
    hooks.onTotal(total);
    yield chunk;
  }
  hooks.atEnd(total);
}

/** On a resume only sizes can be checked while streaming; fail as soon as the body is too long. */
function checkNotBeyond(expect: ProductExpectations, total: number): void {
  if (expect.contentLength != null && total > expect.contentLength) {
    throw new SizeMismatchError('Content-Length', expect.contentLength, total, true);
  }
  if (expect.processedSize != null && total > expect.processedSize) {
    throw new SizeMismatchError('ProcessedSize', expect.processedSize, total, true);
  }
}

function checkComplete(expect: ProductExpectations, total: number): void {
  if (expect.contentLength != null && total !== expect.contentLength) {
    throw new SizeMismatchError('Content-Length', expect.contentLength, total);
  }
  if (expect.processedSize != null && total !== expect.processedSize) {
    throw new SizeMismatchError('ProcessedSize', expect.processedSize, total);
  }
}
