/**
 * The STAC builders of activities/stac-sidecar.ts, validated offline against the STAC 1.0.0 and
 * file extension schemas: a catalogue item, a minimal item for a product the catalogue lacks, a
 * catalog and a collection; and the layout template's checks and rendering (shared/layout.ts).
 */
import {
  campaignCollection,
  harvestCatalog,
  pathUnder,
  privateCampaignLinks,
  privateStacBestEffort,
  productItem,
  sidecarPath,
  writePrivateHarvestCatalog,
  writePrivateStac,
} from '../../../src/activities/stac-sidecar';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createCatalogue } from '../../../src/emulator/stac';
import { layoutProblems, renderLayout } from '../../../src/shared/layout';
import { campaignRequestSchema } from '../../../src/shared/campaign-request';
import { harvestRequestSchema } from '../../../src/shared/harvest-request';
import { placeProduct } from '../../../src/activities/product-placement';
import { assetKeys } from '../../../src/activities/unpack-delivered';
import { stacCatalogProblems, stacCollectionProblems, stacItemProblems } from '../../helpers/stac-validate';

const ID = 'S2A_MSIL1C_20230910T050701_N0509_R019_T47VLH_20230910T074321.SAFE';
const SHA = 'ab'.repeat(32);

describe('STAC sidecars', () => {
  it('builds a valid item from a catalogue item, with one asset for the delivered copy', () => {
    const found = { ...createCatalogue().getItem('EO.ESA.DAT.SENTINEL-2.MSI.L1C', ID)! };
    const item = productItem(found, ID, { product: { href: `./${ID}.zip`, size: 1234, sha256: SHA } });
    expect(stacItemProblems(item)).toEqual([]);
    expect(item).toMatchObject({ id: ID, geometry: found.geometry, bbox: found.bbox, collection: found.collection });
    expect(item.assets).toEqual({
      product: {
        href: `./${ID}.zip`,
        type: 'application/zip',
        roles: ['data'],
        'file:size': 1234,
        'file:checksum': `1220${SHA}`,
      },
    });
    // The catalogue's own assets (its download link) are not the delivered object.
    expect(JSON.stringify(item)).not.toContain('downloadLink');
  });

  it('builds a valid minimal item when the catalogue has none, dated from the identifier', () => {
    const item = productItem(undefined, ID, { product: { href: `./${ID}.zip`, size: 1, sha256: SHA } });
    expect(stacItemProblems(item)).toEqual([]);
    expect(item).toMatchObject({ id: ID, geometry: null, properties: { datetime: '2023-09-10T05:07:01.000Z' } });
    // STAC wants a date: a product whose identifier has none is dated by its delivery.
    const at = '2026-12-06T04:00:00.000Z';
    const undated = productItem(undefined, 'Custom_Hook', { product: { href: './Custom_Hook.zip' } }, at);
    expect(stacItemProblems(undated)).toEqual([]);
    expect(undated.properties).toEqual({ datetime: at });
  });

  it('a checksum that is not a multihash fails the file extension schema (the check can fail)', () => {
    const item = productItem(undefined, ID, { product: { href: './x.zip', size: 1, sha256: SHA } });
    (item.assets as Record<string, Record<string, unknown>>).product!['file:checksum'] = 'not-hex';
    expect(stacItemProblems(item).join('\n')).toContain('file extension');
  });

  it('builds a valid catalog and a collection with the extent of its items', () => {
    const catalogue = createCatalogue();
    const found = catalogue.search({ collections: ['EO.ESA.DAT.SENTINEL-2.MSI.L1C'], limit: 3 }).items;
    const catalog = harvestCatalog(
      'h1',
      'a harvest',
      found.map((f) => `${f.id}.stac.json`),
    );
    expect(stacCatalogProblems(catalog)).toEqual([]);
    const collection = campaignCollection(
      'c1',
      'a campaign',
      found.map((f) => ({ href: `${f.id}.stac.json`, item: { ...f } })),
    );
    expect(stacCollectionProblems(collection)).toEqual([]);
    const [west, south, east, north] = (collection.extent as { spatial: { bbox: number[][] } }).spatial.bbox[0]!;
    for (const f of found) {
      expect(f.bbox[0]).toBeGreaterThanOrEqual(west!);
      expect(f.bbox[1]).toBeGreaterThanOrEqual(south!);
      expect(f.bbox[2]).toBeLessThanOrEqual(east!);
      expect(f.bbox[3]).toBeLessThanOrEqual(north!);
    }
    const times = found.map((f) => Date.parse(f.properties.datetime));
    expect((collection.extent as { temporal: { interval: string[][] } }).temporal.interval[0]).toEqual([
      new Date(Math.min(...times)).toISOString(),
      new Date(Math.max(...times)).toISOString(),
    ]);
  });

  it('finds sidecar paths relative to the sink, for folders and buckets', () => {
    expect(pathUnder('file:///data/h', `file:///data/h/a/b/${ID}.zip`)).toBe(`a/b/${ID}.zip`);
    expect(pathUnder('file:///data/h/', 'file:///data/other/x.zip')).toBeUndefined();
    expect(pathUnder('s3://bucket/p', 's3://bucket/p/2023/x.zip')).toBe('2023/x.zip');
    expect(pathUnder('s3://bucket/p', 's3://bucket/px/x.zip')).toBeUndefined();
    expect(sidecarPath(`a/b/${ID}.zip`)).toBe(`a/b/${ID}.stac.json`);
  });
});

describe('asset keys of an unpacked product', () => {
  it('names image entries by band, the same across products, and keeps paths for the rest or on a clash', () => {
    expect(
      assetKeys([
        'MTD_MSIL1C.xml',
        'GRANULE/L1C_T47VLH_A1/IMG_DATA/T47VLH_20230910T050701_B04.jp2',
        'GRANULE/L1C_T47VLH_A1/IMG_DATA/T47VLH_20230910T050701_B08.jp2',
        'GRANULE/a/R10m/T33TUM_20230910T050701_B02_10m.jp2',
        'GRANULE/a/R20m/T33TUM_20230910T050701_TCI.jp2',
        'GRANULE/b/R20m/T33TUM_20230910T050701_TCI.jp2',
      ]),
    ).toEqual([
      'MTD_MSIL1C.xml',
      'B04',
      'B08',
      'B02_10m',
      'GRANULE/a/R20m/T33TUM_20230910T050701_TCI.jp2',
      'GRANULE/b/R20m/T33TUM_20230910T050701_TCI.jp2',
    ]);
  });
});

describe('output.layout', () => {
  const request = (layout: string) => ({
    name: 'n',
    collection: 'C',
    identifiers: [ID],
    output: { storage: 'TEMPORARY', sink: 'file:///data/h', layout },
  });

  it('renders the fields of the item', () => {
    expect(
      renderLayout('{collection}/{yyyy}/{mm}/{dd}/{doy}/{platform}/{identifier}.zip', {
        identifier: ID,
        collection: 'C',
        datetime: '2023-09-10T05:07:01Z',
        platform: 'sentinel-2a',
      }),
    ).toEqual(['C', '2023', '09', '10', '253', 'sentinel-2a', `${ID}.zip`]);
    expect(renderLayout('{yyyy}/{identifier}', { identifier: 'x' })).toEqual(['unknown', 'x']);
  });

  it.each([
    ['{collection}/{date}/{identifier}.zip', 'unknown placeholder {date}'],
    ['{yyyy}/x.zip', 'must contain {identifier}'],
    ['../{identifier}.zip', '"." or ".." folders'],
    ['/abs/{identifier}.zip', 'no leading /'],
    ['a\\{identifier}.zip', 'no backslash'],
    ['a\u0007/{identifier}.zip', 'control characters'],
    ['a//{identifier}.zip', 'empty folder names'],
    ['{identifier', 'unmatched'],
  ])('refuses %j, naming output.layout', (layout, reason) => {
    expect(layoutProblems(layout).join('; ')).toContain(reason);
    const parsed = harvestRequestSchema.safeParse(request(layout));
    expect(parsed.success).toBe(false);
    const issue = parsed.error!.issues.find((i) => i.path.join('.') === 'output.layout');
    expect(issue?.message).toContain(reason);
  });

  it('accepts unpacking into S3 and file sinks, for harvests and campaigns, and still names a bad glob', () => {
    const output = { storage: 'TEMPORARY', sink: 's3://bucket/p', sinkCredentials: 'x', unpack: true };
    expect(harvestRequestSchema.safeParse({ ...request('{identifier}.zip'), output }).success).toBe(true);
    const campaign = { name: 'c', collection: 'C', identifiers: [ID], output };
    expect(campaignRequestSchema.safeParse(campaign).success).toBe(true);
    expect(
      harvestRequestSchema.safeParse({ ...request('{identifier}.zip'), output: { ...output, sink: 'file:///d' } })
        .success,
    ).toBe(true);
    const bad = harvestRequestSchema.safeParse({
      ...request('{identifier}.zip'),
      output: { ...output, entries: ['a\\b.jp2'] },
    });
    expect(bad.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'output.entries.0: must be a glob without backslashes or control characters',
    ]);
  });

  it('refuses a layout on PRIVATE output, naming output.layout and why, for harvests and campaigns', () => {
    const output = {
      storage: 'PRIVATE',
      target: 's3://bucket/p',
      endpoint: 'https://s3.example.eu',
      credentials: 'x',
      layout: '{yyyy}/{identifier}.zip',
    };
    for (const schema of [harvestRequestSchema, campaignRequestSchema]) {
      const parsed = schema.safeParse({ ...request('{identifier}.zip'), output });
      expect(parsed.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
        expect.stringMatching(/^output\.layout: applies to TEMPORARY output only: the Hook places PRIVATE objects/),
      ]);
      const { layout: _, ...without } = output;
      expect(schema.safeParse({ ...request('{identifier}.zip'), output: without }).success).toBe(true);
    }
  });

  it('keeps a field value from making folders or leaving the sink', () => {
    const place = placeProduct(
      { sink: 'file:///data/h', layout: '{platform}/{collection}/{identifier}.zip', identifier: ID },
      { id: ID, collection: '../..', properties: { platform: 'a/../../b' } },
    );
    expect(place.name).toBe(`${ID}.zip`);
    const folders = decodeURIComponent(place.dirUrl.slice('file:///data/h/'.length)).split('/');
    expect(folders).toHaveLength(2);
    expect(folders.every((f) => f !== '..' && f !== '.' && !f.includes('/'))).toBe(true);
  });
});

describe('STAC beside PRIVATE outputs (writePrivateStac)', () => {
  /** An in-memory stand-in for the user's bucket: JSON by s3:// URL, each write a new ETag, conditional writes. */
  function memoryBucket() {
    const files = new Map<string, unknown>();
    const etags = new Map<string, string>();
    let version = 0;
    const bucket = {
      files,
      /** Called before each conditional write: lets a test play another writer coming first. */
      beforeConditional: (): Promise<void> | void => undefined,
      writeJson: async (dirUrl: string, fileName: string, json: unknown, ifMatch?: string) => {
        const url = `${dirUrl}/${fileName}`;
        if (ifMatch) {
          await bucket.beforeConditional();
          if ((etags.get(url) ?? '*') !== ifMatch) return false as const;
        }
        files.set(url, json);
        etags.set(url, `"v${++version}"`);
        return url;
      },
      readJson: async (url: string) => (files.has(url) ? { json: files.get(url), etag: etags.get(url)! } : undefined),
    };
    return bucket;
  }
  const target = 's3://user-bucket/out';
  const zip = (id: string) => ({ key: `out/${id}.zip`, size: 10, location: `${target}/${id}.zip` });

  it("puts a folder product's sidecar in its folder, one asset per object, no checksum it was not given; the catalog comes at the end", async () => {
    const bucket = memoryBucket();
    const objects = ['a/MTD.xml', 'a/IMG/B04.jp2'].map((k) => ({
      key: `out/${k}`,
      size: 5,
      location: `${target}/${k}`,
    }));
    const written = new Map<string, string>();
    await writePrivateStac({
      bucket,
      target,
      harvestId: 'h1',
      products: [{ identifier: 'a', objects }],
      itemOf: async () => undefined,
      mergeCatalog: false,
      written,
    });
    const item = bucket.files.get(`${target}/a/a.stac.json`) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(stacItemProblems(item)).toEqual([]);
    expect(Object.keys(item.assets)).toEqual(['MTD.xml', 'B04.jp2']);
    expect(item.assets['B04.jp2']).toEqual({
      href: `${target}/a/IMG/B04.jp2`,
      type: 'application/octet-stream',
      roles: ['data'],
      'file:size': 5,
    });
    // The catalog is the harvest's, written at its end over the sidecars the batches wrote.
    expect(bucket.files.has(`${target}/catalog.json`)).toBe(false);
    expect([...written]).toEqual([['a', 'a/a.stac.json']]);
    const catalogAt = await writePrivateHarvestCatalog({
      targetUrl: `${target}/`,
      harvestId: 'h1',
      name: 'a harvest',
      hrefs: [...written.values()],
      write: bucket.writeJson,
    });
    expect(catalogAt).toBe(`${target}/catalog.json`);
    expect(stacCatalogProblems(bucket.files.get(`${target}/catalog.json`))).toEqual([]);
    expect(bucket.files.get(`${target}/catalog.json`)).toMatchObject({
      id: 'h1',
      description: 'Products delivered by the harvest a harvest (h1)',
      links: [{ rel: 'root' }, { rel: 'item', href: './a/a.stac.json' }],
    });
    const nothing = await writePrivateHarvestCatalog({
      targetUrl: target,
      harvestId: 'h1',
      name: 'a harvest',
      hrefs: [],
      write: () => Promise.reject(new Error('nothing to write')),
    });
    expect(nothing).toBeUndefined();
  });

  it("before catalogs were written at the harvest's end, keeps the links of the same harvest's earlier batches (once each), not another harvest's", async () => {
    const bucket = memoryBucket();
    const run = (harvestId: string, id: string) =>
      writePrivateStac({
        bucket,
        target,
        harvestId,
        products: [{ identifier: id, objects: [zip(id)] }],
        itemOf: async () => undefined,
        mergeCatalog: true,
        written: new Map(),
      });
    const items = () =>
      (bucket.files.get(`${target}/catalog.json`) as { links: { rel: string; href: string }[] }).links
        .filter((l) => l.rel === 'item')
        .map((l) => l.href);
    await run('old', 'x');
    await run('h2', 'a');
    await run('h2', 'b');
    await run('h2', 'b'); // a retry
    expect(items()).toEqual(['./a.stac.json', './b.stac.json']);
    expect(stacCatalogProblems(bucket.files.get(`${target}/catalog.json`))).toEqual([]);
  });

  it('before catalogs were written at the end, loses no batch when another batch of the harvest writes the catalog between its read and its write', async () => {
    const bucket = memoryBucket();
    const batch = (id: string) =>
      writePrivateStac({
        bucket,
        target,
        harvestId: 'h3',
        products: [{ identifier: id, objects: [zip(id)] }],
        itemOf: async () => undefined,
        mergeCatalog: true,
        written: new Map(),
      });
    let sneaked = false;
    bucket.beforeConditional = async () => {
      if (sneaked) return;
      sneaked = true;
      await batch('b'); // the other batch, complete before this write lands
    };
    await batch('a');
    const links = (bucket.files.get(`${target}/catalog.json`) as { links: { rel: string; href: string }[] }).links;
    expect(links.filter((l) => l.rel === 'item').map((l) => l.href)).toEqual(['./b.stac.json', './a.stac.json']);
  });

  it('links a PRIVATE campaign product to the sidecar writePrivateStac put beside it or in its folder', async () => {
    const bucket = memoryBucket();
    const folder = ['b/IMG/B04.jp2', 'b/MTD.xml'].map((k) => ({
      key: `out/${k}`,
      size: 5,
      location: `${target}/${k}`,
    }));
    await writePrivateStac({
      bucket,
      target,
      harvestId: 'h1',
      products: [
        { identifier: 'a', objects: [zip('a')] },
        { identifier: 'b', objects: folder },
      ],
      itemOf: async () => undefined,
      mergeCatalog: false,
      written: new Map(),
    });
    bucket.files.set(`${target}/stranger.stac.json`, {});
    const sidecars = new Set([...bucket.files.keys()].filter((url) => url.endsWith('.stac.json')));
    // The campaign knows a product by its first object only (b's is the deeper one here).
    const items = [
      { identifier: 'a', state: 'delivered' as const, location: zip('a').location },
      { identifier: 'b', state: 'delivered' as const, location: folder[0]!.location },
      { identifier: 'c', state: 'delivered' as const, location: `${target}/c.zip` }, // no sidecar written
      { identifier: 'd', state: 'delivered' as const, location: 's3://other/d.zip' }, // not under the target
    ];
    const features = ['a', 'b', 'c', 'd'].map((id) => ({ id }));
    const linked = privateCampaignLinks(`${target}/`, items, features, sidecars);
    expect(linked.map((l) => l.href)).toEqual(['a.stac.json', 'b/b.stac.json']);
    expect(linked[1]!.item).toEqual({ id: 'b' });
    const collection = campaignCollection('c', 'a campaign', linked);
    expect(stacCollectionProblems(collection)).toEqual([]);
  });

  it('writes PRIVATE STAC as best effort: read-only keys or a 501 cost the files with a redacted warning', async () => {
    const warned: { message: string; meta: unknown }[] = [];
    const logger = new DefaultLogger('WARN', (entry) => warned.push({ message: entry.message, meta: entry.meta }));
    const env = new MockActivityEnvironment(undefined, { logger });
    const s3Error = (name: string, status: number, message: string) =>
      Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
    const secret = 'https://x/a.zip?temp_url_sig=0123456789abcdef0123456789abcdef01234567';
    for (const err of [s3Error('AccessDenied', 403, `denied ${secret}`), s3Error('NotImplemented', 501, 'no')]) {
      await env.run(() => privateStacBestEffort(target, 'STAC collection', () => Promise.reject(err)));
    }
    expect(warned.map((w) => w.message)).toEqual([
      'STAC collection not written beside the PRIVATE outputs',
      'STAC collection not written beside the PRIVATE outputs',
    ]);
    expect(warned[0]!.meta).toMatchObject({ target, error: expect.stringContaining('denied https://x/a.zip') });
    expect(JSON.stringify(warned)).not.toContain('0123456789abcdef0123456789abcdef01234567');
    // A passing error (a 503) fails the attempt: Temporal retries it.
    const passing = s3Error('ServiceUnavailable', 503, 'slow down');
    await expect(env.run(() => privateStacBestEffort(target, 'x', () => Promise.reject(passing)))).rejects.toBe(
      passing,
    );
  });
});
