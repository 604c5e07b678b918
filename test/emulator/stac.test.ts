import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { productDigest } from '../../src/emulator/product';
import { createCatalogue, type StacItem, TUTORIAL_ITEM_ID } from '../../src/emulator/stac';
import { handleStacRequest } from '../../src/emulator/stac-routes';
import { parseSearchParams } from '../../src/emulator/stac-search-params';
import { fromUtm, s2TileAt, toUtm } from '../../src/emulator/stac-catalogue';

const L1C = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';
const COLLECTIONS = [
  'EO.ESA.DAT.SENTINEL-1.L1_GRD',
  'EO.ESA.DAT.SENTINEL-1.L1_SLC',
  L1C,
  'EO.ESA.DAT.SENTINEL-2.MSI.L2A',
  'EO.EUM.DAT.SENTINEL-3.OL_1_EFR___',
  'EO.EUM.DAT.SENTINEL-3.OL_2_WRR___',
];
const ID_PATTERNS: Record<string, RegExp> = {
  'EO.ESA.DAT.SENTINEL-1.L1_GRD': /^S1[AB]_IW_GRDH_1SDV_\d{8}T\d{6}_\d{8}T\d{6}_\d{6}_[0-9A-F]{6}_[0-9A-F]{4}\.SAFE$/,
  'EO.ESA.DAT.SENTINEL-1.L1_SLC': /^S1[AB]_IW_SLC__1SDV_\d{8}T\d{6}_\d{8}T\d{6}_\d{6}_[0-9A-F]{6}_[0-9A-F]{4}\.SAFE$/,
  [L1C]: /^S2[AB]_MSIL1C_\d{8}T\d{6}_N0\d{3}_R\d{3}_T\d{2}[C-X][A-Z]{2}_\d{8}T\d{6}\.SAFE$/,
  'EO.ESA.DAT.SENTINEL-2.MSI.L2A': /^S2[AB]_MSIL2A_\d{8}T\d{6}_N0\d{3}_R\d{3}_T\d{2}[C-X][A-Z]{2}_\d{8}T\d{6}\.SAFE$/,
  'EO.EUM.DAT.SENTINEL-3.OL_1_EFR___':
    /^S3[AB]_OL_1_EFR____\d{8}T\d{6}_\d{8}T\d{6}_\d{8}T\d{6}_\d{4}_\d{3}_\d{3}_\d{4}_PS[12]_O_NT_003\.SEN3$/,
  'EO.EUM.DAT.SENTINEL-3.OL_2_WRR___':
    /^S3[AB]_OL_2_WRR____\d{8}T\d{6}_\d{8}T\d{6}_\d{8}T\d{6}_\d{4}_\d{3}_\d{3}______MAR_O_NT_003\.SEN3$/,
};

/** Every item of a search, following next tokens. */
function searchAll(catalogue: ReturnType<typeof createCatalogue>, p: Parameters<typeof parseSearchParams>[0]) {
  const parsed = parseSearchParams(p);
  if (!parsed.ok) throw new Error(parsed.message);
  const items: StacItem[] = [];
  let token: string | undefined;
  let matched = -1;
  do {
    const page = catalogue.search({ ...parsed.params, ...(token ? { token } : {}) });
    items.push(...page.items);
    matched = page.matched;
    token = page.nextToken;
  } while (token);
  return { items, matched };
}

describe('geometry', () => {
  it('converts to UTM and back within a centimetre', () => {
    const [e, n] = toUtm(2.35, 48.86, 31);
    const [lon, lat] = fromUtm(e, n, 31);
    expect(lon).toBeCloseTo(2.35, 6);
    expect(lat).toBeCloseTo(48.86, 6);
  });

  it('names Sentinel-2 tiles as MGRS does and gives their footprint', () => {
    const paris = s2TileAt(2.35, 48.86);
    expect(paris.id).toBe('31UDQ');
    expect(paris.bbox[0]).toBeLessThan(2.35);
    expect(paris.bbox[2]).toBeGreaterThan(2.35);
    expect(paris.bbox[2] - paris.bbox[0]).toBeCloseTo(1.5, 0); // 109.8 km at 49°N
    expect(s2TileAt(96.4, 60.9).id).toBe('47VLH');
    expect(s2TileAt(13.4, 52.52).id).toBe('33UUU'); // Berlin
  });
});

describe('createCatalogue', () => {
  const catalogue = createCatalogue();

  it('has the docs/hook-api.md §9 collections with 500 realistic items each', () => {
    expect(catalogue.collectionIds()).toEqual(COLLECTIONS);
    for (const c of COLLECTIONS) {
      const { items, matched } = searchAll(catalogue, { collections: [c], limit: 100 });
      expect(matched).toBe(500);
      expect(new Set(items.map((i) => i.id)).size).toBe(500);
      const bad = items.filter((i) => !ID_PATTERNS[c]!.test(i.id)).map((i) => i.id);
      expect(bad).toEqual([]);
    }
  });

  it('always contains the tutorial product, on tile 47VLH', () => {
    for (const itemsPerCollection of [1, 7, 500]) {
      const small = createCatalogue({ itemsPerCollection });
      expect(small.has(L1C, TUTORIAL_ITEM_ID)).toBe(true);
      expect(small.search({ collections: [L1C], limit: 100 }).matched).toBe(itemsPerCollection);
    }
    const item = catalogue.getItem(L1C, TUTORIAL_ITEM_ID)!;
    expect(item.properties.datetime).toBe('2023-09-10T05:07:01.000Z');
    expect(item.properties['grid:code']).toBe('MGRS-47VLH');
    const [w, s, e, n] = item.bbox;
    expect([w < 96.4 && 96.4 < e, s < 60.9 && 60.9 < n]).toEqual([true, true]);
  });

  it('is deterministic: the same options give the same catalogue', () => {
    const again = createCatalogue();
    const fingerprint = (c: typeof catalogue): string =>
      createHash('sha256')
        .update(JSON.stringify(searchAll(c, { limit: 100 }).items))
        .digest('hex');
    expect(fingerprint(again)).toBe(fingerprint(catalogue));
    expect(fingerprint(createCatalogue({ itemsPerCollection: 499 }))).not.toBe(fingerprint(catalogue));
  });

  it('builds items with the fields harvesters read', () => {
    const item = catalogue.getItem(L1C, TUTORIAL_ITEM_ID)!;
    expect(item).toMatchObject({
      type: 'Feature',
      stac_version: '1.0.0',
      id: TUTORIAL_ITEM_ID,
      collection: L1C,
      geometry: { type: 'Polygon' },
      assets: { downloadLink: { type: 'application/zip', roles: ['data'] } },
    });
    const ring = item.geometry.coordinates[0]!;
    expect(ring[0]).toEqual(ring.at(-1));
    expect(item.assets.downloadLink.href).toBe(`/stac/collections/${L1C}/items/${TUTORIAL_ITEM_ID}/download`);
    expect(item.links.map((l) => l.rel)).toEqual(['self', 'parent', 'collection', 'root']);
    // Fresh objects: a caller changing one does not change the catalogue.
    item.properties.datetime = 'changed';
    expect(catalogue.getItem(L1C, TUTORIAL_ITEM_ID)!.properties.datetime).toBe('2023-09-10T05:07:01.000Z');
  });

  it('announces file:size from the productSize option', () => {
    const sized = createCatalogue({ itemsPerCollection: 5, productSize: (id) => 4096 + id.length });
    expect(sized.getItem(L1C, TUTORIAL_ITEM_ID)!.assets.downloadLink['file:size']).toBe(4096 + TUTORIAL_ITEM_ID.length);
  });

  it('includes Sentinel-1B products only before its end of mission', () => {
    const { items } = searchAll(catalogue, { collections: ['EO.ESA.DAT.SENTINEL-1.L1_GRD'], limit: 100 });
    const s1b = items.filter((i) => i.id.startsWith('S1B'));
    expect(s1b.length).toBeGreaterThan(0);
    expect(s1b.every((i) => i.properties.datetime < '2021-12-23')).toBe(true);
  });

  it('answers has/getItem only for items of that collection', () => {
    expect(catalogue.has('EO.ESA.DAT.SENTINEL-2.MSI.L2A', TUTORIAL_ITEM_ID)).toBe(false);
    expect(catalogue.has('NO.SUCH.COLLECTION', TUTORIAL_ITEM_ID)).toBe(false);
    expect(catalogue.getItem(L1C, 'S2A_MSIL1C_NOT_THERE.SAFE')).toBeUndefined();
  });

  // How fast it builds is a performance question for a bench, not a wall-clock bound in a unit test.
  it('builds a catalogue of 6000 items, the last one of each collection reachable', () => {
    const big = createCatalogue({ itemsPerCollection: 1000 });
    expect(big.search({ limit: 1 }).matched).toBe(6000);
    const l1c = searchAll(big, { collections: [L1C], limit: 100 });
    expect(l1c.matched).toBe(1000);
    expect(new Set(l1c.items.map((i) => i.id)).size).toBe(1000);
    expect(big.getItem(L1C, l1c.items[999]!.id)?.id).toBe(l1c.items[999]!.id);
  });
});

describe('search', () => {
  const catalogue = createCatalogue();

  it('pages through every match with next tokens, without duplicates or gaps', () => {
    const { items, matched } = searchAll(catalogue, { collections: [L1C, 'EO.ESA.DAT.SENTINEL-1.L1_GRD'], limit: 7 });
    expect(matched).toBe(1000);
    expect(new Set(items.map((i) => `${i.collection}/${i.id}`)).size).toBe(1000);
    // Default order: newest first.
    const times = items.map((i) => i.properties.datetime);
    expect(times).toEqual([...times].sort().reverse());
  });

  it('filters by ids across collections', () => {
    const page = catalogue.search({ ids: [TUTORIAL_ITEM_ID, 'unknown'] });
    expect(page.items.map((i) => i.id)).toEqual([TUTORIAL_ITEM_ID]);
    expect(page.matched).toBe(1);
  });

  it('filters by bbox intersection', () => {
    const around = parseSearchParams({ bbox: [96.0, 60.5, 96.5, 61.0], collections: [L1C] });
    expect(around.ok).toBe(true);
    const { items } = searchAll(catalogue, { bbox: [96.0, 60.5, 96.5, 61.0], collections: [L1C], limit: 100 });
    expect(items.map((i) => i.id)).toContain(TUTORIAL_ITEM_ID);
    expect(items.every((i) => i.properties['grid:code'] === 'MGRS-47VLH')).toBe(true);
    expect(catalogue.search({ bbox: [-170, -10, -160, 0] }).matched).toBe(0); // the Pacific
  });

  it('filters by a bbox across the antimeridian', () => {
    const east = searchAll(catalogue, { bbox: [90, 55, 100, 65], limit: 100 }).matched;
    expect(east).toBeGreaterThan(0);
    expect(searchAll(catalogue, { bbox: [90, 55, -170, 65], limit: 100 }).matched).toBe(east);
  });

  it.each([
    ['2023-09-10T05:07:01Z', true],
    ['2023-09-10', true],
    ['2023-09-10T00:00:00Z/2023-09-10T23:59:59Z', true],
    ['../2023-09-10T05:07:01Z', true],
    ['2023-09-10T05:07:01.001Z/..', false],
    ['2023-09-10T05:07:02+00:00', false],
    ['2023-09-10T07:07:01+02:00', true],
  ])('filters by datetime %s (tutorial product included: %s)', (datetime, included) => {
    const { items } = searchAll(catalogue, { collections: [L1C], datetime, limit: 100 });
    expect(items.some((i) => i.id === TUTORIAL_ITEM_ID)).toBe(included);
    const parsed = parseSearchParams({ datetime });
    expect(parsed.ok && parsed.params.datetime).toBeTruthy();
  });

  it('sorts by the sortby terms', () => {
    const asc = catalogue.search({ collections: [L1C], sortby: [{ field: 'id', direction: 'asc' }], limit: 20 });
    const ids = asc.items.map((i) => i.id);
    expect(ids).toEqual([...ids].sort());
  });
});

describe('parseSearchParams', () => {
  it('accepts a POST body and the equivalent GET query', () => {
    const body = parseSearchParams({
      collections: [L1C],
      ids: ['a', 'b'],
      bbox: [1, 2, 3, 4],
      datetime: '2023-01-01T00:00:00Z/..',
      limit: 20,
      sortby: [{ field: 'properties.datetime', direction: 'desc' }],
    });
    const query = parseSearchParams({
      collections: L1C,
      ids: 'a,b',
      bbox: '1,2,3,4',
      datetime: '2023-01-01T00:00:00Z/..',
      limit: '20',
      sortby: '-datetime',
    });
    expect(body).toEqual(query);
    expect(body).toEqual({
      ok: true,
      params: {
        collections: [L1C],
        ids: ['a', 'b'],
        bbox: [1, 2, 3, 4],
        datetime: { start: Date.UTC(2023, 0, 1) },
        limit: 20,
        sortby: [{ field: 'datetime', direction: 'desc' }],
      },
    });
  });

  it('defaults limit to 10 and reduces intersects to its bbox', () => {
    const parsed = parseSearchParams({
      intersects: {
        type: 'Polygon',
        coordinates: [
          [
            [5, 45],
            [7, 45],
            [7, 47],
            [5, 47],
            [5, 45],
          ],
        ],
      },
    });
    expect(parsed).toEqual({ ok: true, params: { limit: 10, bbox: [5, 45, 7, 47] } });
  });

  it.each([
    [{ limit: 0 }, 'limit'],
    [{ limit: 101 }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ limit: 2.5 }, 'limit'],
    [{ bbox: [1, 2, 3] }, 'bbox'],
    [{ bbox: [0, 10, 1, 5] }, 'bbox'],
    [{ bbox: '0,0,200,1' }, 'bbox'],
    [{ bbox: 'a,b,c,d' }, 'bbox'],
    [{ datetime: 'yesterday' }, 'datetime'],
    [{ datetime: '2023-02-30' }, 'datetime'],
    [{ datetime: '../..' }, 'datetime'],
    [{ datetime: '2024-01-01/2023-01-01' }, 'datetime'],
    [{ collections: [1, 2] }, 'collections'],
    [{ ids: {} }, 'ids'],
    [{ token: 'not-ours' }, 'token'],
    [{ sortby: [{ field: 'eo:cloud_cover' }] }, 'sortby'],
    [{ intersects: { type: 'Circle', coordinates: [1, 2] } }, 'intersects'],
    [{ bbox: [0, 0, 1, 1], intersects: { type: 'Point', coordinates: [0, 0] } }, 'bbox'],
  ])('rejects %j naming %s', (input, field) => {
    const parsed = parseSearchParams(input);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toContain(field);
  });

  it('rejects a body that is not an object', () => {
    expect(parseSearchParams([1])).toEqual({ ok: false, message: expect.stringContaining('object') });
  });
});

describe('STAC routes over HTTP', () => {
  const catalogue = createCatalogue({ itemsPerCollection: 60, productSize: (id) => 5000 + id.length });
  let server: Server;
  let base: string;
  let agent: Agent;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      void handleStacRequest(req, res, url, catalogue, { baseUrl: base }).then((handled) => {
        if (!handled) {
          res.writeHead(418);
          res.end('not stac');
        }
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    agent = new Agent();
  });

  afterAll(async () => {
    await agent.close();
    server.close();
    await once(server, 'close');
  });

  async function call(path: string, init: { method?: 'GET' | 'POST' | 'PUT' | 'HEAD'; body?: unknown } = {}) {
    const res = await request(path.startsWith('http') ? path : `${base}${path}`, {
      dispatcher: agent,
      method: init.method ?? 'GET',
      ...(init.body !== undefined
        ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }
        : {}),
    });
    const text = await res.body.text();
    return {
      status: res.statusCode,
      headers: res.headers,
      json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  }

  it('serves the landing page, conformance and collections, under /stac and /stac/v2', async () => {
    for (const prefix of ['/stac', '/stac/v2']) {
      const landing = await call(`${prefix}/`);
      expect(landing.status).toBe(200);
      expect(landing.json['conformsTo']).toContain('https://api.stacspec.org/v1.0.0/item-search');
      expect((await call(`${prefix}/conformance`)).status).toBe(200);
      const list = await call(`${prefix}/collections`);
      const collections = list.json['collections'] as { id: string; links: { rel: string; href: string }[] }[];
      expect(collections.map((c) => c.id)).toEqual(COLLECTIONS);
      expect(collections[0]!.links.find((l) => l.rel === 'items')!.href).toBe(
        `${base}${prefix}/collections/${COLLECTIONS[0]}/items`,
      );
      const one = await call(`${prefix}/collections/${L1C}`);
      expect(one.json).toMatchObject({ type: 'Collection', id: L1C });
    }
  });

  it('POST /stac/search pages with POST next links that carry the body and token', async () => {
    const seen: string[] = [];
    let page = await call('/stac/search', { method: 'POST', body: { collections: [L1C], limit: 25 } });
    expect(page.headers['content-type']).toBe('application/geo+json');
    for (;;) {
      expect(page.status).toBe(200);
      const features = page.json['features'] as StacItem[];
      expect(page.json['numberMatched']).toBe(60);
      expect(page.json['numberReturned']).toBe(features.length);
      seen.push(...features.map((f) => f.id));
      const next = (page.json['links'] as { rel: string; href: string; method?: string; body?: unknown }[]).find(
        (l) => l.rel === 'next',
      );
      if (!next) break;
      expect(next).toMatchObject({
        method: 'POST',
        href: `${base}/stac/search`,
        body: { collections: [L1C], limit: 25 },
      });
      page = await call(next.href, { method: 'POST', body: next.body });
    }
    expect(seen).toHaveLength(60);
    expect(new Set(seen).size).toBe(60);
    expect(seen).toContain(TUTORIAL_ITEM_ID);
  });

  it('GET /stac/v2/collections/{id}/items pages with GET next links', async () => {
    const seen: string[] = [];
    let url = `${base}/stac/v2/collections/${L1C}/items?limit=40&datetime=2021-01-01T00:00:00Z/..`;
    for (;;) {
      const page = await call(url);
      expect(page.status).toBe(200);
      seen.push(...(page.json['features'] as StacItem[]).map((f) => f.id));
      const next = (page.json['links'] as { rel: string; href: string }[]).find((l) => l.rel === 'next');
      if (!next) break;
      expect(next.href).toMatch(new RegExp(`^${base}/stac/v2/collections/${L1C}/items\\?.*token=`));
      url = next.href;
    }
    expect(new Set(seen).size).toBe(60);
  });

  it('GET /stac/search takes the same filters as query parameters', async () => {
    const page = await call(`/stac/search?ids=${TUTORIAL_ITEM_ID}&collections=${L1C}&bbox=96,60.5,96.5,61`);
    expect((page.json['features'] as StacItem[]).map((f) => f.id)).toEqual([TUTORIAL_ITEM_ID]);
  });

  it('serves an item with absolute hrefs, and its product through downloadLink', async () => {
    const res = await call(`/stac/collections/${L1C}/items/${TUTORIAL_ITEM_ID}`);
    expect(res.status).toBe(200);
    const item = res.json as unknown as StacItem;
    expect(item.links.find((l) => l.rel === 'self')!.href).toBe(
      `${base}/stac/collections/${L1C}/items/${TUTORIAL_ITEM_ID}`,
    );
    const size = 5000 + TUTORIAL_ITEM_ID.length;
    expect(item.assets.downloadLink['file:size']).toBe(size);
    const download = await request(item.assets.downloadLink.href, { dispatcher: agent });
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-type']).toBe('application/zip');
    const body = Buffer.from(await download.body.arrayBuffer());
    expect(createHash('sha256').update(body).digest('hex')).toBe(
      (await productDigest({ identifier: TUTORIAL_ITEM_ID, size })).sha256,
    );
  });

  it.each([
    ['POST', '/stac/search', { limit: 500 }, 'limit'],
    ['POST', '/stac/search', '{not json', 'JSON'],
    ['GET', '/stac/search?bbox=1,2,3', undefined, 'bbox'],
    ['GET', `/stac/collections/${L1C}/items?datetime=soon`, undefined, 'datetime'],
  ] as const)('answers %s %s with 400 naming the problem', async (method, path, body, field) => {
    const res = await call(path, { method, body });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ code: 'BadRequest', description: expect.stringContaining(field) });
  });

  it.each([
    '/stac/collections/NO.SUCH',
    '/stac/collections/NO.SUCH/items',
    `/stac/collections/${L1C}/items/NOT_AN_ITEM.SAFE`,
    `/stac/collections/${L1C}/items/NOT_AN_ITEM.SAFE/download`,
    '/stac/unknown/path',
  ])('answers %s with 404 JSON', async (path) => {
    const res = await call(path);
    expect(res.status).toBe(404);
    expect(res.json['code']).toBe('NotFound');
  });

  it('refuses other methods with 405 and leaves paths outside /stac to the caller', async () => {
    expect((await call('/stac/collections', { method: 'POST', body: {} })).status).toBe(405);
    expect((await call('/stac/search', { method: 'PUT', body: {} })).status).toBe(405);
    const outside = await request(`${base}/stacks`, { dispatcher: agent });
    expect(outside.statusCode).toBe(418);
    await outside.body.dump();
  });
});
