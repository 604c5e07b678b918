/**
 * The STAC ItemCollection of a campaign's delivered products: each catalogue item (geometry,
 * datetime, properties, links) with one asset, `product`, pointing at the verified copy with its
 * size and sha256 (STAC file extension; the checksum as a multihash: 0x12 sha2-256, 0x20 bytes).
 */
import type { StacFeature } from '../hook/stac';
import type { CampaignItem } from '../shared/campaign-report';

const STAC_VERSION = '1.0.0';
export const FILE_EXTENSION = 'https://stac-extensions.github.io/file/v2.1.0/schema.json';

export interface ItemCollection {
  type: 'FeatureCollection';
  features: Record<string, unknown>[];
  numberReturned: number;
  links: unknown[];
}

export function buildItemCollection(
  items: readonly CampaignItem[],
  catalogue: ReadonlyMap<string, StacFeature>,
  collection: string,
): ItemCollection {
  const features = items
    .filter((item) => item.location && (item.state === 'delivered' || item.state === 'skipped'))
    .map((item) => {
      const found = catalogue.get(item.identifier);
      const base: Record<string, unknown> = found
        ? { ...found }
        : {
            type: 'Feature',
            stac_version: STAC_VERSION,
            id: item.identifier,
            collection,
            geometry: null,
            properties: { datetime: null },
            links: [],
          };
      const extensions = new Set([...((base.stac_extensions as string[] | undefined) ?? []), FILE_EXTENSION]);
      const asset: Record<string, unknown> = { href: item.location, type: 'application/zip', roles: ['data'] };
      if (item.bytes !== undefined) asset['file:size'] = item.bytes;
      if (item.sha256) asset['file:checksum'] = `1220${item.sha256}`;
      return { ...base, stac_extensions: [...extensions], assets: { product: asset } };
    });
  return { type: 'FeatureCollection', features, numberReturned: features.length, links: [] };
}
