/**
 * What a sink holds, re-hashed: every product object's size and sha256 read back from disk or S3,
 * compared with the emulator's generator (`productDigest`), plus what must not be there (`.part`
 * files, unfinished multipart uploads, strangers) and how often the manifest and ledger name each
 * product. The e2e tests' "verified by sha256" claims and the chaos audits both rest on this.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { productDigest } from '../../src/emulator/product';
import { safeFileName } from '../../src/storage/safe-name';
import { createTestBucket } from './s3';

export interface ExpectedProduct {
  identifier: string;
  size: number;
  sha256: string;
}

/** The emulator's size and sha256 of each product, as the sink must hold them. */
export async function expectedProducts(
  identifiers: readonly string[],
  sizeOf: (identifier: string) => number,
): Promise<ExpectedProduct[]> {
  const out: ExpectedProduct[] = [];
  for (const identifier of identifiers) {
    const { sha256, size } = await productDigest({ identifier, size: sizeOf(identifier) });
    out.push({ identifier, size, sha256 });
  }
  return out;
}

/** The object a product is delivered as (`<identifier>.zip`, made safe for a file name). */
export function productObjectName(identifier: string): string {
  return safeFileName(`${identifier}.zip`);
}

/**
 * What is wrong with one expected product in an audited sink, or undefined when the sink holds
 * exactly the emulator's bytes for it (size and sha256, re-hashed from the sink).
 */
export function productProblem(
  product: ExpectedProduct,
  audit: SinkAudit,
): { kind: 'missing' | 'corrupt'; text: string } | undefined {
  const found = audit.objects.get(productObjectName(product.identifier));
  if (!found) return { kind: 'missing', text: `${product.identifier}: missing` };
  if (found.sha256 === product.sha256 && found.size === product.size) return undefined;
  return {
    kind: 'corrupt',
    text: `${product.identifier}: ${found.size} bytes sha256 ${found.sha256}, expected ${product.size} ${product.sha256}`,
  };
}

/**
 * Re-hashes every product a harvest claims to have delivered, on disk (`{ dir }`) or in S3
 * (`{ s3, bucket, prefix }`), against the emulator's generator; also reports `.part` files and
 * unfinished uploads. [] when every product holds the emulator's bytes and nothing is left over.
 */
export async function productsNotAsGenerated(
  sink: { dir: string } | { s3: S3Client; bucket: string; prefix: string },
  identifiers: readonly string[],
  size: number | ((identifier: string) => number),
): Promise<string[]> {
  const [audit, expected] = await Promise.all([
    'dir' in sink ? auditLocalSink(sink.dir) : auditS3Sink(sink.s3, sink.bucket, sink.prefix),
    expectedProducts(identifiers, typeof size === 'number' ? () => size : size),
  ]);
  const problems = expected.flatMap((product) => productProblem(product, audit)?.text ?? []);
  if (audit.partFiles.length > 0) problems.push(`.part files left: ${audit.partFiles.join(', ')}`);
  if (audit.unfinishedUploads.length > 0) problems.push(`unfinished uploads: ${audit.unfinishedUploads.join(', ')}`);
  return problems;
}

/**
 * What a run must not leave in a sink: `.part` files, unfinished multipart uploads, and strangers
 * (neither products nor the files written beside them, e.g. a cut write's temporary file).
 */
export function leftBehind(audit: SinkAudit): string[] {
  return [...audit.partFiles, ...audit.unfinishedUploads, ...audit.strangers];
}

/** What a sink holds once a run is over. */
export interface SinkAudit {
  /** Product objects by name (`<identifier>.zip`, made safe): size and sha256 of the content. */
  objects: Map<string, { size: number; sha256: string }>;
  /** Any other object outside the manifest, the item collection and the ledger. */
  strangers: string[];
  /** STAC sidecars (`<name>.stac.json`) beside the products. */
  sidecars: string[];
  /** `*.part` files (local sink). */
  partFiles: string[];
  /** Unfinished multipart uploads (S3 sink), as `key (uploadId)`. */
  unfinishedUploads: string[];
  /** Rows of manifest.json per identifier. */
  manifestRows: Map<string, number>;
  /** Ledger records per identifier. */
  ledgerRecords: Map<string, number>;
  /** Files in the ledger that are not records (temp files of a write cut by a kill; readers skip them). */
  ledgerScraps: string[];
}

const SIDE_FILES = new Set(['manifest.json', 'items.json', 'catalog.json', 'collection.json']);
/** A product's STAC sidecar (activities/stac-sidecar.ts). */
const isSidecar = (rel: string) => rel.endsWith('.stac.json') && !path.posix.basename(rel).startsWith('.');
const LEDGER_DIR = '.dedl-ledger';
/** A ledger record's name (storage/ledger.ts): anything else in the ledger is a scrap of a cut write. */
const LEDGER_RECORD = /^\d{15}_[0-9a-f]{16}_[0-9a-f]{16}\.json$/;

/** Walks a local sink folder: every file, hashed; `.part` files and strangers listed. */
export async function auditLocalSink(dir: string): Promise<SinkAudit> {
  const audit = emptyAudit();
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    const rel = path.relative(dir, full).split(path.sep).join('/');
    if (entry.name.endsWith('.part')) audit.partFiles.push(rel);
    if (rel.startsWith(`${LEDGER_DIR}/`)) {
      if (LEDGER_RECORD.test(entry.name)) countRecord(audit, await readFile(full, 'utf8'));
      else audit.ledgerScraps.push(rel);
      continue;
    }
    if (SIDE_FILES.has(rel)) {
      if (rel === 'manifest.json') countManifest(audit, await readFile(full, 'utf8'));
      continue;
    }
    if (isSidecar(rel)) {
      audit.sidecars.push(rel);
      continue;
    }
    if (rel.endsWith('.zip') && !rel.includes('/')) {
      audit.objects.set(rel, await hashStream(createReadStream(full)));
    } else if (!entry.name.endsWith('.part')) {
      audit.strangers.push(rel);
    }
  }
  return audit;
}

/** Lists an S3 sink prefix (objects and unfinished multipart uploads) and hashes every product. */
export async function auditS3Sink(s3: S3Client, bucket: string, prefix: string): Promise<SinkAudit> {
  const audit = emptyAudit();
  const base = prefix ? `${prefix.replace(/\/+$/, '')}/` : '';
  for (const key of await listKeys(s3, bucket, base)) {
    const rel = key.slice(base.length);
    const body = async () =>
      (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body as AsyncIterable<Uint8Array> & {
        transformToString(): Promise<string>;
      };
    if (rel.startsWith(`${LEDGER_DIR}/`)) {
      if (LEDGER_RECORD.test(path.posix.basename(rel))) countRecord(audit, await (await body()).transformToString());
      else audit.ledgerScraps.push(rel);
    } else if (SIDE_FILES.has(rel)) {
      if (rel === 'manifest.json') countManifest(audit, await (await body()).transformToString());
    } else if (isSidecar(rel)) {
      audit.sidecars.push(rel);
    } else if (rel.endsWith('.zip') && !rel.includes('/')) {
      audit.objects.set(rel, await hashStream(await body()));
    } else {
      audit.strangers.push(rel);
    }
  }
  audit.unfinishedUploads = await listUnfinishedUploads(s3, bucket, base);
  return audit;
}

/** Product objects (`*.zip` directly under the prefix) in an S3 sink: a cheap progress signal. */
export async function countS3Products(s3: S3Client, bucket: string, prefix: string): Promise<number> {
  const base = prefix ? `${prefix.replace(/\/+$/, '')}/` : '';
  return (await listKeys(s3, bucket, base)).filter((k) => k.endsWith('.zip') && !k.slice(base.length).includes('/'))
    .length;
}

/** How one sink is set up for a campaign, watched for progress and audited afterwards. */
export interface SinkUnderTest {
  kind: 'local' | 's3';
  label: string;
  url: string;
  sinkCredentials?: string;
  delivered(): Promise<number>;
  audit(): Promise<SinkAudit>;
}

export function localSinkUnderTest(dir: string): SinkUnderTest {
  return {
    kind: 'local',
    label: 'local sink',
    url: pathToFileURL(dir).toString(),
    delivered: () => countLocalProducts(dir),
    audit: () => auditLocalSink(dir),
  };
}

/** A fresh bucket of the test stack's S3 server; workers reach it as the credential set `credentials`. */
export async function s3SinkUnderTest(s3: S3Client, bucketStem: string, credentials: string): Promise<SinkUnderTest> {
  const bucket = await createTestBucket(s3, bucketStem);
  return {
    kind: 's3',
    label: 'S3 sink',
    url: `s3://${bucket}/products`,
    sinkCredentials: credentials,
    delivered: () => countS3Products(s3, bucket, 'products'),
    audit: () => auditS3Sink(s3, bucket, 'products'),
  };
}

/** Product files (`*.zip`, not `.part`) directly in a local sink folder: a cheap progress signal. */
export async function countLocalProducts(dir: string): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.zip')).length;
}

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

export async function listUnfinishedUploads(s3: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const uploads: string[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        Prefix: prefix || undefined,
        KeyMarker: keyMarker,
        UploadIdMarker: uploadIdMarker,
      }),
    );
    for (const upload of page.Uploads ?? []) uploads.push(`${upload.Key} (${upload.UploadId})`);
    if (!page.IsTruncated) return uploads;
    if (page.NextKeyMarker === keyMarker && page.NextUploadIdMarker === uploadIdMarker) return uploads;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
}

function emptyAudit(): SinkAudit {
  return {
    objects: new Map(),
    strangers: [],
    sidecars: [],
    partFiles: [],
    unfinishedUploads: [],
    manifestRows: new Map(),
    ledgerRecords: new Map(),
    ledgerScraps: [],
  };
}

function countRecord(audit: SinkAudit, text: string): void {
  const { identifier } = JSON.parse(text) as { identifier?: unknown };
  if (typeof identifier !== 'string') throw new Error(`a ledger record without an identifier: ${text.slice(0, 200)}`);
  bump(audit.ledgerRecords, identifier);
}

function countManifest(audit: SinkAudit, text: string): void {
  const manifest = JSON.parse(text) as { items?: { identifier: string }[] };
  for (const item of manifest.items ?? []) bump(audit.manifestRows, item.identifier);
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

async function hashStream(stream: AsyncIterable<Uint8Array>): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { size, sha256: hash.digest('hex') };
}

/**
 * The files a TEMPORARY harvest leaves in a flat sink: each product's zip and its STAC sidecar,
 * `manifest.json`, and `catalog.json` when it delivered any; sorted, as `readdir(…).sort()` is.
 */
export function harvestFiles(delivered: readonly string[], options: { catalog?: boolean } = {}): string[] {
  const files = delivered.flatMap((id) => [`${id}.zip`, `${id}.stac.json`]);
  if (options.catalog ?? delivered.length > 0) files.push('catalog.json');
  return [...files, 'manifest.json'].sort();
}
