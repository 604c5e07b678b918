/**
 * `output.unpack` / `output.entries` after a product is verified: its zip becomes the folder
 * `<name without .zip>` beside it — in a local sink a folder (storage/unpack.ts: streamed,
 * CRC-checked, renamed into place whole), in an S3 sink one object per entry (storage/unpack-s3.ts:
 * staged, then copied to the final keys) — the zip is removed unless kept, and the sidecar's
 * assets are the entries. The caller writes the sidecar only after this returns: it is what says
 * the folder is complete.
 */
import { unlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { S3CredentialSet } from '../config/credentials';
import { type UnpackedEntry, unpackProduct } from '../storage/unpack';
import { unpackS3Object } from '../storage/unpack-s3';
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
  options: { entries?: string[]; keepZip?: boolean; signal?: AbortSignal },
  onProgress: (bytes: number) => void,
  s3Keys?: S3CredentialSet,
): Promise<{ location: string; assets: Record<string, DeliveredAsset> }> {
  const folder = zipName.replace(/\.zip$/i, '');
  let location: string;
  let entries: UnpackedEntry[];
  if (zipLocation.startsWith('s3://')) {
    if (!s3Keys) throw new Error(`unpacking into ${zipLocation} needs the sink's credentials`);
    ({ location, entries } = await unpackS3Object(s3Keys, zipLocation, folder, { ...options, onProgress }));
  } else {
    const zipPath = fileURLToPath(zipLocation);
    const dir = path.dirname(zipPath);
    entries = await unpackProduct(zipPath, dir, folder, {
      entries: options.entries,
      signal: options.signal,
      onProgress,
    });
    if (!options.keepZip) await unlink(zipPath);
    location = `${pathToFileURL(path.join(dir, folder)).toString()}/`;
  }
  const assets: Record<string, DeliveredAsset> = {};
  const keys = assetKeys(entries.map((e) => e.path));
  for (const [i, entry] of entries.entries()) {
    assets[keys[i]!] = {
      href: `./${folder}/${entry.path}`,
      size: entry.size,
      sha256: entry.sha256,
      type: MEDIA_TYPES[path.extname(entry.path).toLowerCase()] ?? 'application/octet-stream',
    };
  }
  return { location, assets };
}

/** Tokens of an entry's name that name the product, not the band: a tile (T47VLH) or a time. */
const PRODUCT_TOKEN = /^(T\d{2}[A-Z]{3}|\d{8}T\d{6})$/;

/**
 * Asset keys that are the same across products, so that odc-stac can pick bands by name: an image
 * entry's name without its tile and time (`T47VLH_20230910T050701_B04.jp2` → `B04`); any other
 * entry, or a key two entries would share, keeps its path in the product.
 */
export function assetKeys(paths: readonly string[]): string[] {
  const short = paths.map((p) => {
    const base = path.posix.basename(p);
    if (!/\.(jp2|tiff?)$/i.test(base)) return p;
    const stem = base.replace(/\.[^.]+$/, '');
    const band = stem
      .split('_')
      .filter((t) => !PRODUCT_TOKEN.test(t))
      .join('_');
    return band || p;
  });
  const counts = new Map<string, number>();
  for (const key of short) counts.set(key, (counts.get(key) ?? 0) + 1);
  return short.map((key, i) => (counts.get(key) === 1 && !paths.includes(key) ? key : paths[i]!));
}
