/**
 * Errors thrown by the storage layer when delivered bytes cannot be trusted. Every class has a
 * literal `name`: Temporal uses it as the failure `type` that retry policies match, so the names
 * are part of the wire contract. Messages say what was expected and what was found, and never
 * contain credentials or signed URL parameters (activity failures are stored in history).
 */

/** Base class of every "these bytes are not the product we expected" error. */
export abstract class IntegrityError extends Error {
  abstract override readonly name: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Where an expected size came from. */
export type SizeSource = 'Content-Length' | 'ProcessedSize';

/**
 * Thrown by the product verifier when the number of bytes received differs from a size announced
 * for the product: by the server (`Content-Length`, or the total of a `Content-Range`) or by the
 * Hook item (`ProcessedSize`). A body shorter than announced is a truncated transfer; longer means
 * the server sent something else. Thrown as soon as a body grows past the expected size.
 */
export class SizeMismatchError extends IntegrityError {
  override readonly name = 'SizeMismatchError' as const;

  constructor(
    readonly source: SizeSource,
    readonly expected: number,
    readonly actual: number,
    /** True when the error was raised before the end of the body (it had already grown too big). */
    readonly early = false,
  ) {
    super(
      actual < expected
        ? `body is truncated: expected ${expected} bytes (${source}), received ${actual}`
        : `body is larger than announced: expected ${expected} bytes (${source}), received ${early ? 'more than ' : ''}${actual}`,
    );
  }
}

/**
 * Thrown by the product verifier when the body is an HTML, XML or JSON document (a login page,
 * an S3 or proxy error, an API error) instead of a product. `excerpt` is the start of the body
 * with URLs' query strings removed.
 */
export class ErrorPageError extends IntegrityError {
  override readonly name = 'ErrorPageError' as const;

  constructor(
    readonly kind: 'html' | 'xml' | 'json',
    readonly excerpt: string,
    readonly contentType?: string,
  ) {
    super(
      `expected a product, received a${kind === 'html' ? 'n HTML' : kind === 'xml' ? 'n XML' : ' JSON'} document` +
        `${contentType ? ` (Content-Type ${contentType})` : ''}: ${JSON.stringify(excerpt)}`,
    );
  }
}

/** Thrown by the product verifier when a complete body is smaller than any real product can be. */
export class TooSmallError extends IntegrityError {
  override readonly name = 'TooSmallError' as const;

  constructor(
    readonly minimum: number,
    readonly actual: number,
  ) {
    super(`body is too small to be a product: expected at least ${minimum} bytes, received ${actual}`);
  }
}

/**
 * Thrown by the streaming zip verifier when the archive is damaged: an entry's CRC-32 or size
 * differs from what its headers or data descriptor say, compressed data does not inflate, the
 * central directory or end records disagree with the entries seen, or the stream ends early.
 * `offset` is the byte position in the archive where the problem was found.
 */
export class CorruptZipError extends IntegrityError {
  override readonly name = 'CorruptZipError' as const;

  constructor(
    message: string,
    readonly offset: number,
    options?: { cause?: unknown },
  ) {
    super(`corrupt zip at byte ${offset}: ${message}`, options);
  }
}

/**
 * Thrown by the streaming zip verifier for valid archives it cannot check: encrypted entries,
 * compression methods other than stored and deflate, multi-disk archives.
 */
export class UnsupportedZipError extends IntegrityError {
  override readonly name = 'UnsupportedZipError' as const;

  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`zip cannot be verified at byte ${offset}: ${message}`);
  }
}

/** Thrown when the product's sha256 differs from a published checksum. */
export class ChecksumMismatchError extends IntegrityError {
  override readonly name = 'ChecksumMismatchError' as const;

  constructor(
    readonly algorithm: 'sha256',
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${algorithm} mismatch: expected ${expected}, computed ${actual}`);
  }
}

/** True for every error that says the delivered bytes are wrong (as opposed to I/O failures). */
export function isIntegrityError(err: unknown): err is IntegrityError {
  return err instanceof IntegrityError;
}
