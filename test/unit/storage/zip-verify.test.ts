import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CorruptZipError, UnsupportedZipError } from '../../../src/storage/errors';
import { type ZipEntrySummary, ZipStreamVerifier } from '../../../src/storage/zip-verify';
import { type TestZipEntry, buildZip, noise } from '../../helpers/zip-writer';

const run = promisify(execFile);

async function verify(zip: Buffer, chunkSize = 4096, entries?: ZipEntrySummary[]) {
  const verifier = new ZipStreamVerifier({ onEntry: (entry) => entries?.push(entry) });
  for (let i = 0; i < zip.length; i += chunkSize) await verifier.write(zip.subarray(i, i + chunkSize));
  return verifier.finish();
}

function flip(zip: Buffer, at: number): Buffer {
  const copy = Buffer.from(zip);
  copy[at] = copy[at]! ^ 0xff;
  return copy;
}

const text = Buffer.from('Sentinel-2 granule metadata\n'.repeat(400));

const mixed: TestZipEntry[] = [
  { name: 'S2A.SAFE/manifest.safe', data: text, method: 'deflate' },
  { name: 'S2A.SAFE/GRANULE/B01.jp2', data: noise(70_000), method: 'stored' },
  { name: 'S2A.SAFE/empty.txt', data: Buffer.alloc(0), method: 'stored' },
  { name: 'S2A.SAFE/empty-deflated.txt', data: Buffer.alloc(0), method: 'deflate' },
  { name: 'S2A.SAFE/HTML/ünïcode.html', data: noise(3000, 7), method: 'deflate' },
];

describe('ZipStreamVerifier: archives that must pass', () => {
  it.each([1, 7, 4096, 1 << 20])('checks stored, deflated and empty entries fed in %i-byte chunks', async (chunk) => {
    const { zip } = buildZip(mixed);
    const seen: ZipEntrySummary[] = [];
    const summary = await verify(zip, chunk, seen);
    expect(summary).toMatchObject({ entries: 5, zip64: false, length: zip.length });
    expect(summary.uncompressedSize).toBe(text.length + 70_000 + 3000);
    expect(seen.map((e) => [e.name, e.method, e.size])).toEqual([
      ['S2A.SAFE/manifest.safe', 8, text.length],
      ['S2A.SAFE/GRANULE/B01.jp2', 0, 70_000],
      ['S2A.SAFE/empty.txt', 0, 0],
      ['S2A.SAFE/empty-deflated.txt', 8, 0],
      ['S2A.SAFE/HTML/ünïcode.html', 8, 3000],
    ]);
  });

  it.each([
    ['signed descriptors', 'signed' as const, false],
    ['unsigned descriptors', 'unsigned' as const, false],
    ['signed ZIP64 descriptors', 'signed' as const, true],
  ])('finds the end of deflated entries with %s by the deflate stream', async (_label, descriptor, zip64) => {
    const entries = mixed
      .filter((e) => e.method === 'deflate')
      .map((e) => ({ ...e, descriptor, zip64 }) satisfies TestZipEntry);
    const { zip } = buildZip(entries, { zip64End: zip64 });
    for (const chunk of [1, 13, 65536]) {
      await expect(verify(zip, chunk)).resolves.toMatchObject({ entries: 3, zip64 });
    }
  });

  it('finds the descriptor of stored entries of unknown size by signature, CRC and size (also ZIP64)', async () => {
    // The data itself contains descriptor signatures (one followed by a plausible CRC) that must not end the entry.
    const tricky = Buffer.concat([noise(1000), Buffer.from('PK\x07\x08', 'latin1'), noise(12, 3), noise(500, 4)]);
    const entries: TestZipEntry[] = [
      { name: 'a.bin', data: tricky, method: 'stored', descriptor: 'signed' },
      { name: 'empty', data: Buffer.alloc(0), method: 'stored', descriptor: 'signed' },
      { name: 'b.bin', data: noise(5000, 9), method: 'stored', descriptor: 'signed', zip64: true },
      { name: 'c.bin', data: noise(100, 10), method: 'stored', descriptor: 'signed', sizesInLocalHeader: true },
    ];
    const { zip } = buildZip(entries, { zip64End: true });
    for (const chunk of [1, 2, 3, 5, 64, 65536]) {
      const seen: ZipEntrySummary[] = [];
      await expect(verify(zip, chunk, seen)).resolves.toMatchObject({ entries: 4, zip64: true });
      expect(seen.map((e) => e.size)).toEqual([tricky.length, 0, 5000, 100]);
    }
  });

  it('accepts ZIP64 extra fields and end records', async () => {
    const { zip } = buildZip(
      mixed.map((e) => ({ ...e, zip64: true })),
      { zip64End: true, comment: 'produced by a test' },
    );
    await expect(verify(zip)).resolves.toMatchObject({ entries: 5, zip64: true, length: zip.length });
  });

  it('counts a digital signature record as part of the central directory', async () => {
    const { zip, layout } = buildZip(mixed);
    const signature = Buffer.concat([Buffer.from([0x50, 0x4b, 0x05, 0x05, 4, 0]), Buffer.from('sig!')]);
    const end = Buffer.from(zip.subarray(layout.endOffset));
    end.writeUInt32LE(end.readUInt32LE(12) + signature.length, 12);
    const signed = Buffer.concat([zip.subarray(0, layout.endOffset), signature, end]);
    await expect(verify(signed, 5)).resolves.toMatchObject({ entries: 5, length: signed.length });
  });

  describe('archives written by real tools', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'zip-tools-'));
      await writeFile(path.join(dir, 'random.bin'), noise(200_000, 5));
      await writeFile(path.join(dir, 'text.txt'), text);
      await writeFile(path.join(dir, 'empty.txt'), '');
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    const files = ['random.bin', 'text.txt', 'empty.txt'];

    it.each([
      ['Info-ZIP, seekable', ['-q', '-X']],
      ['Info-ZIP, stored', ['-q', '-X', '-0']],
      ['Info-ZIP, forced ZIP64', ['-q', '-X', '-fz']],
    ])('%s', async (_label, flags) => {
      const out = path.join(dir, `${flags.join('')}.zip`);
      await rm(out, { force: true });
      await run('zip', [...flags, out, ...files], { cwd: dir });
      await expect(verify(await readFile(out), 3000)).resolves.toMatchObject({ entries: 3 });
    });

    it.each([
      ['Info-ZIP streamed to a pipe (deflate + descriptors)', ''],
      ['Info-ZIP streamed to a pipe (stored + descriptors)', '-0'],
    ])('%s', async (_label, level) => {
      const { stdout } = await run('sh', ['-c', `zip -q -X ${level} - ${files.join(' ')} | cat`], {
        cwd: dir,
        encoding: 'buffer',
        maxBuffer: 10 * 1024 * 1024,
      });
      await expect(verify(stdout, 1000)).resolves.toMatchObject({ entries: 3 });
    });

    it('Python zipfile to a non-seekable stream (descriptors, ZIP64 descriptors, deflate and stored)', async () => {
      const script = [
        'import io, sys, zipfile',
        'class Pipe(io.RawIOBase):',
        '    def writable(self): return True',
        '    def write(self, b): sys.stdout.buffer.write(b); return len(b)',
        'with zipfile.ZipFile(Pipe(), "w") as z:',
        '    for name, method, z64 in [("random.bin", zipfile.ZIP_STORED, True), ("text.txt", zipfile.ZIP_DEFLATED, True),',
        '                              ("empty.txt", zipfile.ZIP_STORED, False), ("text2.txt", zipfile.ZIP_DEFLATED, False)]:',
        '        info = zipfile.ZipInfo(name); info.compress_type = method',
        '        with z.open(info, "w", force_zip64=z64) as f: f.write(open(name.replace("2", ""), "rb").read())',
      ].join('\n');
      const { stdout } = await run('python3', ['-c', script], { cwd: dir, encoding: 'buffer', maxBuffer: 10 << 20 });
      const seen: ZipEntrySummary[] = [];
      await expect(verify(stdout, 777, seen)).resolves.toMatchObject({ entries: 4 });
      expect(seen.every((e) => e.dataDescriptor)).toBe(true);
      expect(seen.map((e) => e.zip64)).toEqual([true, true, false, false]);
    });
  });
});

describe('ZipStreamVerifier: damaged archives', () => {
  const built = buildZip(mixed);
  const { zip, layout } = built;
  const stored = layout.entries[1]!;
  const deflated = layout.entries[0]!;

  it('rejects a flipped byte in a stored entry with its name and both CRCs', async () => {
    const damaged = flip(zip, stored.dataOffset + 1234);
    const err = await verify(damaged).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptZipError);
    expect((err as Error).message).toMatch(
      /"S2A.SAFE\/GRANULE\/B01.jp2": CRC-32 mismatch: local header says 0x[0-9a-f]{8}, data has 0x[0-9a-f]{8}/,
    );
    expect((err as CorruptZipError).offset).toBe(stored.headerOffset);
  });

  it('rejects a flipped byte in deflated data', async () => {
    const damaged = flip(zip, deflated.dataOffset + Math.floor(deflated.dataLength / 2));
    await expect(verify(damaged)).rejects.toThrow(
      /entry "S2A.SAFE\/manifest.safe": (CRC-32 mismatch|deflate data does not inflate)/,
    );
  });

  it('rejects a flipped byte in a stored entry of unknown size as soon as its descriptor shows up', async () => {
    const { zip: withDescriptor, layout: l } = buildZip([
      { name: 'x.bin', data: noise(5000), method: 'stored', descriptor: 'signed' },
      { name: 'y.bin', data: noise(50), method: 'stored' },
    ]);
    const damaged = flip(withDescriptor, l.entries[0]!.dataOffset + 10);
    await expect(verify(damaged, 100)).rejects.toThrow(/entry "x.bin": CRC-32 mismatch: data descriptor says/);
  });

  it('rejects a data descriptor that disagrees with the data', async () => {
    const { zip: z, layout: l } = buildZip([{ name: 'd.txt', data: text, method: 'deflate', descriptor: 'signed' }]);
    const descriptorCrc = l.entries[0]!.dataOffset + l.entries[0]!.dataLength + 4;
    await expect(verify(flip(z, descriptorCrc))).rejects.toThrow(
      /entry "d.txt": CRC-32 mismatch: data descriptor says/,
    );
  });

  it.each([
    ['inside the first entry', 100],
    ['inside the stored entry', stored.dataOffset + 10],
    ['inside the central directory', layout.centralDirectoryOffset + 30],
    ['just before the end record', layout.endOffset],
    ['inside the end record', zip.length - 5],
  ])('rejects an archive truncated %s', async (_label, cut) => {
    const err = await verify(zip.subarray(0, cut)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptZipError);
    expect((err as Error).message).toContain('archive ends early');
  });

  it('rejects a central directory entry whose name was changed', async () => {
    const nameAt = layout.centralHeaders[2]! + 46 + 'S2A.SAFE/'.length;
    const damaged = Buffer.from(zip);
    damaged.write('X', nameAt, 'latin1');
    await expect(verify(damaged)).rejects.toThrow(
      /central directory entry "S2A.SAFE\/Xmpty.txt" \(local header at \d+\) disagrees: local header names it "S2A.SAFE\/empty.txt"/,
    );
  });

  it('rejects a central directory CRC that differs from the data', async () => {
    const damaged = flip(zip, layout.centralHeaders[1]! + 16);
    await expect(verify(damaged)).rejects.toThrow(
      /"S2A.SAFE\/GRANULE\/B01.jp2" .* disagrees: CRC-32 0x[0-9a-f]{8}, data has/,
    );
  });

  it('rejects a central directory offset that points nowhere', async () => {
    const damaged = Buffer.from(zip);
    damaged.writeUInt32LE(layout.entries[1]!.headerOffset + 1, layout.centralHeaders[1]! + 42);
    await expect(verify(damaged)).rejects.toThrow(/points to offset \d+, where no local file header was found/);
  });

  it('rejects an entry left out of the central directory', async () => {
    // Rebuild: the same entries, but the central directory and end record describe only four.
    const four = buildZip(mixed.slice(0, 4));
    const fifthLocal = buildZip(mixed.slice(4)).zip.subarray(0, buildZip(mixed.slice(4)).layout.centralDirectoryOffset);
    const shift = fifthLocal.length;
    const cd = Buffer.from(four.zip.subarray(four.layout.centralDirectoryOffset));
    const eocdAt = four.layout.endOffset - four.layout.centralDirectoryOffset;
    cd.writeUInt32LE(four.layout.centralDirectoryOffset + shift, eocdAt + 16);
    const damaged = Buffer.concat([four.zip.subarray(0, four.layout.centralDirectoryOffset), fifthLocal, cd]);
    await expect(verify(damaged)).rejects.toThrow(
      /1 entry is missing from the central directory \("S2A.SAFE\/HTML\/ünïcode.html"\)/,
    );
  });

  it('rejects end records whose totals disagree with the central directory', async () => {
    const count = Buffer.from(zip);
    count.writeUInt16LE(4, layout.endOffset + 8);
    count.writeUInt16LE(4, layout.endOffset + 10);
    await expect(verify(count)).rejects.toThrow('end of central directory record says entry count 4, archive has 5');
    const offset = Buffer.from(zip);
    offset.writeUInt32LE(layout.centralDirectoryOffset - 1, layout.endOffset + 16);
    await expect(verify(offset)).rejects.toThrow(/says central directory offset \d+, archive has \d+/);
  });

  it('rejects a ZIP64 end record whose totals disagree', async () => {
    const { zip: z, layout: l } = buildZip(mixed, { zip64End: true });
    const damaged = Buffer.from(z);
    const zip64End = l.endOffset - 20 - 56;
    damaged.writeBigUInt64LE(BigInt(l.endOffset), zip64End + 40); // central directory size
    await expect(verify(damaged)).rejects.toThrow(/zip64 end of central directory record says central directory size/);
  });

  it('rejects bytes after the end record (total length must match)', async () => {
    await expect(verify(Buffer.concat([zip, Buffer.from('junk')]))).rejects.toThrow(
      'bytes follow the end of central directory record',
    );
  });

  it('rejects something that is not a zip at all', async () => {
    await expect(verify(Buffer.from('%PDF-1.7 not a zip at all, long enough to matter'))).rejects.toThrow(
      /not a zip archive: it starts with bytes 25504446 \("%PDF"\)/,
    );
    await expect(verify(Buffer.alloc(0))).rejects.toThrow('archive ends early (no end of central directory record)');
  });

  it('refuses encrypted entries and unknown compression methods as unverifiable', async () => {
    const encrypted = Buffer.from(zip);
    encrypted.writeUInt16LE(encrypted.readUInt16LE(6) | 1, 6);
    await expect(verify(encrypted)).rejects.toThrow(UnsupportedZipError);
    const bzip2 = Buffer.from(zip);
    bzip2.writeUInt16LE(12, 8);
    await expect(verify(bzip2)).rejects.toThrow(/uses compression method 12/);
  });

  it('keeps failing after the first error', async () => {
    const verifier = new ZipStreamVerifier();
    await expect(verifier.write(Buffer.from('<html>'))).rejects.toThrow(CorruptZipError);
    await expect(verifier.write(zip)).rejects.toThrow(CorruptZipError);
    await expect(verifier.finish()).rejects.toThrow(CorruptZipError);
  });
});
