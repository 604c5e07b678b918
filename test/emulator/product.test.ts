import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import {
  createProductStream,
  MIN_PRODUCT_SIZE,
  productDigest,
  productEntries,
  type ProductSpec,
} from '../../src/emulator/product';
import { readLocalHeader, readZipDirectory, type ReadRange } from './zip-reader';

const TUTORIAL_ID = 'S2A_MSIL1C_20230910T050701_N0509_R019_T47VLH_20230910T074321.SAFE';
const S1_ID = 'S1A_IW_GRDH_1SDV_20230910T054256_20230910T054321_050261_060CD9_BF21.SAFE';

async function collect(spec: ProductSpec, range?: { start: number; end: number }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of createProductStream(spec, range)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function rangeReader(spec: ProductSpec): ReadRange {
  return (start, end) => collect(spec, { start, end });
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A small deterministic PRNG so the random ranges are the same on every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 0x100000000;
  };
}

describe('createProductStream', () => {
  it.each([MIN_PRODUCT_SIZE, MIN_PRODUCT_SIZE + 1, 65_536 * 3 + 17, 1_048_576, 2_000_003])(
    'produces exactly %i bytes',
    async (size) => {
      const data = await collect({ identifier: TUTORIAL_ID, size });
      expect(data.length).toBe(size);
    },
  );

  it('is deterministic per identifier and differs between identifiers', async () => {
    const a1 = await collect({ identifier: TUTORIAL_ID, size: 300_000 });
    const a2 = await collect({ identifier: TUTORIAL_ID, size: 300_000 });
    const b = await collect({ identifier: S1_ID, size: 300_000 });
    expect(sha256(a1)).toBe(sha256(a2));
    expect(sha256(a1)).not.toBe(sha256(b));
  });

  it('gives every 64 KiB block of the data distinct bytes, so a misplaced resume cannot match', async () => {
    const spec = { identifier: TUTORIAL_ID, size: 3_000_000 };
    const data = await collect(spec);
    const big = (await readZipDirectory(async (s, e) => data.subarray(s, e + 1), data.length)).entries[2]!;
    const windows: string[] = [];
    for (let off = big.dataOffset; off + 65_536 <= big.dataOffset + big.size; off += 65_536) {
      windows.push(sha256(data.subarray(off, off + 65_536)));
    }
    expect(windows.length).toBe(Math.floor(big.size / 65_536));
    expect(new Set(windows).size).toBe(windows.length);
  });

  it('produces any range equal to the same slice of the whole product', async () => {
    const spec = { identifier: TUTORIAL_ID, size: 700_001 };
    const whole = await collect(spec);
    const boundaries = productEntries(spec).flatMap((e) => [e.offset, e.offset + 30]);
    const ranges: [number, number][] = [
      [0, 0],
      [spec.size - 1, spec.size - 1],
      [0, spec.size - 1],
      ...boundaries.map((b): [number, number] => [Math.max(0, b - 3), Math.min(spec.size - 1, b + 70_000)]),
    ];
    const random = prng(42);
    for (let i = 0; i < 60; i++) {
      const a = Math.floor(random() * spec.size);
      const b = Math.floor(random() * spec.size);
      ranges.push([Math.min(a, b), Math.max(a, b)]);
    }
    for (const [start, end] of ranges) {
      const part = await collect(spec, { start, end });
      expect(part.equals(whole.subarray(start, end + 1))).toBe(true);
    }
  });

  it('serves the last bytes of a 1 TiB product without generating what comes before', async () => {
    const size = 1024 ** 4;
    // CPU time, not wall time: it does not grow when the machine is busy. Generating the 1 TiB before
    // the tail would cost over 15 CPU minutes (the generator makes about 1 GiB per CPU second); the
    // layout and the last megabyte take about one CPU second, so 60 s separates the two by 15×
    // whatever else runs beside the test.
    const before = process.cpuUsage();
    const tail = await collect({ identifier: 'S2B_MSIL2A_HUGE', size }, { start: size - 1_000_000, end: size - 1 });
    const { user, system } = process.cpuUsage(before);
    expect(tail.length).toBe(1_000_000);
    expect(tail.readUInt32LE(tail.length - 22)).toBe(0x06054b50); // ends with the end-of-directory record
    expect((user + system) / 1e6).toBeLessThan(60);
  });

  it('rejects sizes below MIN_PRODUCT_SIZE, non-integers and ranges outside the product', () => {
    expect(() => createProductStream({ identifier: 'x', size: MIN_PRODUCT_SIZE - 1 })).toThrow(RangeError);
    expect(() => createProductStream({ identifier: 'x', size: 5000.5 })).toThrow(RangeError);
    expect(() => createProductStream({ identifier: '', size: 5000 })).toThrow(RangeError);
    expect(() => createProductStream({ identifier: 'x', size: 5000 }, { start: 10, end: 9 })).toThrow(RangeError);
    expect(() => createProductStream({ identifier: 'x', size: 5000 }, { start: 0, end: 5000 })).toThrow(RangeError);
    expect(() => createProductStream({ identifier: 'x', size: 5000 }, { start: -1, end: 5 })).toThrow(RangeError);
  });
});

describe('product zip structure', () => {
  it('is a stored zip with a SAFE-like layout and correct CRCs', async () => {
    const spec = { identifier: TUTORIAL_ID, size: 1_234_567 };
    const data = await collect(spec);
    const dir = await readZipDirectory(async (s, e) => data.subarray(s, e + 1), data.length);
    expect(dir.zip64).toBe(false);
    expect(dir.entries.map((e) => e.name)).toEqual([
      `${TUTORIAL_ID}/manifest.safe`,
      `${TUTORIAL_ID}/MTD_MSIL1C.xml`,
      expect.stringMatching(
        new RegExp(
          `^${TUTORIAL_ID}/GRANULE/L1C_T47VLH_A\\d{6}_20230910T050701/IMG_DATA/T47VLH_20230910T050701_B02\\.jp2$`,
        ),
      ),
    ]);
    for (const entry of dir.entries) {
      expect(entry.method).toBe(0);
      expect(entry.compressedSize).toBe(entry.size);
      const body = data.subarray(entry.dataOffset, entry.dataOffset + entry.size);
      expect(crc32(body)).toBe(entry.crc32);
      const local = await readLocalHeader(async (s, e) => data.subarray(s, e + 1), entry.localHeaderOffset);
      expect(local).toEqual({
        name: entry.name,
        crc32: entry.crc32,
        size: entry.size,
        compressedSize: entry.size,
        flags: 0,
      });
    }
    const manifest = data.subarray(dir.entries[0]!.dataOffset, dir.entries[0]!.dataOffset + dir.entries[0]!.size);
    expect(manifest.toString()).toContain(`textInfo="${TUTORIAL_ID}"`);
    // The big entry fills the product: its data ends where the central directory begins.
    const big = dir.entries[2]!;
    expect(big.dataOffset + big.size).toBe(dir.centralDirectoryOffset);
  });

  it.each([
    [S1_ID, /\/measurement\/s1a_iw_grdh_.*-vv\.tiff$/],
    [
      'S3B_OL_2_WRR____20230910T085805_20230910T094216_20230911T160155_2651_103_078______MAR_O_NT_003.SEN3',
      /\/Oa01_radiance\.nc$/,
    ],
    [
      'S2B_MSIL2A_20240301T103859_N0510_R008_T32TLR_20240301T135116.SAFE',
      /\/IMG_DATA\/R10m\/T32TLR_20240301T103859_B02_10m\.jp2$/,
    ],
  ])('lays out %s like its mission', async (identifier, bigName) => {
    const spec = { identifier, size: 20_000 };
    const dir = await readZipDirectory(rangeReader(spec), spec.size);
    expect(dir.entries).toHaveLength(3);
    expect(dir.entries[2]!.name).toMatch(bigName);
    expect(dir.entries.every((e) => e.name.startsWith(`${identifier}/`))).toBe(true);
  });

  it.each([
    ['hostile', `../../${'é/\\'.repeat(300)}"<x>`],
    ['longest-named', `S1A_${'x'.repeat(400)}`], // S1 repeats the stem in two entry names
  ])('keeps a %s identifier inside one safe folder and fits the smallest size', async (_kind, identifier) => {
    const spec = { identifier, size: MIN_PRODUCT_SIZE };
    const data = await collect(spec);
    const dir = await readZipDirectory(async (s, e) => data.subarray(s, e + 1), data.length);
    expect(dir.entries).toHaveLength(3);
    for (const entry of dir.entries) {
      expect(entry.name).toMatch(/^[A-Za-z0-9_][A-Za-z0-9._-]*\/[A-Za-z0-9._/-]+$/);
      expect(entry.name.split('/')).not.toContain('..');
      expect(crc32(data.subarray(entry.dataOffset, entry.dataOffset + entry.size))).toBe(entry.crc32);
    }
  });

  it('is accepted by Python zipfile (testzip reads and checks every entry)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dedl-product-'));
    try {
      const file = join(dir, 'product.zip');
      await writeFile(file, await collect({ identifier: TUTORIAL_ID, size: 333_333 }));
      const script = 'import sys,zipfile;z=zipfile.ZipFile(sys.argv[1]);print(z.testzip(), len(z.namelist()))';
      const { stdout } = await promisify(execFile)('python3', ['-c', script, file]);
      expect(stdout.trim()).toBe('None 3');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('uses ZIP64 above 4 GiB with consistent records and a correct CRC over all 4.5 GiB', async () => {
    const spec = { identifier: S1_ID, size: 4.5 * 1024 ** 3 };
    const read = rangeReader(spec);
    const dir = await readZipDirectory(read, spec.size);
    expect(dir.zip64).toBe(true);
    expect(dir.centralDirectoryOffset).toBeGreaterThan(0xffffffff);
    const big = dir.entries[2]!;
    expect(big.size).toBeGreaterThan(0xffffffff);
    expect(big.dataOffset + big.size).toBe(dir.centralDirectoryOffset);
    expect(await readLocalHeader(read, big.localHeaderOffset)).toMatchObject({ size: big.size, crc32: big.crc32 });
    let crc = 0;
    for await (const chunk of createProductStream(spec, {
      start: big.dataOffset,
      end: big.dataOffset + big.size - 1,
    })) {
      crc = crc32(chunk as Buffer, crc);
    }
    expect(crc).toBe(big.crc32);
  }, 120_000);
});

describe('productDigest', () => {
  it('equals the sha256 of the streamed bytes and is memoised', async () => {
    const spec = { identifier: TUTORIAL_ID, size: 456_789 };
    const first = productDigest(spec);
    expect(productDigest({ ...spec })).toBe(first);
    expect(await first).toEqual({ sha256: sha256(await collect(spec)), size: spec.size });
  });

  it('rejects invalid specs synchronously', () => {
    expect(() => productDigest({ identifier: 'x', size: 10 })).toThrow(RangeError);
  });
});
