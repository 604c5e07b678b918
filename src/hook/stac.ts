/**
 * A small client for the HDA STAC API's item search (POST `{stac}/search`), with the bearer of the
 * Hook client's token source and the same HTTP layer (no retries here: Temporal retries the
 * activity). Pages are followed through the `next` link the server returns, whichever form it has:
 * a GET URL with a token, or a POST with a body to send (merged with the previous one when asked).
 */
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { HookResponseError } from './errors';
import { BearerTransport } from './bearer-transport';
import { type HttpObserver, type HttpRequest, ensureOk, readJson } from './http';
import type { RetryAfterGate } from './retry-after-gate';
import type { TokenSource } from './tokens';

export type Bbox = [west: number, south: number, east: number, north: number];

/** What to search for; every field is optional and they combine with AND. */
export interface StacSearch {
  collections?: string[];
  ids?: string[];
  bbox?: Bbox;
  /** RFC 3339 instant or interval (`start/end`, `..` for an open end). */
  datetime?: string;
  /** A CQL2-JSON filter, sent with `filter-lang: cql2-json`. */
  filter?: Record<string, unknown>;
  /** Page size (the server caps it; HDA and the emulator allow up to 100). */
  limit?: number;
}

/** A STAC item as the catalogue returns it; only `id` is relied on, the rest is passed through. */
export type StacFeature = z.infer<typeof featureSchema>;

const featureSchema = z.looseObject({
  type: z.literal('Feature').optional(),
  id: z.string().min(1),
  collection: z.string().optional(),
  bbox: z.array(z.number()).optional(),
  geometry: z.unknown().optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
  assets: z.record(z.string(), z.unknown()).optional(),
  links: z.array(z.unknown()).optional(),
  stac_extensions: z.array(z.string()).optional(),
  stac_version: z.string().optional(),
});

const linkSchema = z.looseObject({
  rel: z.string(),
  href: z.string(),
  method: z.string().optional(),
  body: z.record(z.string(), z.unknown()).optional(),
  merge: z.boolean().optional(),
});

const pageSchema = z.looseObject({
  features: z.array(featureSchema),
  links: z.array(linkSchema).optional(),
  numberMatched: z.number().optional(),
  context: z.looseObject({ matched: z.number().optional() }).optional(),
});

export interface StacPage {
  items: StacFeature[];
  /** Total matches, when the server says. */
  matched?: number;
}

export interface StacClientOptions {
  /** STAC root, e.g. `https://hda.data.destination-earth.eu/stac/v2` (HookEndpoints.stac). */
  stacUrl: string;
  tokens: TokenSource;
  dispatcher: Dispatcher;
  gate?: RetryAfterGate;
  /** Told the status and latency of every search request (the worker's metrics). */
  observer?: HttpObserver;
}

/** Pages followed at most, whatever the server's links say (a loop guard). */
const MAX_PAGES = 10_000;

export class StacClient {
  private readonly root: string;
  private readonly transport: BearerTransport;

  constructor(options: StacClientOptions) {
    this.root = options.stacUrl.replace(/\/+$/, '');
    this.transport = new BearerTransport(options);
  }

  /** Every page of a search, in the server's order. */
  async *pages(search: StacSearch, signal?: AbortSignal): AsyncGenerator<StacPage> {
    let request: HttpRequest | undefined = post(`${this.root}/search`, searchBody(search), signal);
    for (let page = 0; request && page < MAX_PAGES; page++) {
      const res = await this.transport.authorized({
        ...request,
        headers: { accept: 'application/geo+json, application/json', ...request.headers },
        operation: 'stac-search',
      });
      await ensureOk(res, request);
      const body: z.infer<typeof pageSchema> = await readJson(res, request, pageSchema);
      yield { items: body.features, matched: body.numberMatched ?? body.context?.matched };
      const next: z.infer<typeof linkSchema> | undefined = body.links?.find((link) => link.rel === 'next');
      request = next && body.features.length > 0 ? nextRequest(next, request, signal) : undefined;
    }
  }

  /** The matching items, up to `maxItems`, without duplicates (a server may repeat one across pages). */
  async searchAll(
    search: StacSearch,
    options: { maxItems?: number; signal?: AbortSignal } = {},
  ): Promise<{ items: StacFeature[]; matched?: number; truncated: boolean }> {
    const max = options.maxItems ?? Number.POSITIVE_INFINITY;
    const seen = new Set<string>();
    const items: StacFeature[] = [];
    let matched: number | undefined;
    for await (const page of this.pages(search, options.signal)) {
      matched ??= page.matched;
      for (const item of page.items) {
        if (seen.has(item.id)) continue;
        if (items.length >= max) return { items, matched, truncated: true };
        seen.add(item.id);
        items.push(item);
      }
    }
    return { items, matched, truncated: false };
  }
}

function searchBody(search: StacSearch): Record<string, unknown> {
  const body: Record<string, unknown> = { limit: search.limit ?? 100 };
  if (search.collections?.length) body.collections = search.collections;
  if (search.ids?.length) body.ids = search.ids;
  if (search.bbox) body.bbox = search.bbox;
  if (search.datetime) body.datetime = search.datetime;
  if (search.filter) {
    body.filter = search.filter;
    body['filter-lang'] = 'cql2-json';
  }
  return body;
}

function post(url: string, body: Record<string, unknown>, signal?: AbortSignal): HttpRequest {
  return { method: 'POST', url, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal };
}

/** The request a `next` link describes: POST with its body (merged into the last one when `merge`), else GET. */
function nextRequest(link: z.infer<typeof linkSchema>, previous: HttpRequest, signal?: AbortSignal): HttpRequest {
  if ((link.method ?? 'GET').toUpperCase() === 'POST') {
    const last = previous.body ? (JSON.parse(previous.body) as Record<string, unknown>) : {};
    return post(link.href, link.merge ? { ...last, ...link.body } : (link.body ?? last), signal);
  }
  if (!/^https?:\/\//.test(link.href)) {
    throw new HookResponseError('The next link of a STAC page is not an http(s) URL', {
      method: previous.method,
      url: previous.url,
    });
  }
  return { method: 'GET', url: link.href, signal };
}
