/**
 * `output.unpack` / `output.entries` after a product is verified: its zip (in a local sink) becomes
 * the folder `<name without .zip>` beside it (storage/unpack.ts: streamed, CRC-checked, renamed
 * into place whole), the zip is removed unless kept, and the sidecar's assets are the entries.
 */
import { unlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { unpackProduct } from '../storage/unpack';
import type { DeliveredAsset } from './stac-sidecar';

/** Asset media types by extension, for the entries a product folder usually holds. */
const MEDIA_TYPES: Record<string, string> = {
  '.jp2': 'image/jp2',
  '.tif': 'image/tiff; application=geotiff',
  '.tiff': 'image/tiff; application=geotiff',
  '.xml': 'application/xml',
  '.safe': 'application/xml',
  '.nc': 'application/netcdf',
  '.json': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.html': 'text/html',
};

export async function unpackDelivered(
  zipLocation: string,
  zipName: string,
  options: { entries?: string[]; keepZip?: boolean },
  onProgress: (bytes: number) => void,
): Promise<{ location: string; assets: Record<string, DeliveredAsset> }> {
  if (!zipLocation.startsWith('file:')) throw new Error('unpacking needs a file:/// sink');
  const zipPath = fileURLToPath(zipLocation);
  const dir = path.dirname(zipPath);
  const folder = zipName.replace(/\.zip$/i, '');
  const entries = await unpackProduct(zipPath, dir, folder, { entries: options.entries, onProgress });
  if (!options.keepZip) await unlink(zipPath);
  const assets: Record<string, DeliveredAsset> = {};
  for (const entry of entries) {
    assets[entry.path] = {
      href: `./${folder}/${entry.path}`,
      size: entry.size,
      sha256: entry.sha256,
      type: MEDIA_TYPES[path.extname(entry.path).toLowerCase()] ?? 'application/octet-stream',
    };
  }
  return { location: `${pathToFileURL(path.join(dir, folder)).toString()}/`, assets };
}
