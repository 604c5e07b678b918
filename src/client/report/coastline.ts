/**
 * The land of the world (Natural Earth 1:110m, from the `world-atlas` package, read from disk:
 * nothing is fetched) as rings of [lon, lat] points, for the campaign map's coastline.
 */
import { readFile } from 'node:fs/promises';
import { feature } from 'topojson-client';
import type { Topology } from 'topojson-specification';

export type Ring = [number, number][];

let land: Promise<Ring[]> | undefined;

/** Every outer and inner ring of the land polygons (read once per process). */
export function landRings(): Promise<Ring[]> {
  land ??= (async () => {
    const topology = JSON.parse(await readFile(require.resolve('world-atlas/land-110m.json'), 'utf8')) as Topology;
    const geojson = feature(topology, topology.objects.land!);
    const features = 'features' in geojson ? geojson.features : [geojson];
    const rings: Ring[] = [];
    for (const { geometry } of features) {
      if (geometry?.type === 'Polygon') rings.push(...(geometry.coordinates as Ring[]));
      if (geometry?.type === 'MultiPolygon')
        for (const polygon of geometry.coordinates) rings.push(...(polygon as Ring[]));
    }
    return rings;
  })();
  return land;
}
