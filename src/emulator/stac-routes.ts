/**
 * HTTP routes of the emulator's STAC API, under `/stac` and `/stac/v2` (eodag's prefix): landing
 * page, conformance, collections, items with paging, item search (GET and POST), and the product
 * download each item's `downloadLink` points to. Authentication is the caller's job.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveProduct } from './product-server';
import type { Bbox, StacCatalogue, StacItem, StacLink, StacSearchParams } from './stac';

const MAX_LIMIT = 100;
const DEFAULT_LIMIT = 10;
const MAX_BODY_BYTES = 1024 * 1024;
const DAY_MS = 86_400_000;
const GEOJSON = 'application/geo+json';
const CONFORMANCE = [
  'https://api.stacspec.org/v1.0.0/core',
  'https://api.stacspec.org/v1.0.0/collections',
  'https://api.stacspec.org/v1.0.0/ogcapi-features',
  'https://api.stacspec.org/v1.0.0/item-search',
  'https://api.stacspec.org/v1.0.0/item-search#sort',
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core',
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson',
];

export function encodePageToken(offset: number): string {
  return Buffer.from(`page:${offset}`).toString('base64url');
}

/** The offset a paging token stands for, or undefined if it is not one of ours. */
export function decodePageToken(token: string): number | undefined {
  const m = /^page:(\d{1,9})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  return m && encodePageToken(Number(m[1])) === token ? Number(m[1]) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Search parameters

class ParamError extends Error {
  override readonly name = 'ParamError';
}

/**
 * Validates a search: a POST body, or a GET query as a plain object of strings (lists comma
 * separated). Unknown members (`query`, `filter`, `fields`, …) are ignored. `intersects` is
 * reduced to its geometry's bbox, a documented approximation. Errors name the offending field.
 */
export function parseSearchParams(
  input: unknown,
): { ok: true; params: StacSearchParams } | { ok: false; message: string } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, message: 'the search request must be a JSON object' };
  }
  const o = input as Record<string, unknown>;
  try {
    const params: StacSearchParams = { limit: parseLimit(o['limit']) };
    const collections = stringList(o['collections'], 'collections');
    if (collections) params.collections = collections;
    const ids = stringList(o['ids'], 'ids');
    if (ids) params.ids = ids;
    if (o['bbox'] !== undefined && o['intersects'] !== undefined) {
      throw new ParamError('bbox and intersects cannot be used together');
    }
    if (o['bbox'] !== undefined) params.bbox = parseBbox(o['bbox']);
    if (o['intersects'] !== undefined) params.bbox = geometryBbox(o['intersects']);
    if (o['datetime'] !== undefined) params.datetime = parseDatetime(o['datetime']);
    if (o['token'] !== undefined) {
      if (typeof o['token'] !== 'string' || decodePageToken(o['token']) === undefined) {
        throw new ParamError('token is not a paging token issued by this service');
      }
      params.token = o['token'];
    }
    if (o['sortby'] !== undefined) params.sortby = parseSortby(o['sortby']);
    return { ok: true, params };
  } catch (err) {
    if (err instanceof ParamError) return { ok: false, message: err.message };
    throw err;
  }
}

function stringList(value: unknown, field: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = typeof value === 'string' ? value.split(',').map((s) => s.trim()) : value;
  if (!Array.isArray(list) || !list.every((v) => typeof v === 'string' && v.length > 0)) {
    throw new ParamError(`${field} must be a list of non-empty strings`);
  }
  return list.length > 0 ? (list as string[]) : undefined;
}

function parseLimit(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_LIMIT;
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw new ParamError(`limit must be an integer from 1 to ${MAX_LIMIT}`);
  }
  return n;
}

function parseBbox(value: unknown): Bbox {
  const raw = typeof value === 'string' ? value.split(',').map((s) => (s.trim() === '' ? NaN : Number(s))) : value;
  const message = 'bbox must be 4 numbers west,south,east,north (or 6 with heights) in degrees, south <= north';
  if (!Array.isArray(raw) || (raw.length !== 4 && raw.length !== 6) || !raw.every((x) => Number.isFinite(x))) {
    throw new ParamError(message);
  }
  const [w, s, e, n] = (raw.length === 4 ? raw : [raw[0], raw[1], raw[3], raw[4]]) as Bbox;
  const lonOk = (x: number): boolean => x >= -180 && x <= 180;
  if (!lonOk(w) || !lonOk(e) || s < -90 || n > 90 || s > n) throw new ParamError(message);
  return [w, s, e, n];
}

const GEOMETRY_TYPES = ['Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon'];

function geometryBbox(value: unknown): Bbox {
  let geometry = value;
  if (typeof value === 'string') {
    try {
      geometry = JSON.parse(value);
    } catch {
      geometry = undefined;
    }
  }
  const g = geometry as { type?: unknown; coordinates?: unknown } | undefined;
  const positions: number[][] = [];
  const collect = (c: unknown): boolean => {
    if (Array.isArray(c) && c.length >= 2 && c.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      positions.push(c as number[]);
      return true;
    }
    return Array.isArray(c) && c.length > 0 && c.every(collect);
  };
  if (!g || typeof g.type !== 'string' || !GEOMETRY_TYPES.includes(g.type) || !collect(g.coordinates)) {
    throw new ParamError(`intersects must be a GeoJSON geometry (${GEOMETRY_TYPES.join(', ')})`);
  }
  return parseBbox([
    Math.min(...positions.map((p) => p[0]!)),
    Math.min(...positions.map((p) => p[1]!)),
    Math.max(...positions.map((p) => p[0]!)),
    Math.max(...positions.map((p) => p[1]!)),
  ]);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2}))?$/;

/** An RFC 3339 instant, or `start/end` with `..` or an empty side for an open end. Dates alone cover their whole UTC day. */
function parseDatetime(value: unknown): { start?: number; end?: number } {
  const message = 'datetime must be an RFC 3339 date-time or an interval start/end (use .. for an open end)';
  if (typeof value !== 'string') throw new ParamError(message);
  const parts = value.trim().split('/');
  if (parts.length === 1) {
    const day = instant(parts[0]!, message);
    return { start: day.start, end: day.end };
  }
  if (parts.length !== 2) throw new ParamError(message);
  const open = (s: string): boolean => s === '' || s === '..';
  const [from, to] = parts as [string, string];
  if (open(from) && open(to)) throw new ParamError('datetime interval needs at least one closed end');
  const start = open(from) ? undefined : instant(from, message).start;
  const end = open(to) ? undefined : instant(to, message).end;
  if (start !== undefined && end !== undefined && start > end) {
    throw new ParamError('datetime interval start is after its end');
  }
  return { ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) };
}

function instant(text: string, message: string): { start: number; end: number } {
  const m = RFC3339.exec(text);
  if (!m) throw new ParamError(message);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dayStart = Date.UTC(y, mo - 1, d);
  if (mo < 1 || mo > 12 || new Date(dayStart).getUTCDate() !== d) throw new ParamError(message);
  if (m[4] === undefined) return { start: dayStart, end: dayStart + DAY_MS - 1 };
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 60) throw new ParamError(message);
  const t = Date.parse(
    text
      .toUpperCase()
      .replace(' ', 'T')
      .replace(/:60(?=[.Z+-])/, ':59'),
  );
  if (!Number.isFinite(t)) throw new ParamError(message);
  return { start: t, end: t };
}

function parseSortby(value: unknown): NonNullable<StacSearchParams['sortby']> {
  const message = 'sortby must name datetime or id, each asc or desc (e.g. -datetime,+id)';
  const terms =
    typeof value === 'string'
      ? value.split(',').map((t) => {
          const s = t.trim();
          return { field: s.replace(/^[+-]/, ''), direction: s.startsWith('-') ? 'desc' : 'asc' };
        })
      : value;
  if (!Array.isArray(terms) || terms.length === 0) throw new ParamError(message);
  return terms.map((t: unknown) => {
    const { field, direction = 'asc' } = (t ?? {}) as { field?: unknown; direction?: unknown };
    const name = field === 'properties.datetime' ? 'datetime' : field;
    if ((name !== 'datetime' && name !== 'id') || (direction !== 'asc' && direction !== 'desc')) {
      throw new ParamError(message);
    }
    return { field: name, direction };
  });
}

// ---------------------------------------------------------------------------------------------
// Routes

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  catalogue: StacCatalogue;
  /** Absolute root of this request's API: `<baseUrl>/stac` or `<baseUrl>/stac/v2`. */
  root: string;
  baseUrl: string;
}

/** Answers any path under `/stac` (404 for unknown ones) and returns true; other paths: false. */
export async function handleStacRequest(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  catalogue: StacCatalogue,
  o: { baseUrl: string },
): Promise<boolean> {
  const m = /^\/stac(\/v2)?(?=\/|$)(.*)$/.exec(url.pathname);
  if (!m) return false;
  const baseUrl = o.baseUrl.replace(/\/+$/, '');
  const ctx: Ctx = { req, res, url, catalogue, baseUrl, root: `${baseUrl}/stac${m[1] ?? ''}` };
  const segments = (m[2] ?? '').split('/').filter((s) => s !== '');
  let parts: string[];
  try {
    parts = segments.map((s) => decodeURIComponent(s));
  } catch {
    send(res, 400, { code: 'BadRequest', description: 'the path is not valid percent-encoding' });
    return true;
  }
  const method = req.method ?? 'GET';
  const readOnly = (handler: () => void | Promise<void>): void | Promise<void> =>
    method === 'GET' || method === 'HEAD' ? handler() : notAllowed(res, 'GET, HEAD');
  const [first, id, third, itemId, fifth, ...extra] = parts;

  if (first === undefined) await readOnly(() => landing(ctx));
  else if (first === 'conformance' && !id) await readOnly(() => send(res, 200, { conformsTo: CONFORMANCE }));
  else if (first === 'search' && !id) {
    if (method === 'POST' || method === 'GET' || method === 'HEAD') await search(ctx, method === 'POST');
    else notAllowed(res, 'GET, HEAD, POST');
  } else if (first === 'collections' && !id) await readOnly(() => collections(ctx));
  else if (first === 'collections' && id && !third) await readOnly(() => collection(ctx, id));
  else if (first === 'collections' && id && third === 'items' && !itemId) await readOnly(() => items(ctx, id));
  else if (first === 'collections' && id && third === 'items' && itemId && !fifth) {
    await readOnly(() => item(ctx, id, itemId));
  } else if (first === 'collections' && id && third === 'items' && itemId && fifth === 'download' && !extra.length) {
    await download(ctx, id, itemId);
  } else send(res, 404, { code: 'NotFound', description: `no such STAC resource: ${url.pathname}` });
  return true;
}

function landing(ctx: Ctx): void {
  send(ctx.res, 200, {
    type: 'Catalog',
    id: 'dedl-hda-emulator',
    title: 'DestinE Data Lake HDA (emulated)',
    description: 'A generated, deterministic STAC catalogue served by the dedl-harvester Hook emulator.',
    stac_version: '1.0.0',
    conformsTo: CONFORMANCE,
    links: [
      { rel: 'self', href: `${ctx.root}/`, type: 'application/json' },
      { rel: 'root', href: `${ctx.root}/`, type: 'application/json' },
      { rel: 'conformance', href: `${ctx.root}/conformance`, type: 'application/json' },
      { rel: 'data', href: `${ctx.root}/collections`, type: 'application/json' },
      { rel: 'search', href: `${ctx.root}/search`, type: GEOJSON, method: 'GET' },
      { rel: 'search', href: `${ctx.root}/search`, type: GEOJSON, method: 'POST' },
    ],
  });
}

function collections(ctx: Ctx): void {
  const list = ctx.catalogue.collectionIds().map((id) => absolute(ctx, ctx.catalogue.getCollection(id)!));
  send(ctx.res, 200, {
    collections: list,
    links: [
      { rel: 'self', href: `${ctx.root}/collections`, type: 'application/json' },
      { rel: 'root', href: `${ctx.root}/`, type: 'application/json' },
    ],
  });
}

function collection(ctx: Ctx, id: string): void {
  const found = ctx.catalogue.getCollection(id);
  if (!found) return send(ctx.res, 404, { code: 'NotFound', description: `collection ${id} not found` });
  send(ctx.res, 200, absolute(ctx, found));
}

function items(ctx: Ctx, collectionId: string): void {
  if (!ctx.catalogue.collectionIds().includes(collectionId)) {
    return send(ctx.res, 404, { code: 'NotFound', description: `collection ${collectionId} not found` });
  }
  const parsed = parseSearchParams({ ...queryObject(ctx.url), collections: [collectionId] });
  if (!parsed.ok) return send(ctx.res, 400, { code: 'BadRequest', description: parsed.message });
  respondWithPage(ctx, parsed.params, (token) => getLink(ctx, token));
}

function item(ctx: Ctx, collectionId: string, itemId: string): void {
  const found = ctx.catalogue.getItem(collectionId, itemId);
  if (!found)
    return send(ctx.res, 404, { code: 'NotFound', description: `item ${itemId} not found in ${collectionId}` });
  send(ctx.res, 200, absolute(ctx, found), GEOJSON);
}

async function search(ctx: Ctx, post: boolean): Promise<void> {
  let input: unknown;
  if (post) {
    const body = await readJson(ctx.req);
    if (!body.ok) return send(ctx.res, 400, { code: 'BadRequest', description: body.message });
    input = body.value ?? {};
  } else input = queryObject(ctx.url);
  const parsed = parseSearchParams(input);
  if (!parsed.ok) return send(ctx.res, 400, { code: 'BadRequest', description: parsed.message });
  respondWithPage(ctx, parsed.params, (token) =>
    post
      ? {
          rel: 'next',
          href: `${ctx.root}/search`,
          type: GEOJSON,
          method: 'POST',
          body: { ...(input as object), token },
          merge: false,
        }
      : getLink(ctx, token),
  );
}

function respondWithPage(ctx: Ctx, params: StacSearchParams, next: (token: string) => StacLink): void {
  const page = ctx.catalogue.search(params);
  const links: StacLink[] = [
    { rel: 'self', href: `${ctx.baseUrl}${ctx.url.pathname}${ctx.url.search}`, type: GEOJSON },
    { rel: 'root', href: `${ctx.root}/`, type: 'application/json' },
  ];
  if (page.nextToken) links.push(next(page.nextToken));
  send(
    ctx.res,
    200,
    {
      type: 'FeatureCollection',
      features: page.items.map((i) => absolute(ctx, i)),
      numberMatched: page.matched,
      numberReturned: page.items.length,
      context: { returned: page.items.length, limit: params.limit ?? DEFAULT_LIMIT, matched: page.matched },
      links,
    },
    GEOJSON,
  );
}

/** The same GET request with `token` set: the next page. */
function getLink(ctx: Ctx, token: string): StacLink {
  const query = new URLSearchParams(ctx.url.search);
  query.set('token', token);
  return { rel: 'next', href: `${ctx.baseUrl}${ctx.url.pathname}?${query.toString()}`, type: GEOJSON, method: 'GET' };
}

async function download(ctx: Ctx, collectionId: string, itemId: string): Promise<void> {
  const found = ctx.catalogue.getItem(collectionId, itemId);
  if (!found)
    return send(ctx.res, 404, { code: 'NotFound', description: `item ${itemId} not found in ${collectionId}` });
  const size = found.assets.downloadLink['file:size'];
  await serveProduct(
    ctx.req,
    ctx.res,
    { identifier: itemId, size },
    {
      etag: `"${createHash('sha1').update(`${itemId}:${size}`).digest('hex')}"`,
      lastModified: new Date(found.properties.end_datetime),
      fileName: `${itemId}.zip`,
    },
  );
}

/** Rewrites the catalogue's root-relative hrefs (`/stac/...`) against this request's root. */
function absolute<T extends { links: StacLink[] }>(ctx: Ctx, doc: T): T {
  const resolve = (href: string): string =>
    href.startsWith('/stac/') ? `${ctx.root}${href.slice('/stac'.length)}` : href;
  for (const link of doc.links) link.href = resolve(link.href);
  const asset = (doc as Partial<StacItem>).assets?.downloadLink;
  if (asset) asset.href = resolve(asset.href);
  return doc;
}

/** A GET query as a plain object; a repeated parameter becomes a comma-separated list. */
function queryObject(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of url.searchParams) out[k] = k in out ? `${out[k]},${v}` : v;
  return out;
}

async function readJson(req: IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false; message: string }> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req) {
    length += (chunk as Buffer).length;
    if (length > MAX_BODY_BYTES) return { ok: false, message: 'request body is larger than 1 MiB' };
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, message: 'request body is not valid JSON' };
  }
}

function notAllowed(res: ServerResponse, allow: string): void {
  send(res, 405, { code: 'MethodNotAllowed', description: `allowed methods: ${allow}` }, 'application/json', {
    Allow: allow,
  });
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  contentType = 'application/json',
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
