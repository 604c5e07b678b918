/**
 * Parallel ranged delivery into an S3 sink: one range = one multipart part (part number = range
 * index + 1, so every range but the last is at least S3's 5 MiB). A range is received into memory,
 * stored as its part with its SHA-256 checksum (S3 verifies it), and kept in memory until the
 * in-order verifier has consumed it: sha256, sizes, error-page sniff and zip walk are exactly a
 * single stream's, over the bytes in byte order. A {@link RangeWindow} bounds the ranges held:
 * memory ≤ (⌊{@link RANGES_IN_MEMORY_BYTES} / range⌋ + 1) × range per delivery (about 64 MiB + one
 * range), however slow the first range is.
 *
 * Resume: the heartbeat carries the upload (`S3UploadCheckpoint`, its parts need not be contiguous)
 * beside the range map; S3Sink.prepareResume confirms the parts with ListParts and
 * {@link rangesStoredIn} keeps the ranges whose part is listed with its range's size, so only the
 * others are fetched. The verifier cannot see those earlier parts (S3 serves no part of an
 * unfinished upload, and Node's hash and inflate states cannot be saved), and fetching them again
 * from the origin would cost the slow link the resume saves; so a resumed upload checks every
 * range's exact length while streaming, completes, and reads the object back once through the full
 * verifier (one read from the bucket, usually far cheaper), deleting it when it fails — the
 * single-stream S3 sink's rule for a resumed upload.
 *
 * Failure: the caller aborts the upload (bad bytes, cancellation, the last attempt) or keeps it
 * for the next attempt; {@link S3RangedUpload.abort} first waits for parts still being stored (a
 * part stored after the abort would bring the upload back).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { SizeMismatchError } from './errors';
import { type ProductExpectations, ProductVerifier, type VerificationRecord } from './integrity';
import { RangeLayout, type RangeMap, type RangeSink, type RangeTarget, formatRanges, parseRanges } from './range-sink';
import { RangeWindow } from './range-window';
import {
  MAX_PARTS,
  MIN_PART_SIZE,
  type UploadRef,
  type UploadedPart,
  abortMultipartUpload,
  completeUpload,
  createUpload,
  uploadPart,
} from './s3-multipart';
import { type S3UploadCheckpoint, readBackVerified } from './s3-sink';

/** Bytes of ranges one delivery holds in memory at most (plus the one the verifier needs next). */
export const RANGES_IN_MEMORY_BYTES = 64 * 1024 * 1024;
/** Bytes handed to the verifier at a time. */
const VERIFY_CHUNK = 1024 * 1024;
/** A range in progress reports its progress every this many bytes. */
const PROGRESS_BYTES = 1024 * 1024;

export interface S3RangedUploadOptions {
  s3: S3Client;
  bucket: string;
  key: string;
  /** A checkpoint S3Sink.prepareResume confirmed: its upload and parts are reused. */
  resume?: S3UploadCheckpoint;
  /** Bytes of ranges held in memory at most (default {@link RANGES_IN_MEMORY_BYTES}). */
  memoryBytes?: number;
  /** Told when the upload is created and after each stored part (heartbeat {@link S3RangedUpload.checkpoint}). */
  onStored?: () => void;
}

/** The ranges of `map` whose part `parts` (as ListParts confirmed them) holds with exactly its range's size. */
export function rangesStoredIn(map: RangeMap, parts: readonly UploadedPart[]): RangeMap {
  const count = Math.ceil(map.size / map.rangeBytes);
  const claimed = parseRanges(map.done, count);
  const stored = parts
    .map((part) => ({ index: part.PartNumber - 1, size: part.size }))
    .filter(
      ({ index, size }) =>
        claimed.has(index) && size === Math.min(map.size, (index + 1) * map.rangeBytes) - index * map.rangeBytes,
    )
    .map(({ index }) => index);
  return { ...map, done: formatRanges(stored) };
}

/** One product's multipart upload, filled range by range ({@link RangeTarget}). */
export class S3RangedUpload implements RangeTarget {
  readonly minRangeBytes = MIN_PART_SIZE;
  readonly #o: S3RangedUploadOptions;
  #ref: UploadRef | undefined;
  #creating: Promise<UploadRef> | undefined;
  /** Stored parts by part number. */
  readonly #parts = new Map<number, UploadedPart>();
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(options: S3RangedUploadOptions) {
    this.#o = options;
    const resume = options.resume;
    if (resume) {
      this.#ref = {
        bucket: resume.bucket,
        key: resume.key,
        uploadId: resume.uploadId,
        checksumAlgorithm: resume.checksumAlgorithm,
      };
      for (const part of resume.parts) this.#parts.set(part.PartNumber, part);
    }
  }

  get location(): string {
    return `s3://${this.#o.bucket}/${this.#o.key}`;
  }

  /** The parts a confirmed resume brought (for {@link rangesStoredIn}). */
  get resumedParts(): UploadedPart[] {
    return this.#o.resume?.parts ?? [];
  }

  /** The upload as a heartbeat carries it; undefined before it is created. */
  checkpoint(): S3UploadCheckpoint | undefined {
    if (!this.#ref) return undefined;
    const parts = [...this.#parts.values()].sort((a, b) => a.PartNumber - b.PartNumber).map((part) => ({ ...part }));
    return {
      bucket: this.#ref.bucket,
      key: this.#ref.key,
      uploadId: this.#ref.uploadId,
      ...(this.#ref.checksumAlgorithm ? { checksumAlgorithm: this.#ref.checksumAlgorithm } : {}),
      parts,
      bytes: parts.reduce((sum, part) => sum + part.size, 0),
    };
  }

  /** Every range is fetched again: the parts stored so far no longer count (the same numbers are overwritten). */
  async restart(): Promise<void> {
    this.#parts.clear();
  }

  open(size: number, rangeBytes: number, done: Set<number>, expect: ProductExpectations): RangeSink {
    if (Math.ceil(size / rangeBytes) > MAX_PARTS) {
      throw new RangeError(
        `${size} bytes in ${rangeBytes}-byte ranges is more than ${MAX_PARTS} parts: raise DEDL_RANGE_BYTES`,
      );
    }
    for (const number of [...this.#parts.keys()]) if (!done.has(number - 1)) this.#parts.delete(number);
    const limit = Math.max(1, Math.floor((this.#o.memoryBytes ?? RANGES_IN_MEMORY_BYTES) / rangeBytes));
    return new S3RangeSink(this, size, rangeBytes, done, expect, limit);
  }

  /** Stores range `index` as part `index + 1` (creating the upload first, once). */
  async store(index: number, body: Buffer): Promise<void> {
    const sending = (async () => {
      const ref = await (this.#creating ??= this.#create());
      const part = await uploadPart(this.#o.s3, ref, index + 1, body);
      this.#parts.set(part.PartNumber, part);
      this.#o.onStored?.();
    })();
    this.#inFlight.add(sending);
    try {
      await sending;
    } finally {
      this.#inFlight.delete(sending);
    }
  }

  /** Completes the upload from parts 1..count; resolves with the object's ETag. */
  async complete(count: number): Promise<string> {
    const parts = Array.from({ length: count }, (_, i) => this.#parts.get(i + 1));
    const missing = parts.findIndex((part) => !part);
    if (missing >= 0 || !this.#ref) throw new Error(`range ${missing} of ${this.location} was never stored`);
    return completeUpload(this.#o.s3, this.#ref, parts as UploadedPart[]);
  }

  /** Verifies the completed object by reading it back (a resumed upload), deleting it if it fails. */
  readBack(etag: string, expect: ProductExpectations): Promise<VerificationRecord> {
    return readBackVerified(this.#o.s3, { bucket: this.#o.bucket, key: this.#o.key, etag }, expect, undefined);
  }

  /** Aborts the upload (if there is one) once no part is on its way; nothing is left to bill. */
  async abort(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    await this.#creating?.catch(() => undefined);
    const ref = this.#ref;
    this.#ref = undefined;
    this.#creating = undefined;
    this.#parts.clear();
    if (ref) await abortMultipartUpload(this.#o.s3, ref.bucket, ref.key, ref.uploadId);
  }

  async #create(): Promise<UploadRef> {
    if (this.#ref) return this.#ref;
    const { s3, bucket, key } = this.#o;
    const uploadId = await createUpload(s3, {
      bucket,
      key,
      contentType: 'application/zip',
      checksumAlgorithm: 'SHA256',
    });
    this.#ref = { bucket, key, uploadId, checksumAlgorithm: 'SHA256' };
    this.#o.onStored?.();
    return this.#ref;
  }
}

/** One attempt's ranges into the upload: held in memory until verified in byte order and stored. */
class S3RangeSink extends RangeLayout implements RangeSink {
  readonly #upload: S3RangedUpload;
  readonly #expect: ProductExpectations;
  /** Undefined on a resumed upload: the object is verified by reading it back after completion. */
  readonly #verifier: ProductVerifier | undefined;
  readonly #window: RangeWindow;
  /** Received ranges the verifier has not consumed yet. */
  readonly #held = new Map<number, Buffer>();
  /** Each range's buffer while it is held; released full-size ones are reused (no 8 MiB of garbage per range). */
  readonly #buffers = new Map<number, Buffer>();
  readonly #spare: Buffer[] = [];
  readonly #limit: number;
  /** Ranges before this one have been verified. */
  #verified = 0;
  #verifying: Promise<VerificationRecord | undefined> | undefined;
  #wake: (() => void) | undefined;
  #stopped: unknown;

  constructor(
    upload: S3RangedUpload,
    size: number,
    rangeBytes: number,
    done: Set<number>,
    expect: ProductExpectations,
    limit: number,
  ) {
    super(size, rangeBytes, done);
    this.#upload = upload;
    this.#expect = expect;
    this.#verifier = this.done.size === 0 ? new ProductVerifier(expect) : undefined;
    this.#window = new RangeWindow(limit);
    this.#limit = limit;
    if (!this.#verifier) this.#window.advance(this.count);
  }

  admit(index: number, signal: AbortSignal): Promise<void> {
    return this.#window.admit(index, signal);
  }

  async writeRange(index: number, body: AsyncIterable<Uint8Array>, onLanded?: () => void): Promise<void> {
    const { start, end } = this.span(index);
    const length = end - start + 1;
    const buffer = (length === this.rangeBytes && this.#spare.pop()) || Buffer.allocUnsafe(length);
    this.#buffers.set(index, buffer);
    let received = 0;
    let told = 0;
    try {
      for await (const chunk of body) {
        if (this.#stopped) throw this.#stopped;
        if (received + chunk.byteLength > length) {
          throw new SizeMismatchError('Content-Length', length, received + chunk.byteLength, true);
        }
        buffer.set(chunk, received);
        received += chunk.byteLength;
        this.landed.set(index, received);
        if (received - told >= PROGRESS_BYTES) {
          told = received;
          onLanded?.();
        }
      }
      if (received !== length) throw new SizeMismatchError('Content-Length', length, received);
      if (this.#verifier) {
        this.#held.set(index, buffer);
        this.#wake?.();
      }
      await this.#upload.store(index, buffer);
    } catch (err) {
      this.landed.delete(index);
      this.#held.delete(index);
      this.#buffers.delete(index); // not reused: the verifier may still be reading it
      this.#window.release(index);
      throw err;
    }
    this.landed.delete(index);
    this.done.add(index);
    if (!this.#verifier || index < this.#verified) this.#release(index);
    onLanded?.();
  }

  verify(): Promise<VerificationRecord | undefined> {
    this.#verifying ??= this.#verifyLoop();
    return this.#verifying;
  }

  stop(reason: unknown): void {
    this.#stopped ??= reason;
    this.#wake?.();
  }

  dispose(): void {
    this.#verifier?.dispose();
    this.#held.clear();
    this.#buffers.clear();
    this.#spare.length = 0;
  }

  async commit(): Promise<VerificationRecord> {
    const verification = await this.verify();
    const etag = await this.#upload.complete(this.count);
    return verification ?? this.#upload.readBack(etag, this.#expect);
  }

  /** Range `index` is stored and verified: its buffer neither the upload nor the verifier reads any more. */
  #release(index: number): void {
    const buffer = this.#buffers.get(index);
    this.#buffers.delete(index);
    if (buffer?.byteLength === this.rangeBytes && this.#spare.length < this.#limit) this.#spare.push(buffer);
    this.#window.release(index);
  }

  async #verifyLoop(): Promise<VerificationRecord | undefined> {
    const verifier = this.#verifier;
    if (!verifier) return undefined;
    for (let index = 0; index < this.count; index++) {
      let buffer: Buffer | undefined;
      while (!(buffer = this.#held.get(index))) {
        if (this.#stopped) throw this.#stopped;
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
      }
      for (let at = 0; at < buffer.byteLength; at += VERIFY_CHUNK) {
        if (this.#stopped) throw this.#stopped;
        await verifier.write(buffer.subarray(at, at + VERIFY_CHUNK));
      }
      this.#held.delete(index);
      this.#verified = index + 1;
      this.#window.advance(this.#verified);
      if (this.done.has(index)) this.#release(index);
    }
    return verifier.finish();
  }
}
