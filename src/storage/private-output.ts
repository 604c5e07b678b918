/**
 * Verification of PRIVATE output: the Hook writes results into the user's bucket, and nobody
 * checks what landed there. This lists the target prefix once with ListObjectsV2 pages (never one
 * HEAD per object), matches objects to the order's completed items, and reports per item what was
 * found, what is missing and what is empty. Optionally it streams the matched objects into a local
 * sink through the same integrity checks as TEMPORARY downloads.
 *
 * The real key layout under the prefix is not documented (docs/hook-api.md §8.2), so matching is a
 * list of rules tried in order: by default `{prefix}/{identifier}.zip`, then any key below the
 * prefix that contains the identifier (or the item's ProcessedName). Templates ending in `/`
 * match a folder of objects, e.g. `{prefix}/{identifier}/`.
 */
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { ProductExpectations, VerificationRecord } from './integrity';
import { LocalSink } from './local-sink';
import { redactText } from '../shared/redact';
import { parseS3Url } from './s3-client';
import { safeFileName } from './safe-name';

/** A Hook order item that completed, as far as matching needs it. */
export interface CompletedItem {
  identifier: string;
  itemId?: string | number | null;
  processedName?: string | null;
  processedSize?: number | null;
}

/**
 * How objects are matched to items. `contains`: the key below the prefix contains the identifier
 * or ProcessedName. `template`: `{prefix}`, `{identifier}`, `{itemId}` and `{processedName}` are
 * filled in; a template ending in `/` matches every object below that folder, any other template
 * matches exactly one key.
 */
export type OutputMatchRule = { kind: 'contains' } | { kind: 'template'; template: string };

export const DEFAULT_MATCH_RULES: readonly OutputMatchRule[] = [
  { kind: 'template', template: '{prefix}/{identifier}.zip' },
  { kind: 'contains' },
];

export interface PrivateObject {
  key: string;
  size: number;
  etag: string;
}

export interface PrivateItemReport {
  identifier: string;
  itemId?: string | number | null;
  /** `found`: at least one matched object has bytes; `empty`: matched objects all have 0 bytes; `missing`: none matched. */
  status: 'found' | 'missing' | 'empty';
  objects: PrivateObject[];
  totalSize: number;
  /** Matched objects with 0 bytes (in a folder of outputs, some may legitimately be empty). */
  emptyKeys: string[];
  /** With a single object and a known ProcessedSize: whether they agree (informative; the Hook's meaning for PRIVATE is undocumented). */
  processedSizeMatches?: boolean;
}

export interface PrivateOutputReport {
  bucket: string;
  prefix: string;
  /** Objects listed below the prefix (folder markers included). */
  listedObjects: number;
  pages: number;
  /** Listed objects that matched no item, and the first few of their keys. */
  unmatchedObjects: number;
  unmatchedSample: string[];
  items: PrivateItemReport[];
}

export interface VerifyPrivateOutputOptions {
  s3: S3Client;
  /** `s3://bucket/prefix`, the order's `output_s3_path`. */
  target: string;
  items: readonly CompletedItem[];
  rules?: readonly OutputMatchRule[];
  /** Keys per ListObjectsV2 page (default 1000, the S3 maximum). */
  pageSize?: number;
  signal?: AbortSignal;
}

const UNMATCHED_SAMPLE = 20;

export async function verifyPrivateOutput(options: VerifyPrivateOutputOptions): Promise<PrivateOutputReport> {
  const { bucket, prefix } = parseS3Url(options.target);
  const matcher = new OutputMatcher(prefix, options.items, options.rules ?? DEFAULT_MATCH_RULES);
  const matched = new Map<CompletedItem, PrivateObject[]>(options.items.map((item) => [item, []]));
  const report: PrivateOutputReport = {
    bucket,
    prefix,
    listedObjects: 0,
    pages: 0,
    unmatchedObjects: 0,
    unmatchedSample: [],
    items: [],
  };

  let token: string | undefined;
  do {
    const page = await options.s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix ? `${prefix}/` : undefined,
        ContinuationToken: token,
        MaxKeys: options.pageSize ?? 1000,
      }),
      { abortSignal: options.signal },
    );
    report.pages++;
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined) continue;
      report.listedObjects++;
      // A zero-byte key ending in '/' is a folder marker, not an output.
      if (object.Key.endsWith('/') && (object.Size ?? 0) === 0) continue;
      // The harvester's own STAC files beside the outputs (a retry, a later batch) are no output.
      if (isStacSideFile(object.Key)) continue;
      const item = matcher.match(object.Key);
      if (!item) {
        report.unmatchedObjects++;
        if (report.unmatchedSample.length < UNMATCHED_SAMPLE) report.unmatchedSample.push(object.Key);
        continue;
      }
      matched.get(item)!.push({ key: object.Key, size: object.Size ?? 0, etag: object.ETag ?? '' });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);

  for (const item of options.items) {
    const objects = matched.get(item)!;
    const totalSize = objects.reduce((sum, object) => sum + object.size, 0);
    const emptyKeys = objects.filter((object) => object.size === 0).map((object) => object.key);
    const entry: PrivateItemReport = {
      identifier: item.identifier,
      ...(item.itemId != null ? { itemId: item.itemId } : {}),
      status: objects.length === 0 ? 'missing' : totalSize === 0 ? 'empty' : 'found',
      objects,
      totalSize,
      emptyKeys,
    };
    if (objects.length === 1 && item.processedSize != null) {
      entry.processedSizeMatches = objects[0]!.size === item.processedSize;
    }
    report.items.push(entry);
  }
  return report;
}

/** A `<name>.stac.json` sidecar, or the `catalog.json` or campaign `collection.json`, the harvester writes beside PRIVATE outputs. */
function isStacSideFile(key: string): boolean {
  const name = key.slice(key.lastIndexOf('/') + 1);
  return key.endsWith('.stac.json') || name === 'catalog.json' || name === 'collection.json';
}

/** The `<name>.stac.json` sidecars under `rootUrl` (`s3://bucket/prefix`), as `s3://` URLs: one listing, 1000 keys a page. */
export async function listStacSidecars(s3: S3Client, rootUrl: string, signal?: AbortSignal): Promise<Set<string>> {
  const { bucket, prefix } = parseS3Url(rootUrl);
  const found = new Set<string>();
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix ? `${prefix}/` : undefined, ContinuationToken: token }),
      { abortSignal: signal },
    );
    for (const object of page.Contents ?? []) {
      if (object.Key?.endsWith('.stac.json')) found.add(`s3://${bucket}/${object.Key}`);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return found;
}

/** Assigns keys to items; when several items match one key, the most specific (longest) match wins. */
class OutputMatcher {
  readonly #exact = new Map<string, CompletedItem>();
  readonly #folders = new Map<string, CompletedItem>();
  readonly #needles: { needle: string; item: CompletedItem }[] = [];
  readonly #order: ('template' | 'contains')[] = [];
  readonly #prefixSlash: string;

  constructor(prefix: string, items: readonly CompletedItem[], rules: readonly OutputMatchRule[]) {
    this.#prefixSlash = prefix ? `${prefix}/` : '';
    for (const rule of rules) {
      if (rule.kind === 'contains') {
        for (const item of items) {
          for (const needle of new Set([item.identifier, item.processedName].filter((v): v is string => !!v))) {
            this.#needles.push({ needle, item });
          }
        }
        // Longest first, so "S2A_X_2" wins over "S2A_X" for the key ".../S2A_X_2.zip".
        this.#needles.sort((a, b) => b.needle.length - a.needle.length);
        if (!this.#order.includes('contains')) this.#order.push('contains');
        continue;
      }
      for (const item of items) {
        const expanded = expandTemplate(rule.template, prefix, item);
        if (expanded === undefined) continue;
        if (expanded.endsWith('/')) {
          if (!this.#folders.has(expanded)) this.#folders.set(expanded, item);
        } else if (!this.#exact.has(expanded)) this.#exact.set(expanded, item);
      }
      if (!this.#order.includes('template')) this.#order.push('template');
    }
  }

  match(key: string): CompletedItem | undefined {
    for (const kind of this.#order) {
      const item = kind === 'template' ? this.#byTemplate(key) : this.#byContains(key);
      if (item) return item;
    }
    return undefined;
  }

  #byTemplate(key: string): CompletedItem | undefined {
    const exact = this.#exact.get(key);
    if (exact) return exact;
    // The deepest folder that holds the key.
    for (let slash = key.lastIndexOf('/'); slash >= 0; slash = key.lastIndexOf('/', slash - 1)) {
      const item = this.#folders.get(key.slice(0, slash + 1));
      if (item) return item;
      if (slash === 0) break;
    }
    return undefined;
  }

  #byContains(key: string): CompletedItem | undefined {
    const below = key.startsWith(this.#prefixSlash) ? key.slice(this.#prefixSlash.length) : key;
    return this.#needles.find(({ needle }) => below.includes(needle))?.item;
  }
}

function expandTemplate(template: string, prefix: string, item: CompletedItem): string | undefined {
  const values: Record<string, string | undefined> = {
    identifier: item.identifier,
    itemId: item.itemId != null ? String(item.itemId) : undefined,
    processedName: item.processedName ?? undefined,
  };
  let missing = false;
  const filled = (prefix ? template.replaceAll('{prefix}', prefix) : template.replace(/\{prefix\}\/?/g, '')).replace(
    /\{(\w+)\}/g,
    (_whole, name: string) => {
      const value = values[name];
      if (value === undefined) missing = true;
      return value ?? '';
    },
  );
  return missing ? undefined : filled;
}

// -----------------------------------------------------------------------------------------------
// Optional copy to a local sink

export interface DownloadPrivateOutputOptions {
  s3: S3Client;
  report: PrivateOutputReport;
  /** Where copies land: `<dir>/<object name>` for single-object items, `<dir>/<identifier>/…` for folders. */
  sink: LocalSink;
  /**
   * Checks per object. Default: size equals the listed size; `.zip` keys are also verified as
   * zips (with the minimum product size); other files only by size.
   */
  expect?: (item: PrivateItemReport, object: PrivateObject) => ProductExpectations | false;
  /** Objects downloaded at once (default 2). */
  concurrency?: number;
  signal?: AbortSignal;
}

export type PrivateDownload =
  | {
      ok: true;
      identifier: string;
      key: string;
      path: string;
      size: number;
      verification: VerificationRecord | null;
    }
  | { ok: false; identifier: string; key: string; error: { name: string; message: string } };

/**
 * Streams every matched, non-empty object of found items into the local sink, verifying each.
 * One object's failure does not stop the others; it is reported in its outcome (and no partial
 * file is left for it).
 */
export async function downloadPrivateOutput(options: DownloadPrivateOutputOptions): Promise<PrivateDownload[]> {
  const jobs: { item: PrivateItemReport; object: PrivateObject; sink: () => Promise<LocalSink>; name: string }[] = [];
  for (const item of options.report.items) {
    const objects = item.objects.filter((object) => object.size > 0);
    if (item.status !== 'found' || objects.length === 0) continue;
    if (item.objects.length === 1) {
      jobs.push({
        item,
        object: objects[0]!,
        sink: async () => options.sink,
        name: path.posix.basename(objects[0]!.key),
      });
      continue;
    }
    // A folder of outputs gets its own subdirectory; names inside it are the keys' base names,
    // or the whole relative key when two base names collide.
    const folder = path.join(options.sink.dir, safeFileName(item.identifier));
    const itemSink = once(() => LocalSink.create(folder));
    const baseNames = objects.map((object) => path.posix.basename(object.key));
    const common = commonFolder(objects.map((object) => object.key));
    objects.forEach((object, index) => {
      const base = baseNames[index]!;
      const name = baseNames.indexOf(base) === baseNames.lastIndexOf(base) ? base : object.key.slice(common.length);
      jobs.push({ item, object, sink: itemSink, name });
    });
  }

  const expectFor = options.expect ?? defaultExpectations;
  return mapWithConcurrency(jobs, options.concurrency ?? 2, async ({ item, object, sink, name }) => {
    try {
      options.signal?.throwIfAborted();
      const response = await options.s3.send(
        new GetObjectCommand({
          Bucket: options.report.bucket,
          Key: object.key,
          IfMatch: object.etag || undefined,
          ChecksumMode: 'ENABLED', // the stored checksum, where there is one, checked against the body
        }),
        { abortSignal: options.signal },
      );
      const delivery = await (
        await sink()
      ).write(name, response.Body as AsyncIterable<Uint8Array>, {
        expect: expectFor(item, object),
        signal: options.signal,
      });
      return {
        ok: true,
        identifier: item.identifier,
        key: object.key,
        path: delivery.path,
        size: delivery.size,
        verification: delivery.verification,
      };
    } catch (err) {
      if (options.signal?.aborted) throw err;
      const error = err instanceof Error ? err : new Error(String(err));
      return {
        ok: false,
        identifier: item.identifier,
        key: object.key,
        error: { name: error.name, message: redactText(error.message) },
      };
    }
  });
}

/** The listed size always; zips fully; other files (XML, TIFF in a folder of outputs) only by size. */
function defaultExpectations(_item: PrivateItemReport, object: PrivateObject): ProductExpectations {
  const isZip = object.key.toLowerCase().endsWith('.zip');
  return { contentLength: object.size, zip: isZip, minSize: isZip ? undefined : 0 };
}

function commonFolder(keys: string[]): string {
  let common = keys[0] ?? '';
  for (const key of keys) while (!key.startsWith(common)) common = common.slice(0, -1);
  return common.slice(0, common.lastIndexOf('/') + 1);
}

function once<T>(make: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= make());
}

async function mapWithConcurrency<T, R>(items: T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}
