/**
 * Integrity checks computed while a product streams to its sink, in one pass, so nothing is read
 * back: sha256 and size, the size against what the server (`Content-Length`) and the Hook item
 * (`ProcessedSize`) announced, a sniff of the first bytes that rejects HTML/XML/JSON error pages,
 * a minimum size, and the streaming zip verifier. The same verifier serves a local file and an S3
 * upload: feed it the chunks on their way ({@link ProductVerifier.through} or
 * {@link ProductVerifier.transform}) and commit only after {@link ProductVerifier.finish} resolves.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform } from 'node:stream';
import {
  ChecksumMismatchError,
  CorruptZipError,
  ErrorPageError,
  type SizeSource,
  SizeMismatchError,
  TooSmallError,
} from './errors';
import { redactText } from '../shared/redact';
import { ZipStreamVerifier } from './zip-verify';

/** Below this many bytes a body is not a product (an empty zip is 22 bytes, an error page a few hundred). */
export const DEFAULT_MIN_PRODUCT_SIZE = 1024;

/** How many leading bytes are inspected to recognise an error page. */
const SNIFF_BYTES = 512;

/** What is known in advance about the product; every field is optional (unknown = not checked). */
export interface ProductExpectations {
  /**
   * Total length of the product announced by the server: `Content-Length` of a full response, or
   * the total after the slash of a `Content-Range`. Null or undefined when unknown (chunked).
   */
  contentLength?: number | null;
  /** The Hook order item's `ProcessedSize`, in bytes. */
  processedSize?: number | null;
  /** Smallest acceptable product, in bytes (default {@link DEFAULT_MIN_PRODUCT_SIZE}; 0 disables). */
  minSize?: number;
  /** Check the body as a zip archive (default true). */
  zip?: boolean;
  /** The response `Content-Type`, used to explain (not to decide) an error page. */
  contentType?: string | null;
  /** A published sha256 (hex) to compare with, e.g. a STAC `file:checksum`. */
  sha256?: string | null;
  /** Most zip entries accepted (see {@link ZipStreamVerifier}). */
  maxZipEntries?: number;
}

export type CheckName =
  | 'content-length'
  | 'processed-size'
  | 'not-an-error-page'
  | 'min-size'
  | 'zip-entries-crc32'
  | 'zip-central-directory'
  | 'sha256-published';

/** One check in a verification record: what was checked and how it came out. */
export interface VerificationCheck {
  name: CheckName;
  /** Failed checks throw, so a record only holds checks that passed or could not run. */
  status: 'passed' | 'skipped';
  detail: string;
}

/** What was proven about one delivered product; stored in the manifest and the ledger. */
export interface VerificationRecord {
  /** Lowercase hex sha256 of the whole product. */
  sha256: string;
  /** Bytes in the product. */
  size: number;
  /** Entries in the zip, or null when the body was not checked as a zip. */
  zipEntries: number | null;
  checks: VerificationCheck[];
  /** ISO-8601 time the last check passed. */
  verifiedAt: string;
}

/**
 * Verifies one product as its bytes pass by. Feed every chunk in order with {@link write}, then
 * call {@link finish}; both reject with an {@link IntegrityError} subclass as soon as the bytes
 * are proven wrong, so a caller aborts the transfer early (an error page is recognised within
 * its first 512 bytes, an oversized body at the first byte too many).
 */
export class ProductVerifier {
  readonly #expect: ProductExpectations;
  readonly #hash: Hash = createHash('sha256');
  readonly #zip: ZipStreamVerifier | undefined;
  readonly #now: () => Date;
  #size = 0;
  #head: Buffer[] = [];
  #headSize = 0;
  #sniffed = false;
  #result: VerificationRecord | undefined;
  #failure: unknown;

  constructor(expect: ProductExpectations = {}, options: { now?: () => Date } = {}) {
    for (const [field, value] of [
      ['contentLength', expect.contentLength],
      ['processedSize', expect.processedSize],
      ['minSize', expect.minSize],
    ] as const) {
      if (value != null && !(Number.isSafeInteger(value) && value >= 0)) {
        throw new RangeError(`${field} must be a non-negative integer, got ${String(value)}`);
      }
    }
    this.#expect = expect;
    this.#now = options.now ?? (() => new Date());
    this.#zip = expect.zip === false ? undefined : new ZipStreamVerifier({ maxEntries: expect.maxZipEntries });
  }

  /** Bytes seen so far. */
  get size(): number {
    return this.#size;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (this.#result) throw new Error('ProductVerifier.write() after finish()');
    try {
      this.#size += chunk.byteLength;
      this.#checkNotTooBig();
      this.#hash.update(chunk);
      if (!this.#sniffed) {
        // Copied: the caller may reuse its buffer once write() resolves.
        this.#head.push(Buffer.from(chunk));
        this.#headSize += chunk.byteLength;
        if (this.#headSize < SNIFF_BYTES) return; // zip checks wait until the error-page sniff has run
        this.#sniff();
        const head = this.#head;
        this.#head = [];
        for (const part of head) await this.#zip?.write(part);
        return;
      }
      await this.#zip?.write(chunk);
    } catch (err) {
      this.#fail(err);
    }
  }

  /** Call after the last byte. Resolves with the verification record, or rejects with the first failed check. */
  async finish(): Promise<VerificationRecord> {
    if (this.#failure) throw this.#failure;
    if (this.#result) return this.#result;
    try {
      const checks: VerificationCheck[] = [];
      if (!this.#sniffed) {
        this.#sniff();
        for (const part of this.#head) await this.#zip?.write(part);
        this.#head = [];
      }
      checks.push({
        name: 'not-an-error-page',
        status: 'passed',
        detail: 'body does not start like HTML, XML or JSON',
      });
      checks.push(this.#checkSize('content-length', 'Content-Length', this.#expect.contentLength));
      checks.push(this.#checkSize('processed-size', 'ProcessedSize', this.#expect.processedSize));

      const minSize = this.#expect.minSize ?? DEFAULT_MIN_PRODUCT_SIZE;
      if (this.#size < minSize) throw new TooSmallError(minSize, this.#size);
      checks.push(
        minSize > 0
          ? { name: 'min-size', status: 'passed', detail: `${this.#size} >= ${minSize} bytes` }
          : { name: 'min-size', status: 'skipped', detail: 'no minimum size' },
      );

      let zipEntries: number | null = null;
      if (this.#zip) {
        const zip = await this.#zip.finish();
        if (zip.entries === 0) throw new CorruptZipError('archive has no entries', 0);
        zipEntries = zip.entries;
        checks.push({
          name: 'zip-entries-crc32',
          status: 'passed',
          detail: `${zip.entries} entries, ${zip.uncompressedSize} bytes uncompressed, every CRC-32 and size matches`,
        });
        checks.push({
          name: 'zip-central-directory',
          status: 'passed',
          detail:
            `${zip.centralDirectorySize} bytes at offset ${zip.centralDirectoryOffset}${zip.zip64 ? ' (ZIP64)' : ''} ` +
            `agree with the entries and the archive length`,
        });
      }

      const sha256 = this.#hash.digest('hex');
      const published = this.#expect.sha256?.toLowerCase();
      if (published) {
        if (published !== sha256) throw new ChecksumMismatchError('sha256', published, sha256);
        checks.push({ name: 'sha256-published', status: 'passed', detail: 'equals the published sha256' });
      }
      this.#result = { sha256, size: this.#size, zipEntries, checks, verifiedAt: this.#now().toISOString() };
      return this.#result;
    } catch (err) {
      this.#fail(err);
    }
  }

  /** Stops verification early (transfer cancelled); releases the zip inflater. */
  dispose(): void {
    this.#zip?.dispose();
  }

  /**
   * Passes `source` through, verifying every chunk before it is yielded; after the last chunk it
   * runs {@link finish}, so a consumer that reads to the end (an S3 upload, a file writer) sees
   * the failure before it commits anything.
   */
  async *through(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array, VerificationRecord, undefined> {
    try {
      for await (const chunk of source) {
        await this.write(chunk);
        yield chunk;
      }
      return await this.finish();
    } finally {
      if (!this.#result) this.dispose();
    }
  }

  /** The same as {@link through}, as a Transform for `stream.pipeline`. */
  transform(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        this.write(chunk).then(() => callback(null, chunk), callback);
      },
      flush: (callback) => {
        this.finish().then(() => callback(), callback);
      },
      destroy: (err, callback) => {
        if (!this.#result) this.dispose();
        callback(err);
      },
    });
  }

  /** The record of a finished verification. */
  get result(): VerificationRecord | undefined {
    return this.#result;
  }

  #fail(err: unknown): never {
    this.#failure = err;
    this.dispose();
    throw err;
  }

  #checkNotTooBig(): void {
    const { contentLength, processedSize } = this.#expect;
    if (contentLength != null && this.#size > contentLength) {
      throw new SizeMismatchError('Content-Length', contentLength, this.#size, true);
    }
    if (processedSize != null && this.#size > processedSize) {
      throw new SizeMismatchError('ProcessedSize', processedSize, this.#size, true);
    }
  }

  #checkSize(name: CheckName, source: SizeSource, expected: number | null | undefined): VerificationCheck {
    if (expected == null) return { name, status: 'skipped', detail: `${source} unknown` };
    if (expected !== this.#size) throw new SizeMismatchError(source, expected, this.#size);
    return { name, status: 'passed', detail: `${this.#size} bytes as announced` };
  }

  #sniff(): void {
    this.#sniffed = true;
    const head = Buffer.concat(this.#head).subarray(0, SNIFF_BYTES);
    const kind = errorPageKind(head);
    if (kind) {
      throw new ErrorPageError(kind, excerpt(head), this.#expect.contentType ?? undefined);
    }
  }
}

/** Recognises the start of a document that is not a product: HTML, XML (S3 errors) or JSON. */
export function errorPageKind(head: Uint8Array): 'html' | 'xml' | 'json' | undefined {
  let text = Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('latin1');
  // UTF-8 byte-order mark as Latin-1, then leading whitespace.
  if (text.startsWith('\xef\xbb\xbf')) text = text.slice(3);
  text = text.trimStart();
  const lower = text.slice(0, 64).toLowerCase();
  if (
    lower.startsWith('<!doctype html') ||
    lower.startsWith('<html') ||
    lower.startsWith('<head') ||
    lower.startsWith('<body')
  ) {
    return 'html';
  }
  if (lower.startsWith('<?xml') || /^<[a-z_][\w:.-]*[\s>/]/.test(lower)) {
    return /<html[\s>]/.test(text.slice(0, SNIFF_BYTES).toLowerCase()) ? 'html' : 'xml';
  }
  if (/^[{[]\s*["{[\]}]/.test(text) || text === '{' || text === '[') return 'json';
  return undefined;
}

/** A short printable start of the body for the error message, with signed URL parameters removed. */
function excerpt(head: Buffer): string {
  const text = head
    .subarray(0, 200)
    .toString('utf8')
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return redactText(text).slice(0, 160);
}
