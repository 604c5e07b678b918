import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MANIFEST_NAME, serializeManifest, writeManifest } from '../../../src/storage/manifest';

const report = {
  orderId: '1234',
  items: [
    {
      identifier: 'S2A_X.SAFE',
      status: 'delivered',
      sha256: 'ab'.repeat(32),
      downloadLink: 'https://s3.example/swift/v1/tmp-storage/x.zip?temp_url_sig=deadbeef&temp_url_expires=1700000000',
    },
  ],
};

describe('manifest writer (local)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'manifest-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes manifest.json next to the products, with signed URL parameters redacted', async () => {
    const written = await writeManifest(pathToFileURL(dir).href, report);
    expect(written.location).toBe(path.join(dir, MANIFEST_NAME));
    const text = await readFile(written.location, 'utf8');
    expect(written).toMatchObject({
      size: Buffer.byteLength(text),
      sha256: createHash('sha256').update(text).digest('hex'),
    });
    const parsed = JSON.parse(text) as typeof report;
    expect(parsed.items[0]!.downloadLink).toBe(
      'https://s3.example/swift/v1/tmp-storage/x.zip?temp_url_sig=***&temp_url_expires=1700000000',
    );
    expect(text).not.toContain('deadbeef');
    expect(parsed.items[0]!.sha256).toBe(report.items[0]!.sha256);
  });

  it('replaces an existing manifest atomically and leaves no temporary file', async () => {
    await writeManifest(dir, { version: 1 });
    // Many concurrent writers: the result is always one complete manifest.
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => writeManifest(dir, { version: i + 2, pad: 'x'.repeat(50_000) })),
    );
    expect(await readdir(dir)).toEqual([MANIFEST_NAME]);
    const final = JSON.parse(await readFile(path.join(dir, MANIFEST_NAME), 'utf8')) as { version: number };
    expect(final.version).toBeGreaterThanOrEqual(2);
  });

  it('takes over the temporary file a killed writer left, but not one a live writer holds', async () => {
    const left = path.join(dir, `.${MANIFEST_NAME}.tmp`);
    await writeFile(left, '{"half": ');
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(left, longAgo, longAgo);
    await writeManifest(dir, report);
    expect(await readdir(dir)).toEqual([MANIFEST_NAME]);

    // Written just now: another writer may be in the middle of it, so this write uses its own name.
    await writeFile(left, '{"half": ');
    await writeManifest(dir, { ...report, orderId: '5678' });
    expect((await readdir(dir)).sort()).toEqual([`.${MANIFEST_NAME}.tmp`, MANIFEST_NAME].sort());
    expect(JSON.parse(await readFile(path.join(dir, MANIFEST_NAME), 'utf8')).orderId).toBe('5678');
  });

  it('keeps a custom file name inside the directory', async () => {
    const written = await writeManifest(dir, report, { fileName: '../campaign.json' });
    expect(path.dirname(written.location)).toBe(dir);
  });

  it('refuses values JSON cannot hold, and S3 targets without a client', async () => {
    expect(() => serializeManifest(undefined)).toThrow('a manifest must be a JSON value');
    expect(() => serializeManifest({ n: 1n })).toThrow();
    await expect(writeManifest('s3://bucket/prefix', report)).rejects.toThrow('an S3 client is needed');
    expect(await readdir(dir)).toEqual([]);
  });
});
