import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  ChecksumMismatchError,
  CorruptZipError,
  ErrorPageError,
  SizeMismatchError,
  TooSmallError,
  isIntegrityError,
} from '../../../src/storage/errors';
import { type ProductExpectations, ProductVerifier, errorPageKind } from '../../../src/storage/integrity';
import { buildZip, chunked, noise } from '../../helpers/zip-writer';

const { zip } = buildZip([
  { name: 'product/manifest.xml', data: Buffer.from('<manifest/>\n'.repeat(300)), method: 'deflate' },
  { name: 'product/data.bin', data: noise(50_000), method: 'stored' },
]);
const sha256 = createHash('sha256').update(zip).digest('hex');

async function verifyBytes(body: Buffer, expect: ProductExpectations = {}, chunkSize = 1000) {
  const verifier = new ProductVerifier(expect, { now: () => new Date('2026-11-27T12:00:00Z') });
  for await (const chunk of chunked(body, chunkSize)) await verifier.write(chunk);
  return verifier.finish();
}

describe('ProductVerifier', () => {
  it('passes a good product and records what it proved', async () => {
    const record = await verifyBytes(zip, { contentLength: zip.length, processedSize: zip.length });
    expect(record).toEqual({
      sha256,
      size: zip.length,
      zipEntries: 2,
      verifiedAt: '2026-11-27T12:00:00.000Z',
      checks: [
        { name: 'not-an-error-page', status: 'passed', detail: expect.any(String) },
        { name: 'content-length', status: 'passed', detail: `${zip.length} bytes as announced` },
        { name: 'processed-size', status: 'passed', detail: `${zip.length} bytes as announced` },
        { name: 'min-size', status: 'passed', detail: `${zip.length} >= 1024 bytes` },
        { name: 'zip-entries-crc32', status: 'passed', detail: expect.stringContaining('2 entries') },
        { name: 'zip-central-directory', status: 'passed', detail: expect.any(String) },
      ],
    });
  });

  it('records unknown sizes as skipped, not passed', async () => {
    const record = await verifyBytes(zip, { contentLength: null });
    expect(record.checks.filter((c) => c.status === 'skipped').map((c) => [c.name, c.detail])).toEqual([
      ['content-length', 'Content-Length unknown'],
      ['processed-size', 'ProcessedSize unknown'],
    ]);
  });

  it('rejects a truncated body (shorter than Content-Length) with both numbers', async () => {
    const err = await verifyBytes(zip.subarray(0, 30_000), { contentLength: zip.length }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SizeMismatchError);
    expect(err).toMatchObject({
      name: 'SizeMismatchError',
      source: 'Content-Length',
      expected: zip.length,
      actual: 30_000,
      message: `body is truncated: expected ${zip.length} bytes (Content-Length), received 30000`,
    });
  });

  it('rejects a body that grows past the announced size at the first byte too many', async () => {
    const verifier = new ProductVerifier({ contentLength: 5000 });
    await verifier.write(zip.subarray(0, 5000));
    await expect(verifier.write(zip.subarray(5000, 5001))).rejects.toMatchObject({
      name: 'SizeMismatchError',
      message: 'body is larger than announced: expected 5000 bytes (Content-Length), received more than 5001',
    });
    // A failed verifier stays failed.
    await expect(verifier.finish()).rejects.toThrow(SizeMismatchError);
  });

  it('rejects a size that differs from the item ProcessedSize even when Content-Length agrees', async () => {
    await expect(verifyBytes(zip, { contentLength: zip.length, processedSize: zip.length + 1 })).rejects.toMatchObject({
      name: 'SizeMismatchError',
      source: 'ProcessedSize',
    });
  });

  it.each([
    ['an HTML login page', '<!DOCTYPE html>\n<html><head><title>Sign in</title>', 'html'],
    ['an HTML page after a BOM and blank lines', '\ufeff\n\n  <html lang="en"><body>Service unavailable', 'html'],
    [
      'an S3 XML error',
      '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>',
      'xml',
    ],
    ['a Swift error without prolog', '<Error><Code>Unauthorized</Code></Error>', 'xml'],
    ['a JSON API error', '{"detail":"Order not found"}', 'json'],
    ['a JSON array', '[{"error": 1}]', 'json'],
  ])('rejects %s as an error page', async (_label, body, kind) => {
    const padded = Buffer.from(body + ' '.repeat(2000));
    const err = await verifyBytes(padded, { contentLength: padded.length, contentType: 'text/html' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ErrorPageError);
    expect(err).toMatchObject({ name: 'ErrorPageError', kind });
    expect(isIntegrityError(err)).toBe(true);
  });

  it('recognises an error page within its first 512 bytes, before the body ends', async () => {
    const verifier = new ProductVerifier({ contentLength: 10_000_000 });
    await expect(verifier.write(Buffer.from('<html>'.padEnd(600, ' ')))).rejects.toThrow(ErrorPageError);
  });

  it('keeps signed URL parameters out of the error page excerpt', async () => {
    const page =
      '<html><body>Redirecting to https://s3.example/swift/v1/tmp-storage/x.zip?temp_url_sig=0123456789abcdef&temp_url_expires=1700000000</body></html>';
    const err = (await verifyBytes(Buffer.from(page.padEnd(2000)), {}).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(ErrorPageError);
    expect(err.message).toContain('https://s3.example/swift/v1/tmp-storage/x.zip?temp_url_sig=***');
    expect(err.message).not.toContain('0123456789abcdef');
  });

  it('does not mistake zips or binary data for error pages', () => {
    expect(errorPageKind(zip.subarray(0, 512))).toBeUndefined();
    expect(errorPageKind(noise(512))).toBeUndefined();
    expect(errorPageKind(Buffer.from('< not really markup'))).toBeUndefined();
  });

  it('rejects a body below the minimum product size', async () => {
    const small = buildZip([{ name: 'a.txt', data: Buffer.from('hello') }]).zip;
    await expect(verifyBytes(small)).rejects.toEqual(new TooSmallError(1024, small.length));
    expect((await verifyBytes(small, { minSize: 0 })).zipEntries).toBe(1);
  });

  it('rejects a valid but empty zip', async () => {
    const empty = buildZip([]).zip;
    await expect(verifyBytes(empty, { minSize: 0 })).rejects.toThrow(
      new CorruptZipError('archive has no entries', 0).message,
    );
  });

  it('rejects a corrupt zip with the entry named', async () => {
    const damaged = Buffer.from(zip);
    damaged[zip.length - 2000] = damaged[zip.length - 2000]! ^ 0x01;
    await expect(verifyBytes(damaged, { contentLength: zip.length })).rejects.toThrow(
      /corrupt zip at byte \d+: entry "product\/data.bin": CRC-32 mismatch/,
    );
  });

  it('skips the zip checks for non-zip products but keeps the others', async () => {
    const body = noise(5000);
    const record = await verifyBytes(body, { zip: false, contentLength: 5000 });
    expect(record.zipEntries).toBeNull();
    expect(record.checks.map((c) => c.name)).not.toContain('zip-entries-crc32');
    expect(record.sha256).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it('compares a published sha256', async () => {
    await expect(verifyBytes(zip, { sha256: sha256.toUpperCase() })).resolves.toMatchObject({ sha256 });
    await expect(verifyBytes(zip, { sha256: '0'.repeat(64) })).rejects.toEqual(
      new ChecksumMismatchError('sha256', '0'.repeat(64), sha256),
    );
  });

  it('passes bytes through unchanged and fails the consumer before it sees the end of a bad body', async () => {
    const good = new ProductVerifier({ contentLength: zip.length });
    const seen: Uint8Array[] = [];
    for await (const chunk of good.through(chunked(zip, 4096))) seen.push(chunk);
    expect(Buffer.concat(seen).equals(zip)).toBe(true);
    expect(good.result?.sha256).toBe(sha256);

    const truncated = new ProductVerifier({ contentLength: zip.length });
    const consumer = async () => {
      for await (const _chunk of truncated.through(chunked(zip.subarray(0, 20_000), 4096))) {
        // consume
      }
    };
    await expect(consumer()).rejects.toThrow(SizeMismatchError);
  });

  it('works as a Transform in a pipeline, failing the pipeline before the sink finishes', async () => {
    const received: Buffer[] = [];
    let finished = false;
    const sink = () =>
      new Writable({
        write(chunk: Buffer, _e, cb) {
          received.push(chunk);
          cb();
        },
        final(cb) {
          finished = true;
          cb();
        },
      });
    const ok = new ProductVerifier({ contentLength: zip.length });
    await pipeline(Readable.from(chunked(zip, 3000)), ok.transform(), sink());
    expect(Buffer.concat(received).equals(zip)).toBe(true);
    expect(ok.result?.size).toBe(zip.length);

    finished = false;
    const bad = new ProductVerifier({ processedSize: zip.length });
    await expect(
      pipeline(Readable.from(chunked(zip.subarray(0, zip.length - 1), 3000)), bad.transform(), sink()),
    ).rejects.toThrow(SizeMismatchError);
    expect(finished).toBe(false);
  });

  it('validates its expectations', () => {
    expect(() => new ProductVerifier({ contentLength: -1 })).toThrow('contentLength must be a non-negative integer');
    expect(() => new ProductVerifier({ processedSize: 1.5 })).toThrow('processedSize must be a non-negative integer');
  });
});
