/**
 * Any real product id works in the emulator's catalogue: a well-formed Sentinel-1/2/3 identifier
 * resolves to an item built from the id (times from its dates, footprint from its tile or seeded by
 * it, size from the id), the same every time, in the collection its name says — and only there.
 * Malformed ids and unknown collections still fail, as on the real service.
 */
import { createCatalogue, defaultProductSize } from '../../src/emulator/stac';
import { parseSearchParams } from '../../src/emulator/stac-search-params';
import { WINDOW_END } from '../../src/emulator/stac-catalogue';

const S2_L2A = 'EO.ESA.DAT.SENTINEL-2.MSI.L2A';
const S1_GRD = 'EO.ESA.DAT.SENTINEL-1.L1_GRD';
const S3_EFR = 'EO.EUM.DAT.SENTINEL-3.OL_1_EFR___';

/** Real identifiers in the missions' naming conventions, none of them in the generated sample. */
const REAL = {
  s2: 'S2B_MSIL2A_20250615T101559_N0511_R065_T32TQM_20250615T130236.SAFE',
  s1: 'S1A_IW_GRDH_1SDV_20250101T053407_20250101T053432_057311_070D3A_8C2B.SAFE',
  s3: 'S3A_OL_1_EFR____20250305T092914_20250305T093214_20250306T100311_0179_122_364_2160_PS1_O_NT_004.SEN3',
};

describe('the emulator catalogue and real product ids', () => {
  const catalogue = createCatalogue({ itemsPerCollection: 20 });

  it('resolves a well-formed id of each mission in its own collection, the same item every time', () => {
    for (const [collection, id] of [
      [S2_L2A, REAL.s2],
      [S1_GRD, REAL.s1],
      [S3_EFR, REAL.s3],
    ] as const) {
      expect(catalogue.has(collection, id)).toBe(true);
      const item = catalogue.getItem(collection, id)!;
      expect(item).toMatchObject({ id, collection, type: 'Feature' });
      expect(item.assets.downloadLink['file:size']).toBe(defaultProductSize(id));
      // Another catalogue (another sample size) builds the very same item.
      expect(createCatalogue({ itemsPerCollection: 3 }).getItem(collection, id)).toEqual(item);
      expect(Date.parse(item.properties.datetime)).toBeGreaterThan(WINDOW_END);
    }
  });

  it('takes the sensing times from the id and places a Sentinel-2 tile in its UTM zone and latitude band', () => {
    const s2 = catalogue.getItem(S2_L2A, REAL.s2)!;
    expect(s2.properties).toMatchObject({
      datetime: '2025-06-15T10:15:59.000Z',
      'processing:level': 'L2A',
      'sat:relative_orbit': 65,
      'grid:code': 'MGRS-32TQM',
      platform: 'sentinel-2b',
    });
    // Zone 32 spans 6°E..12°E; band T spans 40°N..48°N.
    const [west, south, east, north] = s2.bbox;
    expect((west + east) / 2).toBeGreaterThanOrEqual(6);
    expect((west + east) / 2).toBeLessThanOrEqual(12);
    expect((south + north) / 2).toBeGreaterThanOrEqual(40);
    expect((south + north) / 2).toBeLessThanOrEqual(48);

    const s1 = catalogue.getItem(S1_GRD, REAL.s1)!;
    expect(s1.properties).toMatchObject({
      start_datetime: '2025-01-01T05:34:07.000Z',
      end_datetime: '2025-01-01T05:34:32.000Z',
      'sat:absolute_orbit': 57311,
    });
    const s3 = catalogue.getItem(S3_EFR, REAL.s3)!;
    expect(s3.properties).toMatchObject({ start_datetime: '2025-03-05T09:29:14.000Z', 'product:type': 'OL_1_EFR___' });
  });

  it('finds real ids in a search by ids, with the other filters applied', () => {
    const parsed = parseSearchParams({ ids: [REAL.s2, REAL.s1], collections: [S2_L2A, S1_GRD] });
    if (!parsed.ok) throw new Error(parsed.message);
    expect(
      catalogue
        .search(parsed.params)
        .items.map((i) => i.id)
        .sort(),
    ).toEqual([REAL.s1, REAL.s2].sort());
    const outside = parseSearchParams({
      ids: [REAL.s2],
      collections: [S2_L2A],
      datetime: '2021-10-01T00:00:00Z/2021-10-02T00:00:00Z',
    });
    if (!outside.ok) throw new Error(outside.message);
    expect(catalogue.search(outside.params).items).toEqual([]);
  });

  it('refuses a real id in another collection, malformed ids, and unknown collections', () => {
    expect(catalogue.has('EO.ESA.DAT.SENTINEL-2.MSI.L1C', REAL.s2)).toBe(false);
    expect(catalogue.has('EO.ESA.DAT.SENTINEL-1.L1_SLC', REAL.s1)).toBe(false);
    expect(catalogue.has('EO.ESA.DAT.SENTINEL-5P.NOPE', REAL.s2)).toBe(false);
    for (const malformed of [
      REAL.s2.replace('20250615T101559', '20251315T101559'), // month 13
      REAL.s2.replace('T32TQM', 'T00TQM'), // no UTM zone 0
      REAL.s2.replace('_N0511_', '_N511_'),
      REAL.s1.replace('_057311_', '_57311_'),
      'S2B_MSIL2A_something.SAFE',
    ]) {
      expect(catalogue.has(malformed.startsWith('S1') ? S1_GRD : S2_L2A, malformed)).toBe(false);
    }
    // A real product type the catalogue has no collection for: refused like an unknown collection.
    expect(catalogue.has(S3_EFR, REAL.s3.replace('OL_1_EFR___', 'OL_1_ERR___'))).toBe(false);
  });
});
