/**
 * `output.unpack` / `output.entries`: a verified product zip in a local sink turned into its folder.
 * Entries are streamed (never buffered) out of the zip through inflate into a temporary folder
 * beside the final one, each checked against its CRC-32 and size and hashed (sha256) on the way;
 * only a complete folder is renamed to the final name. A crash mid-unpack leaves a temporary
 * folder, never a half folder under the final name; the next attempt removes it and redoes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw, crc32 } from 'node:zlib';
import { CorruptZipError, UnsupportedZipError } from './errors';
import { fsyncDirectory } from './local-sink';

export interface UnpackedEntry {
  /** `/`-separated path inside the product folder. */
  path: string;
  size: number;
  sha256: string;
}

export interface UnpackOptions {
  /** Glob patterns (`*_B04.jp2`, `MTD_*.xml`); an entry is kept when one matches its file name (or its path, for a pattern with `/`). */
  entries?: readonly string[];
  signal?: AbortSignal;
  /** Called with the bytes written so far (for heartbeats). */
  onProgress?: (bytes: number) => void;
}

/** Random access to a zip's bytes: a local file or an S3 object read by ranges. */
export interface ZipSource {
  size: number;
  read(position: number, length: number): Promise<Buffer>;
  /** The bytes `start`..`end` (inclusive), streamed. */
  stream(start: number, end: number): Promise<AsyncIterable<Uint8Array>>;
}

export interface CentralEntry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const TEMP_MARK = '.unpack-';

/** The temporary folder prefix of a final folder name: `.NAME.unpack-` (hidden, beside it). */
function tempPrefix(folderName: string): string {
  return `.${folderName}${TEMP_MARK}`;
}

/**
 * Unpacks `zipPath` into `<dir>/<folderName>`; a single top-level folder shared by every entry
 * (a `.SAFE` zip's) is not repeated inside it. Returns the entries written.
 */
export async function unpackProduct(
  zipPath: string,
  dir: string,
  folderName: string,
  options: UnpackOptions = {},
): Promise<UnpackedEntry[]> {
  const finalDir = path.join(dir, folderName);
  if (path.dirname(finalDir) !== dir) throw new Error(`refusing a folder name that leaves the sink: ${folderName}`);
  await removeStaleTemps(dir, folderName);
  const temp = path.join(dir, `${tempPrefix(folderName)}${randomBytes(6).toString('hex')}`);
  await mkdir(temp);
  const handle = await open(zipPath, 'r');
  try {
    const source = fileZipSource(handle, zipPath, (await handle.stat()).size);
    const written: UnpackedEntry[] = [];
    let bytes = 0;
    for (const { entry, relative } of await selectEntries(source, options.entries)) {
      options.signal?.throwIfAborted();
      const target = path.join(temp, relative);
      await mkdir(path.dirname(target), { recursive: true });
      const result = await extractEntry(source, entry, target, options.signal);
      bytes += result.size;
      options.onProgress?.(bytes);
      written.push({ path: relative, ...result });
    }
    await handle.close().catch(() => undefined);
    await fsyncDirectory(temp);
    // An earlier complete unpack (a retry after a crash past the rename) is replaced whole: moved
    // aside first, since a rename cannot replace a folder that has content.
    const old = await stat(finalDir).then(
      () => path.join(dir, `${tempPrefix(folderName)}old-${randomBytes(6).toString('hex')}`),
      () => undefined,
    );
    if (old) await rename(finalDir, old);
    await rename(temp, finalDir);
    await fsyncDirectory(dir);
    if (old) await rm(old, { recursive: true, force: true });
    return written;
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

/** Removes what an unpack cut short (a crash, a kill) left beside the final folder. */
async function removeStaleTemps(dir: string, folderName: string): Promise<void> {
  const prefix = tempPrefix(folderName);
  for (const name of await readdir(dir)) {
    if (name.startsWith(prefix)) await rm(path.join(dir, name), { recursive: true, force: true });
  }
}

/** Refuses entry paths that are absolute, hold `..`/`.`, backslashes or control characters. */
function checkEntryPath(relative: string): string {
  if (relative.includes('\\') || /[\x00-\x1f]/.test(relative) || relative.startsWith('/')) {
    throw new CorruptZipError(`unsafe entry name ${JSON.stringify(relative)}`, 0);
  }
  if (relative.split('/').some((s) => s === '..' || s === '.' || s === '')) {
    throw new CorruptZipError(`entry name leaves the product folder: ${JSON.stringify(relative)}`, 0);
  }
  return relative;
}

/** A local zip file as a {@link ZipSource}. */
function fileZipSource(handle: FileHandle, zipPath: string, size: number): ZipSource {
  return {
    size,
    async read(position, length) {
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, position);
      return buffer;
    },
    stream: async (start, end) => createReadStream(zipPath, { start, end, highWaterMark: 1 << 20 }),
  };
}

/**
 * The file entries to unpack, in zip order, with their paths in the product folder: a top folder
 * every entry shares (`X.SAFE/`) is not repeated, folders are skipped, `patterns` select (glob).
 */
export async function selectEntries(
  source: ZipSource,
  patterns?: readonly string[],
): Promise<{ entry: CentralEntry; relative: string }[]> {
  const central = await readCentralDirectory(source);
  const strip = commonTopFolder(central.map((e) => e.name));
  const match = patterns?.length ? globMatcher(patterns) : () => true;
  const selected: { entry: CentralEntry; relative: string }[] = [];
  for (const entry of central) {
    const relative = entry.name.slice(strip.length);
    if (!relative || entry.name.endsWith('/') || !match(relative)) continue;
    selected.push({ entry, relative: checkEntryPath(relative) });
  }
  return selected;
}

/** `X.SAFE/` when every entry is under it, else `''`. */
function commonTopFolder(names: readonly string[]): string {
  const first = names[0]?.split('/')[0];
  if (!first || names.some((n) => !n.startsWith(`${first}/`))) return '';
  return `${first}/`;
}

/** A matcher for glob patterns: `*` and `?` within a name, `**` across folders. */
export function globMatcher(patterns: readonly string[]): (entryPath: string) => boolean {
  const compiled = patterns.map((pattern) => {
    const source = pattern
      .split('**')
      .map((part) =>
        part
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '[^/]*')
          .replace(/\?/g, '[^/]'),
      )
      .join('.*');
    return { regex: new RegExp(`^${source}$`), wholePath: pattern.includes('/') };
  });
  return (entryPath) =>
    compiled.some(({ regex, wholePath }) => regex.test(wholePath ? entryPath : path.posix.basename(entryPath)));
}

/**
 * One entry's uncompressed bytes, streamed out of the zip; the stream fails at its end (before a
 * consumer can treat it as whole) when the size or CRC-32 differ from the central directory's.
 * `result()` gives the size and sha256 once it has ended.
 */
export async function checkedEntry(
  source: ZipSource,
  entry: CentralEntry,
  signal?: AbortSignal,
): Promise<{ body: AsyncIterable<Buffer>; result: () => { size: number; sha256: string } }> {
  if (entry.method !== 0 && entry.method !== 8) {
    throw new UnsupportedZipError(`entry ${entry.name} uses compression method ${entry.method}`, entry.localOffset);
  }
  const local = await source.read(entry.localOffset, 30);
  if (local.readUInt32LE(0) !== 0x04034b50)
    throw new CorruptZipError(`no local header for ${entry.name}`, entry.localOffset);
  const dataStart = entry.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  let crc = 0;
  let size = 0;
  const hash = createHash('sha256');
  const raw =
    entry.compressedSize > 0 ? await source.stream(dataStart, dataStart + entry.compressedSize - 1) : Readable.from([]);
  const inflated = entry.method === 8 && entry.compressedSize > 0 ? inflating(raw) : raw;
  async function* body(): AsyncGenerator<Buffer> {
    for await (const chunk of inflated) {
      signal?.throwIfAborted();
      const bytes = Buffer.from(chunk as Uint8Array);
      crc = crc32(bytes, crc);
      size += bytes.length;
      if (size > entry.size) throw mismatch();
      hash.update(bytes);
      yield bytes;
    }
    if (size !== entry.size || crc >>> 0 !== entry.crc >>> 0) throw mismatch();
  }
  const mismatch = () =>
    new CorruptZipError(
      `entry ${entry.name}: ${size} bytes with CRC ${(crc >>> 0).toString(16)}, the zip says ${entry.size} with ${(entry.crc >>> 0).toString(16)}`,
      entry.localOffset,
    );
  let digest: string | undefined;
  return { body: body(), result: () => ({ size, sha256: (digest ??= hash.digest('hex')) }) };
}

/** `raw` through inflate, a failure of either side failing the result. */
function inflating(raw: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const input = Readable.from(raw, { objectMode: false });
  const inflate = createInflateRaw();
  input.on('error', (err) => inflate.destroy(err));
  return input.pipe(inflate);
}

/** Streams one entry out to `target` (fsynced), checking its CRC-32 and size; returns its size and sha256. */
async function extractEntry(
  source: ZipSource,
  entry: CentralEntry,
  target: string,
  signal?: AbortSignal,
): Promise<{ size: number; sha256: string }> {
  const checked = await checkedEntry(source, entry, signal);
  // A path write stream (a FileHandle's with autoClose off never emits the close pipeline waits for).
  await pipeline(Readable.from(checked.body), createWriteStream(target, { flags: 'wx', mode: 0o644 }), { signal });
  const written = await open(target, 'r');
  try {
    await written.sync();
  } finally {
    await written.close();
  }
  return checked.result();
}

/** The central directory's entries (ZIP64 understood), read from the end of the file. */
async function readCentralDirectory(source: ZipSource): Promise<CentralEntry[]> {
  const fileSize = source.size;
  const tailSize = Math.min(fileSize, 22 + 0xffff);
  const tail = await source.read(fileSize - tailSize, tailSize);
  let eocd = -1;
  for (let i = tailSize - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new CorruptZipError('no end of central directory record', fileSize);
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locatorAt = fileSize - tailSize + eocd - 20;
    const locator = await source.read(locatorAt, 20);
    if (locator.readUInt32LE(0) !== 0x07064b50) throw new CorruptZipError('no ZIP64 locator', locatorAt);
    const recordAt = Number(locator.readBigUInt64LE(8));
    const record = await source.read(recordAt, 56);
    if (record.readUInt32LE(0) !== 0x06064b50) throw new CorruptZipError('no ZIP64 end record', recordAt);
    count = Number(record.readBigUInt64LE(32));
    cdSize = Number(record.readBigUInt64LE(40));
    cdOffset = Number(record.readBigUInt64LE(48));
  }
  const cd = await source.read(cdOffset, cdSize);
  const entries: CentralEntry[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (cd.readUInt32LE(at) !== 0x02014b50) throw new CorruptZipError('bad central directory entry', cdOffset + at);
    const nameLength = cd.readUInt16LE(at + 28);
    const extraLength = cd.readUInt16LE(at + 30);
    const commentLength = cd.readUInt16LE(at + 32);
    const entry: CentralEntry = {
      method: cd.readUInt16LE(at + 10),
      crc: cd.readUInt32LE(at + 16),
      compressedSize: cd.readUInt32LE(at + 20),
      size: cd.readUInt32LE(at + 24),
      localOffset: cd.readUInt32LE(at + 42),
      name: cd.toString('utf8', at + 46, at + 46 + nameLength),
    };
    readZip64(cd.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength), entry);
    entries.push(entry);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The ZIP64 extra field's sizes and offset, for the fields the central entry marks 0xffffffff. */
function readZip64(extra: Buffer, entry: CentralEntry): void {
  for (let at = 0; at + 4 <= extra.length;) {
    const id = extra.readUInt16LE(at);
    const length = extra.readUInt16LE(at + 2);
    if (id === 0x0001) {
      let field = at + 4;
      const next = () => {
        const value = Number(extra.readBigUInt64LE(field));
        field += 8;
        return value;
      };
      if (entry.size === 0xffffffff) entry.size = next();
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = next();
      if (entry.localOffset === 0xffffffff) entry.localOffset = next();
      return;
    }
    at += 4 + length;
  }
}
