/**
 * An order's catalogue items as the workflow carries them to each delivery (activities/catalogue-items.ts):
 * cut to what the sidecar and layout read — the sidecar built from the slim item is the one built
 * from the whole item — and bounded in size, a product the catalogue lacks marked as such.
 */
import { orderCatalogue, slimItem } from '../../../src/activities/catalogue-items';
import { placeProduct } from '../../../src/activities/product-placement';
import { productItem } from '../../../src/activities/stac-sidecar';
import { createCatalogue } from '../../../src/emulator/stac';
import type { StacFeature } from '../../../src/hook/stac';

const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';
const ID = 'S2A_MSIL1C_20230910T050701_N0509_R019_T47VLH_20230910T074321.SAFE';

describe('order catalogue', () => {
  const whole: StacFeature = { ...createCatalogue().getItem(COLLECTION, ID)! };

  it('keeps what the sidecar and the layout read, and drops the HDA assets', () => {
    const slim = slimItem(whole);
    const assets = { product: { href: './x.zip', size: 1, sha256: 'ab'.repeat(32) } };
    expect(productItem(slim, ID, assets)).toEqual(productItem(whole, ID, assets));
    const input = {
      sink: 'file:///s',
      layout: '{collection}/{platform}/{yyyy}/{doy}/{identifier}.zip',
      identifier: ID,
    };
    expect(placeProduct(input, slim)).toEqual(placeProduct(input, whole));
    expect(slim.assets).toBeUndefined();
    expect(JSON.stringify(slim).length).toBeLessThan(JSON.stringify(whole).length);
  });

  it('marks a product the catalogue lacks with null and leaves out what is too big to carry', () => {
    const big = { ...whole, id: 'BIG', properties: { ...whole.properties, blob: 'x'.repeat(20_000) } };
    const found = new Map<string, StacFeature>([
      [ID, whole],
      ['BIG', big],
    ]);
    const { items, leftOut } = orderCatalogue([ID, 'MISSING', 'BIG'], found);
    expect(items).toEqual({ [ID]: slimItem(whole), MISSING: null });
    expect(leftOut).toBe(1);
  });

  it('stops adding items at the order bound; those left out are looked up per product', () => {
    const ids = Array.from({ length: 10 }, (_, i) => `P${i}`);
    const found = new Map(ids.map((id) => [id, { ...whole, id }] as const));
    const one = JSON.stringify(slimItem({ ...whole, id: 'P0' })).length + 8;
    const { items, leftOut } = orderCatalogue(ids, found, { ITEM_BYTES: 16 * 1024, ORDER_BYTES: one * 3 });
    expect(Object.keys(items)).toEqual(['P0', 'P1', 'P2']);
    expect(leftOut).toBe(7);
  });
});
