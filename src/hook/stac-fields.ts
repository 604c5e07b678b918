/**
 * What a plan and a campaign map read from a catalogue item, read tolerantly: the product's size
 * (the `file:size` of the asset the Hook delivers) and its footprint as one ring of lon/lat
 * points. An item that does not say gives `undefined`, never a guess.
 */
import type { StacFeature } from './stac';

/** A ring of [lon, lat] points, rounded to 3 decimals (about 100 m: plenty for a map). */
export type Footprint = [number, number][];

/**
 * Bytes of the product the Hook would deliver: the `file:size` of the `downloadLink` asset (HDA's
 * name for the product zip), else of the one zip asset of the item, else unknown.
 */
export function productSizeOf(feature: StacFeature): number | undefined {
  const assets = Object.values(feature.assets ?? {}).filter(isRecord);
  const download = isRecord(feature.assets?.downloadLink) ? feature.assets.downloadLink : undefined;
  const zips = assets.filter((asset) => asset.type === 'application/zip');
  const asset = download ?? (zips.length === 1 ? zips[0] : undefined);
  const size = asset?.['file:size'];
  return typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? size : undefined;
}

/** The outer ring of a Polygon (of the largest part of a MultiPolygon), else the bbox as a rectangle. */
export function footprintOf(feature: StacFeature): Footprint | undefined {
  const geometry = isRecord(feature.geometry) ? feature.geometry : undefined;
  let ring: unknown;
  if (geometry?.type === 'Polygon' && Array.isArray(geometry.coordinates)) ring = geometry.coordinates[0];
  if (geometry?.type === 'MultiPolygon' && Array.isArray(geometry.coordinates)) {
    const rings = geometry.coordinates.map((polygon) => (Array.isArray(polygon) ? polygon[0] : undefined));
    ring = rings.filter(Array.isArray).sort((a, b) => b.length - a.length)[0];
  }
  const points = Array.isArray(ring) ? ring.filter(isPoint) : [];
  if (points.length >= 3) return points.map(([lon, lat]) => [round(lon), round(lat)]);
  const [west, south, east, north] = feature.bbox ?? [];
  if ([west, south, east, north].every((v) => typeof v === 'number' && Number.isFinite(v))) {
    const [w, s, e, n] = [west!, south!, east!, north!].map(round) as [number, number, number, number];
    return [
      [w, s],
      [e, s],
      [e, n],
      [w, n],
      [w, s],
    ];
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPoint(value: unknown): value is [number, number] {
  return (
    Array.isArray(value) &&
    value.length >= 2 &&
    typeof value[0] === 'number' &&
    typeof value[1] === 'number' &&
    Math.abs(value[0]) <= 180 &&
    Math.abs(value[1]) <= 90
  );
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
