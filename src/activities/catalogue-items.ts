/**
 * Catalogue items of many products at once: one STAC search per 100 ids (campaign manifests,
 * plans, maps, PRIVATE verification batches), and an order's items cut down to what its products'
 * STAC sidecars and layouts read, small enough to travel in workflow history to each delivery.
 */
import { Context } from '@temporalio/activity';
import type { StacClient, StacFeature } from '../hook/stac';

/** Ids per catalogue search (HDA and the emulator allow 100 per page). */
export const STAC_PAGE = 100;

/** The catalogue's items for these products, 100 ids per search; none when there is no catalogue. */
export async function catalogueItems(
  stac: StacClient | undefined,
  collection: string,
  identifiers: readonly string[],
  signal: AbortSignal,
): Promise<Map<string, StacFeature>> {
  const found = new Map<string, StacFeature>();
  if (!stac) return found;
  for (let i = 0; i < identifiers.length; i += STAC_PAGE) {
    const ids = identifiers.slice(i, i + STAC_PAGE);
    const page = await stac.searchAll({ collections: [collection], ids, limit: STAC_PAGE }, { signal });
    for (const feature of page.items) found.set(feature.id, feature);
    Context.current().heartbeat({ looked: i + ids.length });
  }
  return found;
}

/**
 * An item as the sidecar (stac-sidecar.ts `productItem`) and the layout (product-placement.ts)
 * read it: id, collection, geometry, bbox, properties, extensions, and the `collection` and `self`
 * links only. Its HDA assets and other links (the bulk of a catalogue item) are left out.
 */
export function slimItem(feature: StacFeature): StacFeature {
  const keep = (feature.links ?? []).filter((link) => {
    const rel = (link as { rel?: unknown } | null)?.rel;
    return rel === 'collection' || rel === 'self';
  });
  const slim: StacFeature = { type: 'Feature', id: feature.id };
  if (feature.collection !== undefined) slim.collection = feature.collection;
  if (feature.stac_extensions) slim.stac_extensions = feature.stac_extensions;
  if (feature.geometry !== undefined) slim.geometry = feature.geometry;
  if (feature.bbox) slim.bbox = feature.bbox;
  if (feature.properties) slim.properties = feature.properties;
  if (keep.length > 0) slim.links = keep;
  return slim;
}

/**
 * Bounds on what one order's lookup hands the workflow (its result, then each delivery's input,
 * are stored in history; Temporal refuses a payload over 2 MB and warns from 512 KB). An item over
 * `ITEM_BYTES` (a footprint of thousands of vertices), or past `ORDER_BYTES` in all, is left out:
 * its delivery looks it up itself.
 */
export const ORDER_CATALOGUE_LIMITS = { ITEM_BYTES: 16 * 1024, ORDER_BYTES: 256 * 1024 };

/**
 * An order's products → their slim catalogue items: `null` for a product the catalogue does not
 * hold (its sidecar is a minimal item), absent for one left out by the size bounds.
 */
export function orderCatalogue(
  identifiers: readonly string[],
  found: ReadonlyMap<string, StacFeature>,
  limits = ORDER_CATALOGUE_LIMITS,
): { items: Record<string, StacFeature | null>; leftOut: number } {
  const items: Record<string, StacFeature | null> = {};
  let bytes = 0;
  let leftOut = 0;
  for (const identifier of identifiers) {
    const feature = found.get(identifier);
    const slim = feature ? slimItem(feature) : null;
    const size = JSON.stringify(slim).length + identifier.length + 6;
    if (size > limits.ITEM_BYTES || bytes + size > limits.ORDER_BYTES) {
      leftOut++;
      continue;
    }
    bytes += size;
    items[identifier] = slim;
  }
  return { items, leftOut };
}
