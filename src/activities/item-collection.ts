/**
 * The STAC ItemCollection of a campaign's delivered products (`items.json`): the same items as the
 * sidecars beside the products (activities/stac-sidecar.ts), with the asset `product` pointing at
 * the verified copy by its full location instead of a relative href.
 */
import type { StacFeature } from '../hook/stac';
import type { CampaignItem } from '../shared/campaign-report';
import { productItem } from './stac-sidecar';

export interface ItemCollection {
  type: 'FeatureCollection';
  features: Record<string, unknown>[];
  numberReturned: number;
  links: unknown[];
}

export function buildItemCollection(
  items: readonly CampaignItem[],
  catalogue: ReadonlyMap<string, StacFeature>,
): ItemCollection {
  const features = items
    .filter((item) => item.location && (item.state === 'delivered' || item.state === 'skipped'))
    .map((item) =>
      productItem(catalogue.get(item.identifier), item.identifier, {
        product: { href: item.location!, size: item.bytes, sha256: item.sha256 },
      }),
    );
  return { type: 'FeatureCollection', features, numberReturned: features.length, links: [] };
}
