/**
 * Where a verified product goes in its sink: the request's `output.layout` filled in from the
 * product's catalogue item (shared/layout.ts), each path segment made a safe file name, as the
 * folder URL to write into and the product's file name there.
 */
import type { StacFeature } from '../hook/stac';
import { DEFAULT_LAYOUT, renderLayout } from '../shared/layout';
import { safeFileName } from '../storage/safe-name';
import { dateInIdentifier } from './stac-sidecar';

export interface ProductPlacement {
  /** The folder the product is written into: the sink's URL, or a folder under it. */
  dirUrl: string;
  /** The product's (safe) file name in that folder. */
  name: string;
}

export function placeProduct(
  input: { sink: string; layout?: string; collection?: string; identifier: string },
  found: StacFeature | undefined,
): ProductPlacement {
  const properties = found?.properties ?? {};
  const text = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value : undefined);
  const segments = renderLayout(input.layout ?? DEFAULT_LAYOUT, {
    identifier: input.identifier,
    collection: text(found?.collection) ?? input.collection,
    datetime:
      text(properties.datetime) ?? text(properties.start_datetime) ?? dateInIdentifier(input.identifier) ?? undefined,
    platform: text(properties.platform),
  }).map(safeFileName);
  const name = segments.pop()!;
  const folders = segments.map((s) => (input.sink.startsWith('file:') ? encodeURIComponent(s) : s));
  const dirUrl = folders.length > 0 ? `${input.sink.replace(/\/+$/, '')}/${folders.join('/')}` : input.sink;
  return { dirUrl, name };
}
