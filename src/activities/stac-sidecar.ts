/**
 * STAC beside every product: the STAC Item written as `<name>.stac.json` next to a delivered
 * product (geometry and properties from the catalogue's item, one asset for the verified copy with
 * its size and sha256 in the STAC file extension), and the STAC Catalog (a harvest) or Collection
 * (a campaign, with its extent) that links them by relative hrefs, so that pystac or odc-stac open
 * a harvest offline. Plain JSON builders, and the writers of catalogs and PRIVATE sidecars.
 */
import { Context } from '@temporalio/activity';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRetryable } from '../hook/errors';
import type { StacClient, StacFeature } from '../hook/stac';
import type { HarvestReport } from '../shared/harvest-report';
import { redactText } from '../shared/redact';
import { isNotImplemented, isPermanentSinkError } from '../storage/sink-errors';
import type { CampaignItem, CampaignReport } from '../shared/campaign-report';

export const STAC_VERSION = '1.0.0';
export const FILE_EXTENSION = 'https://stac-extensions.github.io/file/v2.1.0/schema.json';
export const CATALOG_NAME = 'catalog.json';
export const COLLECTION_NAME = 'collection.json';

/** The delivered object an item's asset points at. */
export interface DeliveredAsset {
  /** Relative to the item's own file (`./x.zip`), or absolute for an item collection. */
  href: string;
  size?: number;
  /** Hex sha256 of the object. */
  sha256?: string;
  type?: string;
}

/** The sidecar's file name for a product's: its name without `.zip`, plus `.stac.json`. */
export function sidecarName(productName: string): string {
  return `${productName.replace(/\.zip$/i, '')}.stac.json`;
}

/** `file:checksum` of a sha256: the multihash (0x12 sha2-256, 0x20 bytes long) in hex. */
export function sha256Multihash(sha256: string): string {
  return `1220${sha256}`;
}

/**
 * The STAC Item of a product: the catalogue's item when there is one (its geometry, bbox,
 * properties and collection; its own assets and HDA links left out but for a `via` link to it),
 * else a minimal item from the identifier (no geometry; the date read from the identifier when
 * it holds one, as Sentinel identifiers do; else `deliveredAt`, as STAC requires a date). `assets`
 * are the delivered objects.
 */
export function productItem(
  found: StacFeature | undefined,
  identifier: string,
  assets: Record<string, DeliveredAsset>,
  deliveredAt?: string,
): Record<string, unknown> {
  const links: Record<string, unknown>[] = [];
  const item: Record<string, unknown> = { type: 'Feature', stac_version: STAC_VERSION };
  const extensions = new Set(found?.stac_extensions ?? []);
  extensions.add(FILE_EXTENSION);
  item.stac_extensions = [...extensions];
  item.id = found?.id ?? identifier;
  const collectionLink = found?.links?.find((l) => isLink(l) && l.rel === 'collection') as Link | undefined;
  // STAC 1.0 asks for a `collection` link whenever an item names its collection.
  if (found?.collection && collectionLink) {
    item.collection = found.collection;
    links.push({ rel: 'collection', href: collectionLink.href, type: 'application/json' });
  }
  const geometry = found?.geometry ?? null;
  item.geometry = geometry;
  if (geometry !== null && found?.bbox) item.bbox = found.bbox;
  const properties: Record<string, unknown> = { ...(found?.properties ?? {}) };
  if (!('datetime' in properties)) {
    properties.datetime =
      properties.start_datetime && properties.end_datetime
        ? null
        : (dateInIdentifier(identifier) ?? deliveredAt ?? new Date().toISOString());
  }
  item.properties = properties;
  const self = found?.links?.find((l) => isLink(l) && l.rel === 'self') as Link | undefined;
  if (self) links.push({ rel: 'via', href: self.href, type: 'application/geo+json', title: 'the catalogue item' });
  item.links = links;
  item.assets = Object.fromEntries(Object.entries(assets).map(([key, asset]) => [key, assetObject(asset)]));
  return item;
}

function assetObject(asset: DeliveredAsset): Record<string, unknown> {
  const out: Record<string, unknown> = { href: asset.href, type: asset.type ?? 'application/zip', roles: ['data'] };
  if (asset.size !== undefined) out['file:size'] = asset.size;
  if (asset.sha256) out['file:checksum'] = sha256Multihash(asset.sha256);
  return out;
}

interface Link {
  rel: string;
  href: string;
}

function isLink(value: unknown): value is Link {
  const link = value as Partial<Link> | null;
  return typeof link?.rel === 'string' && typeof link.href === 'string';
}

/** The sensing time a product identifier carries (`…_20230910T050701_…`), else null. */
export function dateInIdentifier(identifier: string): string | null {
  const found = /(?:^|_)(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?=_|\.|$)/.exec(identifier);
  if (!found) return null;
  const [, y, mo, d, h, mi, s] = found;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** The root links of a catalog or collection to its items' sidecars (hrefs relative to it). */
function itemLinks(rootName: string, itemHrefs: readonly string[]): Record<string, unknown>[] {
  return [
    { rel: 'root', href: `./${rootName}`, type: 'application/json' },
    ...itemHrefs.map((href) => ({ rel: 'item', href: `./${href}`, type: 'application/geo+json' })),
  ];
}

/** The STAC Catalog of a harvest: its products' sidecars, by paths relative to the sink. */
export function harvestCatalog(id: string, description: string, itemHrefs: readonly string[]): Record<string, unknown> {
  return {
    type: 'Catalog',
    stac_version: STAC_VERSION,
    id,
    description,
    links: itemLinks(CATALOG_NAME, itemHrefs),
  };
}

/**
 * The STAC Collection of a campaign: its products' sidecars, with the extent of their items
 * (the union of their bboxes, the first and last datetime; open when no item says).
 */
export function campaignCollection(
  id: string,
  description: string,
  items: readonly { href: string; item?: StacFeature }[],
): Record<string, unknown> {
  let bbox: number[] | undefined;
  const times: number[] = [];
  for (const { item } of items) {
    const box = item?.bbox;
    if (box && box.length >= 4) {
      const [w, s, e, n] = box.length === 6 ? [box[0]!, box[1]!, box[3]!, box[4]!] : (box as number[]);
      bbox = bbox
        ? [Math.min(bbox[0]!, w!), Math.min(bbox[1]!, s!), Math.max(bbox[2]!, e!), Math.max(bbox[3]!, n!)]
        : [w!, s!, e!, n!];
    }
    for (const key of ['datetime', 'start_datetime', 'end_datetime']) {
      const value = item?.properties?.[key];
      if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) times.push(Date.parse(value));
    }
  }
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    type: 'Collection',
    stac_version: STAC_VERSION,
    stac_extensions: [],
    id,
    description,
    license: 'proprietary',
    extent: {
      spatial: { bbox: [bbox ?? [-180, -90, 180, 90]] },
      temporal: {
        interval: [
          [iso(times.length ? Math.min(...times) : undefined), iso(times.length ? Math.max(...times) : undefined)],
        ],
      },
    },
    links: itemLinks(
      COLLECTION_NAME,
      items.map((i) => i.href),
    ),
  };
}

/**
 * Where `location` (a product's `file:///…` URL or `s3://bucket/key`) is under `root` (a sink's or
 * manifest target's URL), as a relative `/`-separated path; undefined when it is not under it.
 */
export function pathUnder(root: string, location: string): string | undefined {
  if (root.startsWith('file:') && location.startsWith('file:')) {
    const relative = path.relative(fileURLToPath(root), fileURLToPath(location));
    if (!relative || relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
    return relative.split(path.sep).join('/');
  }
  const prefix = `${root.replace(/\/+$/, '')}/`;
  return location.startsWith(prefix) ? location.slice(prefix.length) : undefined;
}

/** The sidecar's path under a root for a product at `relativeProduct` (see {@link pathUnder}). */
export function sidecarPath(relativeProduct: string): string {
  const slash = relativeProduct.lastIndexOf('/');
  return `${relativeProduct.slice(0, slash + 1)}${sidecarName(relativeProduct.slice(slash + 1))}`;
}

export type ProductItemLookup = (
  collection: string | undefined,
  identifier: string,
  options: { signal?: AbortSignal; lastAttempt: boolean },
) => Promise<StacFeature | undefined>;

/** Catalogue items looked up per worker and kept for retries, at most this many. */
const LOOKUP_CACHE = 512;

/**
 * The catalogue's item of a product, looked up once (kept for the activity's retries and the
 * product's later steps). A product the catalogue does not hold, a worker without a catalogue, or
 * a catalogue that refuses us gives undefined: the sidecar is then a minimal item. A passing
 * catalogue error fails the attempt (Temporal retries it) except on the last one.
 */
export function createProductItemLookup(stac: StacClient | undefined): ProductItemLookup {
  const cache = new Map<string, StacFeature | undefined>();
  return async (collection, identifier, { signal, lastAttempt }) => {
    if (!stac || !collection) return undefined;
    const key = `${collection}\n${identifier}`;
    if (cache.has(key)) return cache.get(key);
    let found: StacFeature | undefined;
    try {
      const page = await stac.searchAll(
        { collections: [collection], ids: [identifier], limit: 1 },
        { signal, maxItems: 1 },
      );
      found = page.items.find((item) => item.id === identifier);
    } catch (err) {
      if (signal?.aborted || (isRetryable(err) && !lastAttempt)) throw err;
      Context.current().log.warn('No catalogue item for the STAC sidecar: writing a minimal one', {
        identifier,
        error: err instanceof Error ? err.message : String(err),
      });
      return undefined;
    }
    if (cache.size >= LOOKUP_CACHE) cache.delete(cache.keys().next().value!);
    cache.set(key, found);
    return found;
  };
}

/**
 * A harvest's `catalog.json` in its sink, linking the sidecars of the products it delivered there;
 * nothing when it delivered none there (a PRIVATE harvest's products stay in the bucket).
 */
export async function writeHarvestCatalog(
  sinkUrl: string,
  report: HarvestReport,
  writeJson: (fileName: string, json: unknown) => Promise<string>,
): Promise<string | undefined> {
  const hrefs: string[] = [];
  for (const item of report.items) {
    const under = item.state === 'delivered' && item.location ? pathUnder(sinkUrl, item.location) : undefined;
    if (under) hrefs.push(sidecarPath(under));
  }
  if (hrefs.length === 0) return undefined;
  const catalog = harvestCatalog(
    report.workflowId,
    `Products delivered by the harvest ${report.name} (${report.workflowId})`,
    hrefs,
  );
  return writeJson(CATALOG_NAME, catalog);
}

/** A campaign product's sidecar, relative to the campaign's STAC root, with its catalogue item (for the extent). */
export interface LinkedSidecar {
  href: string;
  item?: StacFeature;
}

/**
 * The sidecars of a campaign's products in a TEMPORARY sink: beside each product's location (or
 * folder, when unpacked), under the target.
 */
export function temporaryCampaignLinks(
  targetUrl: string,
  items: readonly CampaignItem[],
  features: readonly Record<string, unknown>[],
): LinkedSidecar[] {
  const byId = new Map(features.map((f) => [f.id as string, f as StacFeature]));
  const linked: LinkedSidecar[] = [];
  for (const item of items) {
    const under = item.location && byId.has(item.identifier) ? pathUnder(targetUrl, item.location) : undefined;
    if (under) linked.push({ href: sidecarPath(under), item: byId.get(item.identifier) });
  }
  return linked;
}

/**
 * The sidecars of a PRIVATE campaign's products, among those listed in the user's bucket
 * (`sidecars`: their `s3://` URLs). A product is known by its first object's location, and
 * {@link writePrivateStac} put its sidecar beside that object when it is the product's only one,
 * else as `<identifier>.stac.json` in the deepest folder its objects share: so the link is the
 * first of these that exists — beside the object, then `<identifier>.stac.json` in the object's
 * folder and each folder above it, up to the target. A product without one is not linked.
 */
export function privateCampaignLinks(
  targetUrl: string,
  items: readonly CampaignItem[],
  features: readonly Record<string, unknown>[],
  sidecars: ReadonlySet<string>,
): LinkedSidecar[] {
  const byId = new Map(features.map((f) => [f.id as string, f as StacFeature]));
  const root = targetUrl.replace(/\/+$/, '');
  const linked: LinkedSidecar[] = [];
  for (const item of items) {
    if (!item.location || !byId.has(item.identifier) || pathUnder(root, item.location) === undefined) continue;
    let folder = item.location.slice(0, item.location.lastIndexOf('/'));
    const candidates = [`${folder}/${sidecarName(item.location.slice(folder.length + 1))}`];
    for (; folder.length >= root.length; folder = folder.slice(0, folder.lastIndexOf('/'))) {
      candidates.push(`${folder}/${sidecarName(item.identifier)}`);
    }
    const found = candidates.find((candidate) => sidecars.has(candidate));
    const href = found && pathUnder(root, found);
    if (href) linked.push({ href, item: byId.get(item.identifier) });
  }
  return linked;
}

/**
 * A PRIVATE harvest's `catalog.json` at its output prefix, linking the sidecars its verifications
 * wrote (`hrefs`, under the prefix); written once, at the harvest's end, by its workflow. One
 * writer needs no read-merge-write, so the catalog does not rest on conditional writes being
 * atomic (versitygw's are not: src/storage/README.md). Returns where it went (undefined: nothing to link).
 */
export async function writePrivateHarvestCatalog(o: {
  targetUrl: string;
  harvestId: string;
  name: string;
  hrefs: readonly string[];
  write: (dirUrl: string, fileName: string, json: unknown) => Promise<string | false>;
}): Promise<string | undefined> {
  if (o.hrefs.length === 0) return undefined;
  const catalog = harvestCatalog(o.harvestId, `Products delivered by the harvest ${o.name} (${o.harvestId})`, o.hrefs);
  return (await o.write(o.targetUrl.replace(/\/+$/, ''), CATALOG_NAME, catalog)) || undefined;
}

/**
 * A campaign's `collection.json` (its products' sidecars, with their extent) and a `catalog.json`
 * whose one child is that collection, written at the campaign's STAC root by `write`: it replaces
 * the catalog of the campaign's last order, so opening `catalog.json` gives every product of the campaign.
 */
export async function writeCampaignStac(
  report: Pick<CampaignReport, 'name' | 'workflowId'>,
  linked: readonly LinkedSidecar[],
  write: (fileName: string, json: unknown) => Promise<unknown>,
): Promise<void> {
  if (linked.length === 0) return;
  const collection = campaignCollection(
    report.name,
    `Products of the campaign ${report.name} (${report.workflowId})`,
    linked,
  );
  await write(COLLECTION_NAME, collection);
  const catalog = harvestCatalog(report.workflowId, `The campaign ${report.name}`, []);
  catalog.links = [
    { rel: 'root', href: `./${CATALOG_NAME}`, type: 'application/json' },
    { rel: 'child', href: `./${COLLECTION_NAME}`, type: 'application/json' },
  ];
  await write(CATALOG_NAME, catalog);
}

/**
 * Runs a write of STAC files beside PRIVATE outputs as best effort: the products are in the bucket
 * whatever happens here, so keys that may only read, or a store that does not offer the write
 * (501, e.g. conditional PUTs), cost the STAC files with a warning (redacted), never the products.
 * Anything else (a passing error) fails the attempt, and Temporal retries it.
 */
export async function privateStacBestEffort(target: string, what: string, write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (err) {
    if (!isPermanentSinkError(err) && !isNotImplemented(err)) throw err;
    Context.current().log.warn(`${what} not written beside the PRIVATE outputs`, {
      target,
      error: redactText(err instanceof Error ? err.message : String(err)),
    });
  }
}

/** A PRIVATE product's verified objects in the user's bucket (`sha256` only where a copy hashed the object). */
export interface PrivateProduct {
  identifier: string;
  objects: readonly { key: string; size: number; location: string; sha256?: string }[];
}

/** Writing and reading JSON in the user's bucket, with the credentials its verification used. */
export interface PrivateBucketJson {
  /** With `ifMatch` (an ETag, or `'*'` for no object yet): false when another writer came first. */
  writeJson(dirUrl: string, fileName: string, json: unknown, ifMatch?: string): Promise<string | false>;
  readJson(url: string, signal?: AbortSignal): Promise<{ json: unknown; etag: string } | undefined>;
}

/** Rounds of read, merge, conditional write of a PRIVATE catalog before the attempt fails (and is retried). */
const CATALOG_WRITE_ROUNDS = 8;

/**
 * STAC for PRIVATE output: `<name>.stac.json` beside each product's verified objects in the user's
 * bucket (one asset per object at its s3:// location). The harvest's `catalog.json` is written at
 * its end ({@link writePrivateHarvestCatalog}); only a batch of a harvest from before that
 * (`mergeCatalog`) merges its links into the catalog: batches may overlap, so it keeps the item
 * links of the same harvest's other batches, written only over the version it read (a conditional
 * PUT: on a store where those are atomic, two batches cannot lose each other's links).
 */
export async function writePrivateStac(o: {
  bucket: PrivateBucketJson;
  target: string;
  harvestId: string;
  products: readonly PrivateProduct[];
  itemOf: (identifier: string) => Promise<StacFeature | undefined>;
  mergeCatalog: boolean;
  /** Empty on entry; filled as each sidecar is written (identifier → its path under the target), so a failure later keeps them. */
  written: Map<string, string>;
  signal?: AbortSignal;
}): Promise<void> {
  for (const product of o.products) {
    if (product.objects.length === 0) continue;
    const { dirUrl, name } = privateSidecarPlace(product);
    const assets: Record<string, DeliveredAsset> = {};
    for (const object of product.objects) {
      const base = object.key.slice(object.key.lastIndexOf('/') + 1);
      assets[product.objects.length === 1 ? 'product' : base] = {
        href: object.location,
        size: object.size,
        sha256: object.sha256,
        type: /\.zip$/i.test(base) ? 'application/zip' : 'application/octet-stream',
      };
    }
    const item = productItem(await o.itemOf(product.identifier), product.identifier, assets);
    const written = await o.bucket.writeJson(dirUrl, name, item);
    const under = written ? pathUnder(o.target, written) : undefined;
    if (under) o.written.set(product.identifier, under);
  }
  const hrefs = [...o.written.values()];
  if (hrefs.length === 0 || !o.mergeCatalog) return;
  const root = o.target.replace(/\/+$/, '');
  for (let round = 0; round < CATALOG_WRITE_ROUNDS; round++) {
    const read = await o.bucket.readJson(`${root}/${CATALOG_NAME}`, o.signal);
    const earlier = read?.json as Record<string, unknown> | undefined;
    const kept =
      earlier?.id === o.harvestId && Array.isArray(earlier.links)
        ? earlier.links.filter((l) => isLink(l) && l.rel === 'item').map((l) => (l as Link).href.replace(/^\.\//, ''))
        : [];
    const catalog = harvestCatalog(o.harvestId, `Products of the harvest ${o.harvestId} in this bucket`, [
      ...new Set([...kept, ...hrefs]),
    ]);
    if (await o.bucket.writeJson(root, CATALOG_NAME, catalog, read ? read.etag || undefined : '*')) return;
  }
  throw new Error(`${root}/${CATALOG_NAME} kept changing under ${CATALOG_WRITE_ROUNDS} writes: trying again`);
}

/** Where a PRIVATE product's sidecar goes: beside its one object, or in the folder its objects share. */
function privateSidecarPlace(product: PrivateProduct): { dirUrl: string; name: string } {
  const locations = product.objects.map((object) => object.location);
  if (locations.length === 1) {
    const slash = locations[0]!.lastIndexOf('/');
    return { dirUrl: locations[0]!.slice(0, slash), name: sidecarName(locations[0]!.slice(slash + 1)) };
  }
  let common = locations[0]!;
  for (const location of locations) while (!location.startsWith(common)) common = common.slice(0, -1);
  return { dirUrl: common.slice(0, common.lastIndexOf('/')), name: sidecarName(product.identifier) };
}
