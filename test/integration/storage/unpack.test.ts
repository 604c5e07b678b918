/**
 * storage/unpack.ts on real files: an emulator product zip unpacked into its folder (every entry's
 * bytes and CRC as the zip says), a selection by globs, a crash's leftover temporary folder
 * cleaned up and redone, and a corrupt entry refused with no folder left under the final name.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, open, readFile, readdir, rm, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { createProductStream, productEntries } from '../../../src/emulator/product';
import { globMatcher, unpackProduct } from '../../../src/storage/unpack';

const ID = 'S2A_MSIL1C_20230910T050701_N0509_R019_T47VLH_20230910T074321.SAFE';
const SIZE = 300_000;

describe('unpacking a verified product', () => {
  let dir: string;
  let zip: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dedl-unpack-'));
    zip = path.join(dir, `${ID}.zip`);
    await pipeline(createProductStream({ identifier: ID, size: SIZE }), createWriteStream(zip));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const entries = () => productEntries({ identifier: ID, size: SIZE });
  const top = (name: string) => name.slice(name.indexOf('/') + 1);

  it('writes every entry with the bytes the zip holds, without repeating the top folder', async () => {
    const written = await unpackProduct(zip, dir, ID);
    expect(written.map((e) => e.path).sort()).toEqual(
      entries()
        .map((e) => top(e.name))
        .sort(),
    );
    for (const entry of entries()) {
      const bytes = await readFile(path.join(dir, ID, top(entry.name)));
      expect(bytes.length).toBe(entry.size);
      expect(crc32(bytes) >>> 0).toBe(entry.crc32 >>> 0);
    }
    // Nothing but the zip and the folder: no temporary folder left.
    expect((await readdir(dir)).sort()).toEqual([ID, `${ID}.zip`].sort());
  });

  it('keeps only the entries a glob matches', async () => {
    const metadata = entries().filter((e) => /\.xml$/.test(e.name));
    expect(metadata.length).toBeGreaterThan(0);
    const written = await unpackProduct(zip, dir, ID, { entries: ['*.xml'] });
    expect(written.map((e) => e.path).sort()).toEqual(metadata.map((e) => top(e.name)).sort());
    expect(globMatcher(['MTD_*.xml', '*_B04.jp2'])('GRANULE/a/IMG_DATA/T47_B04.jp2')).toBe(true);
    expect(globMatcher(['MTD_*.xml'])('MTD_MSIL1C.xml.bak')).toBe(false);
    expect(globMatcher(['GRANULE/**/*.jp2'])('GRANULE/a/IMG_DATA/x.jp2')).toBe(true);
  });

  it('after a crash mid-unpack, removes the half temporary folder and redoes it whole', async () => {
    // What a kill mid-unpack leaves: a hidden temporary folder with a truncated entry.
    const stale = path.join(dir, `.${ID}.unpack-deadbeef0000`);
    await mkdir(stale);
    await writeFile(path.join(stale, top(entries()[0]!.name)), 'half');
    const written = await unpackProduct(zip, dir, ID);
    expect(written).toHaveLength(entries().length);
    expect((await readdir(dir)).sort()).toEqual([ID, `${ID}.zip`].sort());
    // A second unpack (a retry after the rename) replaces the folder whole.
    await unpackProduct(zip, dir, ID);
    expect((await readdir(dir)).sort()).toEqual([ID, `${ID}.zip`].sort());
    expect((await readdir(path.join(dir, ID), { recursive: true })).length).toBeGreaterThanOrEqual(entries().length);
  });

  it('refuses an entry whose CRC does not match, leaving no folder under the final name', async () => {
    const big = entries().reduce((a, b) => (a.size > b.size ? a : b));
    // Flip one byte inside the big entry's data (its local header is 30 bytes + name, no extra).
    const handle = await open(zip, 'r+');
    const at = big.offset + 30 + Buffer.byteLength(big.name) + 1000;
    const one = Buffer.alloc(1);
    await handle.read(one, 0, 1, at);
    one[0] = one[0]! ^ 0xff;
    await handle.write(one, 0, 1, at);
    await handle.close();
    await expect(unpackProduct(zip, dir, ID)).rejects.toThrow(/CRC/);
    expect(await readdir(dir)).toEqual([`${ID}.zip`]);
  });
});
