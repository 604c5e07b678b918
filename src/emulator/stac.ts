/**
 * The emulator's HDA STAC service (docs/hook-api.md §9): a generated, deterministic catalogue of the
 * collections the Hook's data-harvest reads from, and its search. The same options always give the
 * same catalogue, so tests can rely on its content; collections are generated on first use.
 *
 * Hrefs in items and collections are root-relative (`/stac/...`); the routes (stac-routes.ts) make
 * them absolute for the address and prefix (`/stac` or `/stac/v2`) of each request. The generated
 * content itself (collections, identifiers, footprints) is in stac-catalogue.ts.
 */
import { createHash } from 'node:crypto';
import {
  type Bbox,
  COLLECTIONS,
  type CollectionDef,
  type ItemRecord,
  recordForIdentifier,
  seededRandom,
  WINDOW_END,
  WINDOW_START,
} from './stac-catalogue';
import { DEFAULT_LIMIT, decodePageToken, encodePageToken } from './stac-paging';

export { TUTORIAL_ITEM_ID } from './stac-catalogue';

export interface StacLink {
  rel: string;
  href: string;
  type?: string;
  title?: string;
  method?: string;
  body?: unknown;
  merge?: boolean;
}

export interface StacItem {
  type: 'Feature';
  stac_version: string;
  stac_extensions: string[];
  id: string;
  collection: string;
  bbox: Bbox;
  geometry: { type: 'Polygon'; coordinates: [number, number][][] };
  properties: { datetime: string; start_datetime: string; end_datetime: string; [name: string]: unknown };
  assets: {
    downloadLink: { href: string; type: 'application/zip'; title: string; roles: string[]; 'file:size': number };
  };
  links: StacLink[];
}

export interface StacCollection {
  type: 'Collection';
  stac_version: string;
  id: string;
  title: string;
  description: string;
  license: string;
  keywords: string[];
  providers: { name: string; roles: string[] }[];
  extent: { spatial: { bbox: Bbox[] }; temporal: { interval: [string, string][] } };
  summaries: Record<string, string[]>;
  links: StacLink[];
}

/** A parsed search; every filter is optional and they combine with AND. */
export interface StacSearchParams {
  collections?: string[];
  ids?: string[];
  /** Items whose bbox intersects this one; west > east crosses the antimeridian. */
  bbox?: Bbox;
  /** Items whose [start, end] overlaps this interval (epoch ms, inclusive; a missing end is open). */
  datetime?: { start?: number; end?: number };
  /** Page size, 1..100; default 10. */
  limit?: number;
  /** Opaque paging token from a previous page's `next` link. */
  token?: string;
  /** Default: datetime descending. Ties are broken by collection order, then id. */
  sortby?: { field: 'datetime' | 'id'; direction: 'asc' | 'desc' }[];
}

export interface CatalogueOptions {
  /** Items in each collection (>= 1). Default 500. */
  itemsPerCollection?: number;
  /** The byte size of an item's product zip, as `file:size` announces it. Default {@link defaultProductSize}. */
  productSize?: (identifier: string) => number;
}

export interface StacCatalogue {
  /** The collection ids, in catalogue order. */
  collectionIds(): string[];
  getCollection(collectionId: string): StacCollection | undefined;
  /** Whether `itemId` is in `collectionId`: what the Hook checks before it harvests an identifier. */
  has(collectionId: string, itemId: string): boolean;
  /** A fresh copy of the item (changing it changes nothing here), with root-relative hrefs. */
  getItem(collectionId: string, itemId: string): StacItem | undefined;
  /** One page of matches; `nextToken` is set while more remain. Throws a RangeError for a bad token or limit. */
  search(p: StacSearchParams): { items: StacItem[]; nextToken?: string; matched: number };
}

export const DEFAULT_ITEMS_PER_COLLECTION = 500;
const STAC_VERSION = '1.0.0';
const FILE_EXTENSION = 'https://stac-extensions.github.io/file/v2.1.0/schema.json';

/** A small default (256 KiB .. 2 MiB, fixed per identifier) so that tests download quickly. */
export function defaultProductSize(identifier: string): number {
  return 262_144 + (createHash('sha256').update(identifier).digest().readUInt32LE(0) % 1_835_008);
}

/** A catalogue of `itemsPerCollection` items per collection; the same options always give the same items. */
export function createCatalogue(o: CatalogueOptions = {}): StacCatalogue {
  const count = o.itemsPerCollection ?? DEFAULT_ITEMS_PER_COLLECTION;
  if (!Number.isSafeInteger(count) || count < 1 || count > 1_000_000) {
    throw new RangeError('itemsPerCollection must be an integer from 1 to 1000000');
  }
  const productSize = o.productSize ?? defaultProductSize;
  const generated = new Map<string, { list: ItemRecord[]; byId: Map<string, ItemRecord> }>();
  const order = new Map(COLLECTIONS.map((c, i) => [c.id, i]));

  const records = (collectionId: string): { list: ItemRecord[]; byId: Map<string, ItemRecord> } => {
    const known = generated.get(collectionId);
    if (known) return known;
    const def = COLLECTIONS[order.get(collectionId)!]!;
    const list = def
      .generate(count, seededRandom(`${collectionId}#${count}`), (id) => records(id).list)
      .sort((a, b) => a.start - b.start || compare(a.id, b.id));
    const entry = { list, byId: new Map(list.map((r) => [r.id, r])) };
    generated.set(collectionId, entry);
    return entry;
  };
  const toItem = (r: ItemRecord): StacItem => buildItem(r, productSize(r.id));
  /** The generated item, or one built from a well-formed identifier of this collection (stac-catalogue.ts). */
  const find = (collectionId: string, itemId: string): ItemRecord | undefined => {
    if (!order.has(collectionId)) return undefined;
    const resolved = records(collectionId).byId.get(itemId) ?? recordForIdentifier(itemId);
    return resolved?.collection === collectionId ? resolved : undefined;
  };

  return {
    collectionIds: () => COLLECTIONS.map((c) => c.id),
    getCollection: (id) => {
      const def = order.has(id) ? COLLECTIONS[order.get(id)!] : undefined;
      return def && buildCollection(def, records(id).list);
    },
    has: (collectionId, itemId) => find(collectionId, itemId) !== undefined,
    getItem: (collectionId, itemId) => {
      const r = find(collectionId, itemId);
      return r && toItem(r);
    },
    search: (p) => {
      const wanted = (p.collections ?? COLLECTIONS.map((c) => c.id)).filter((id) => order.has(id));
      const filter = (r: ItemRecord) => (!p.bbox || bboxIntersects(r.bbox, p.bbox)) && inInterval(r, p.datetime);
      // With ids, every one that names an item of a wanted collection is found, generated or not.
      const matches = p.ids
        ? [...new Set(p.ids)].flatMap((itemId) =>
            [...new Set(wanted)].map((c) => find(c, itemId)).filter((r): r is ItemRecord => !!r && filter(r)),
          )
        : [...new Set(wanted)].flatMap((id) => records(id).list.filter(filter));
      const sortby = p.sortby?.length ? p.sortby : [{ field: 'datetime', direction: 'desc' } as const];
      matches.sort((a, b) => {
        for (const s of sortby) {
          const d = s.field === 'id' ? compare(a.id, b.id) : a.start - b.start;
          if (d !== 0) return s.direction === 'asc' ? d : -d;
        }
        return order.get(a.collection)! - order.get(b.collection)! || compare(a.id, b.id);
      });
      const limit = p.limit ?? DEFAULT_LIMIT;
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new RangeError('limit must be 1..100');
      const offset = p.token === undefined ? 0 : decodePageToken(p.token);
      if (offset === undefined) throw new RangeError('invalid paging token');
      const page = matches.slice(offset, offset + limit).map(toItem);
      const next = offset + limit < matches.length ? encodePageToken(offset + limit) : undefined;
      return { items: page, matched: matches.length, ...(next ? { nextToken: next } : {}) };
    },
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function bboxIntersects(item: Bbox, query: Bbox): boolean {
  const [w, s, e, n] = query;
  if (item[1] > n || item[3] < s) return false;
  const lonOverlap = (west: number, east: number): boolean => item[0] <= east && item[2] >= west;
  return w <= e ? lonOverlap(w, e) : lonOverlap(w, 180) || lonOverlap(-180, e);
}

function inInterval(r: ItemRecord, interval: StacSearchParams['datetime']): boolean {
  if (!interval) return true;
  return (
    (interval.start === undefined || r.end >= interval.start) && (interval.end === undefined || r.start <= interval.end)
  );
}

function buildItem(r: ItemRecord, size: number): StacItem {
  const collectionHref = `/stac/collections/${encodeURIComponent(r.collection)}`;
  const self = `${collectionHref}/items/${encodeURIComponent(r.id)}`;
  const properties: StacItem['properties'] = {
    datetime: new Date(r.start).toISOString(),
    start_datetime: new Date(r.start).toISOString(),
    end_datetime: new Date(r.end).toISOString(),
  };
  for (const [k, v] of Object.entries(r.properties)) properties[k] = Array.isArray(v) ? [...v] : v;
  return {
    type: 'Feature',
    stac_version: STAC_VERSION,
    stac_extensions: [FILE_EXTENSION],
    id: r.id,
    collection: r.collection,
    bbox: [...r.bbox],
    geometry: { type: 'Polygon', coordinates: [r.ring.map(([lon, lat]): [number, number] => [lon, lat])] },
    properties,
    assets: {
      downloadLink: {
        href: `${self}/download`,
        type: 'application/zip',
        title: 'Download link',
        roles: ['data'],
        'file:size': size,
      },
    },
    links: [
      { rel: 'self', href: self, type: 'application/geo+json' },
      { rel: 'parent', href: collectionHref, type: 'application/json' },
      { rel: 'collection', href: collectionHref, type: 'application/json' },
      { rel: 'root', href: '/stac/', type: 'application/json' },
    ],
  };
}

function buildCollection(def: CollectionDef, list: ItemRecord[]): StacCollection {
  const href = `/stac/collections/${encodeURIComponent(def.id)}`;
  const extent = list.reduce<Bbox>(
    (b, r) => [
      Math.min(b[0], r.bbox[0]),
      Math.min(b[1], r.bbox[1]),
      Math.max(b[2], r.bbox[2]),
      Math.max(b[3], r.bbox[3]),
    ],
    [180, 90, -180, -90],
  );
  return {
    type: 'Collection',
    stac_version: STAC_VERSION,
    id: def.id,
    title: def.title,
    description: `${def.title} (generated by the dedl-harvester Hook emulator).`,
    license: 'proprietary',
    keywords: [...def.platforms, ...def.instruments],
    providers: [
      { name: def.provider, roles: ['producer', 'licensor'] },
      { name: 'DestinE Data Lake', roles: ['host'] },
    ],
    extent: {
      spatial: { bbox: [extent] },
      temporal: { interval: [[new Date(WINDOW_START).toISOString(), new Date(WINDOW_END).toISOString()]] },
    },
    summaries: { platform: [...def.platforms], instruments: [...def.instruments] },
    links: [
      { rel: 'self', href, type: 'application/json' },
      { rel: 'items', href: `${href}/items`, type: 'application/geo+json' },
      { rel: 'parent', href: '/stac/', type: 'application/json' },
      { rel: 'root', href: '/stac/', type: 'application/json' },
    ],
  };
}
