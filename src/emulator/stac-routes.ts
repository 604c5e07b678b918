/**
 * HTTP routes of the emulator's STAC API, under `/stac` and `/stac/v2` (eodag's prefix): landing
 * page, conformance, collections, items with paging, item search (GET and POST), and the product
 * download each item's `downloadLink` points to. `createStacRoutes` puts them on the emulator's
 * router behind the HDA's access rule (stac-gate.ts); `handleStacRequest` answers without it.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './http-util';
import { serveProduct } from './product-server';
import type { RequestContext, Route } from './router';
import type { StacCatalogue, StacItem, StacLink, StacSearchParams } from './stac';
import { DEFAULT_LIMIT } from './stac-paging';
import { stacAccessAllowed } from './stac-gate';
import { parseSearchParams } from './stac-search-params';
import type { TokenService } from './tokens';

const MAX_BODY_BYTES = 1024 * 1024;
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

// ---------------------------------------------------------------------------------------------
// Router entry

export interface StacRouteDeps {
  baseUrl: string;
  catalogue: StacCatalogue;
  tokens: TokenService;
}

/** `/stac/collections/EO.X/items/ID` → `/stac/collections/{collectionId}/items/{itemId}` */
export function stacTemplate(path: string): string {
  return path
    .replace(/\/collections\/[^/]+/, '/collections/{collectionId}')
    .replace(/\/items\/[^/]+/, '/items/{itemId}')
    .replace(/\/+$/, '');
}

export function createStacRoutes(d: StacRouteDeps): Route[] {
  const handle = async (ctx: RequestContext): Promise<void> => {
    if (!stacAccessAllowed(ctx, d.tokens)) return;
    const handled = await handleStacRequest(ctx.req, ctx.res, ctx.url, d.catalogue, { baseUrl: d.baseUrl });
    if (!handled && !ctx.res.headersSent) sendJson(ctx.res, 404, { code: 'NotFoundError', description: 'Not Found' });
  };
  return [
    { methods: ['GET', 'POST', 'HEAD'], pattern: /^\/stac(?:\/.*)?$/, template: stacTemplate, scope: 'stac', handle },
  ];
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
