/**
 * The STAC client against the emulator's search over real HTTP: paging through `next` links
 * (POST with a body), the filters, `maxItems`, and the bearer renewed after a 401.
 */
import { type EmulatorHandle, startEmulator } from '../../../src/emulator';
import { despTokenSource } from '../../../src/hook/desp-login';
import { endpointsAt } from '../../../src/hook/endpoints';
import { createHttpAgent } from '../../../src/hook/http';
import { StacClient } from '../../../src/hook/stac';
import type { TokenSource } from '../../../src/hook/tokens';

const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';

describe('StacClient', () => {
  let emulator: EmulatorHandle;
  const agent = createHttpAgent();
  let tokens: TokenSource;
  let stac: StacClient;

  beforeAll(async () => {
    emulator = await startEmulator({ catalogueItemsPerCollection: 60 });
    const endpoints = endpointsAt(emulator.url);
    tokens = despTokenSource(agent, { username: 'demo', password: 'demo' }, { endpoints });
    stac = new StacClient({ stacUrl: endpoints.stac, tokens, dispatcher: agent });
  });
  afterAll(async () => {
    await emulator?.close();
    await agent.close();
  });

  it('searches /stac/v2 by default, /stac still, and finds any real product id on both', async () => {
    expect(endpointsAt(emulator.url).stac).toBe(`${emulator.url}/stac/v2`);
    // A real Sentinel-2 id (not in the generated sample): the catalogue resolves it from its name.
    const real = 'S2A_MSIL1C_20250704T103041_N0511_R108_T32TMT_20250704T123922.SAFE';
    const older = new StacClient({ stacUrl: `${emulator.url}/stac`, tokens, dispatcher: agent });
    for (const client of [stac, older]) {
      const found = await client.searchAll({ collections: [COLLECTION], ids: [real] });
      expect(found.items).toEqual([expect.objectContaining({ id: real, collection: COLLECTION })]);
    }
    const wrong = await stac.searchAll({ collections: ['EO.ESA.DAT.SENTINEL-2.MSI.L2A'], ids: [real] });
    expect(wrong.items).toEqual([]);
  });

  it('follows the next links page by page and returns every match once', async () => {
    const pages: number[] = [];
    for await (const page of stac.pages({ collections: [COLLECTION], limit: 25 })) pages.push(page.items.length);
    expect(pages).toEqual([25, 25, 10]);
    const { items, matched, truncated } = await stac.searchAll({ collections: [COLLECTION], limit: 7 });
    expect(matched).toBe(60);
    expect(truncated).toBe(false);
    expect(new Set(items.map((i) => i.id)).size).toBe(60);
    const expected = emulator.catalogue.search({ collections: [COLLECTION], limit: 60 }).items.map((i) => i.id);
    expect(items.map((i) => i.id)).toEqual(expected);
  });

  it('applies bbox, datetime and ids, and stops at maxItems', async () => {
    const bbox: [number, number, number, number] = [0, 40, 20, 55];
    const expected = emulator.catalogue
      .search({ collections: [COLLECTION], bbox, datetime: { start: Date.UTC(2022, 0, 1) }, limit: 100 })
      .items.map((i) => i.id);
    const found = await stac.searchAll({
      collections: [COLLECTION],
      bbox,
      datetime: '2022-01-01T00:00:00Z/..',
      limit: 5,
    });
    expect(found.items.map((i) => i.id)).toEqual(expected);
    const some = await stac.searchAll({ collections: [COLLECTION], limit: 10 }, { maxItems: 12 });
    expect(some.items).toHaveLength(12);
    expect(some.truncated).toBe(true);
    const byId = await stac.searchAll({ collections: [COLLECTION], ids: expected.slice(0, 2) });
    expect(byId.items.map((i) => i.id).sort()).toEqual(expected.slice(0, 2).sort());
    expect(byId.items[0]).toMatchObject({ type: 'Feature', collection: COLLECTION, geometry: { type: 'Polygon' } });
  });

  it('renews a token the catalogue refuses', async () => {
    const stale: TokenSource = {
      token: async () => 'not-a-token',
      invalidate: () => undefined,
    };
    let renewed = 0;
    const renewing: TokenSource = {
      token: async (signal) => (renewed > 0 ? tokens.token(signal) : stale.token(signal)),
      invalidate: () => void renewed++,
    };
    const client = new StacClient({ stacUrl: endpointsAt(emulator.url).stac, tokens: renewing, dispatcher: agent });
    const { items } = await client.searchAll({ collections: [COLLECTION], limit: 3 }, { maxItems: 3 });
    expect(items).toHaveLength(3);
    expect(renewed).toBe(1);
  });
});
