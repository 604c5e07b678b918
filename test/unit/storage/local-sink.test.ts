import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { CorruptZipError, SizeMismatchError } from '../../../src/storage/errors';
import { LocalSink, PART_SUFFIX } from '../../../src/storage/local-sink';
import { buildZip, chunked, noise } from '../../helpers/zip-writer';

const { zip } = buildZip([
  { name: 'p/manifest.safe', data: Buffer.from('<xfdu/>\n'.repeat(500)), method: 'deflate' },
  { name: 'p/measurement.tiff', data: noise(300_000), method: 'stored' },
]);
const sha256 = createHash('sha256').update(zip).digest('hex');
const NAME = 'S2A_MSIL2A_20240101T101010.SAFE.zip';

/** A body that delivers `upTo` bytes and then fails like a reset connection. */
async function* failingAfter(data: Buffer, upTo: number): AsyncGenerator<Buffer> {
  yield* chunked(data.subarray(0, upTo), 10_000);
  throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
}

describe('LocalSink', () => {
  let root: string;
  let sink: LocalSink;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'local-sink-'));
    sink = await LocalSink.create(path.join(root, 'sink'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('writes, verifies and renames a product, leaving no .part', async () => {
    const progress: number[] = [];
    const delivery = await sink.write(NAME, chunked(zip, 64 * 1024), {
      expect: { contentLength: zip.length },
      onProgress: (bytes) => progress.push(bytes),
    });
    expect(delivery).toMatchObject({ fileName: NAME, size: zip.length, resumedFrom: 0 });
    expect(delivery.path).toBe(path.join(sink.dir, NAME));
    expect(delivery.verification).toMatchObject({ sha256, size: zip.length, zipEntries: 2 });
    expect((await readFile(delivery.path)).equals(zip)).toBe(true);
    expect(await readdir(sink.dir)).toEqual([NAME]);
    expect(progress.at(-1)).toBe(zip.length);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it('removes the .part and writes nothing final when the bytes fail verification', async () => {
    const damaged = Buffer.from(zip);
    damaged[zip.length - 5000] = damaged[zip.length - 5000]! ^ 0xff;
    await expect(
      sink.write(NAME, chunked(damaged, 8192), { keepPartialOnFailure: true }), // bad bytes are never kept
    ).rejects.toThrow(CorruptZipError);
    expect(await readdir(sink.dir)).toEqual([]);
  });

  it('removes the .part on a transfer failure unless asked to keep it', async () => {
    await expect(sink.write(NAME, failingAfter(zip, 100_000))).rejects.toThrow('socket hang up');
    expect(await readdir(sink.dir)).toEqual([]);
  });

  it('resumes a kept .part from its length and verifies the whole file', async () => {
    const first = await sink.open(NAME);
    await expect(
      first.fill(failingAfter(zip, 150_000), {
        expect: { contentLength: zip.length },
        keepPartialOnFailure: (err) => (err as { code?: string }).code === 'ECONNRESET',
      }),
    ).rejects.toThrow('socket hang up');
    const kept = await stat(path.join(sink.dir, NAME + PART_SUFFIX));
    expect(kept.size).toBeGreaterThan(0);
    expect(kept.size).toBeLessThanOrEqual(150_000);

    const again = await sink.open(NAME, { resume: true });
    expect(again.offset).toBe(kept.size);
    // The caller would now send `Range: bytes=${again.offset}-`.
    const delivery = await again.fill(chunked(zip.subarray(again.offset), 50_000), {
      expect: { contentLength: zip.length },
    });
    expect(delivery).toMatchObject({ resumedFrom: kept.size, size: zip.length });
    expect(delivery.verification?.sha256).toBe(sha256);
    expect(
      createHash('sha256')
        .update(await readFile(delivery.path))
        .digest('hex'),
    ).toBe(sha256);
    expect(await readdir(sink.dir)).toEqual([NAME]);
  });

  it('writes every byte the body delivered before it failed, and reports that length', async () => {
    // 150,000 bytes in 10,000-byte chunks, then a reset: the kept .part must end exactly there, so
    // the next attempt asks for `bytes=150000-` and not for bytes it already had.
    const progress: number[] = [];
    const first = await sink.open(NAME);
    await expect(
      first.fill(failingAfter(zip, 150_000), {
        expect: { contentLength: zip.length },
        keepPartialOnFailure: true,
        onProgress: (bytes) => progress.push(bytes),
      }),
    ).rejects.toThrow('socket hang up');
    const kept = await readFile(path.join(sink.dir, NAME + PART_SUFFIX));
    expect(kept.length).toBe(150_000);
    expect(kept.equals(zip.subarray(0, 150_000))).toBe(true);
    expect(first.offset).toBe(150_000);
    expect(progress.at(-1)).toBe(150_000);

    const again = await sink.open(NAME, { resume: true });
    expect(again.offset).toBe(150_000);
    const delivery = await again.fill(chunked(zip.subarray(150_000), 50_000), {
      expect: { contentLength: zip.length },
    });
    expect(delivery.verification?.sha256).toBe(sha256);
  });

  it('keeps the whole received prefix of a body larger than one write block', async () => {
    // Several MiB: the failure lands while earlier blocks are written and a later one is gathering.
    const big = buildZip([{ name: 'big.bin', data: noise(5 * 1024 * 1024 + 12_345), method: 'stored' }]).zip;
    const cut = 4 * 1024 * 1024 + 777;
    await expect(
      sink.write(NAME, failingAfter(big, cut), { expect: { contentLength: big.length }, keepPartialOnFailure: true }),
    ).rejects.toThrow('socket hang up');
    const kept = await readFile(path.join(sink.dir, NAME + PART_SUFFIX));
    expect(kept.length).toBe(cut);
    expect(kept.equals(big.subarray(0, cut))).toBe(true);
  });

  it('rejects a resume whose earlier bytes were damaged, and removes the .part', async () => {
    const partPath = path.join(sink.dir, NAME + PART_SUFFIX);
    const prefix = Buffer.from(zip.subarray(0, 200_000));
    prefix[150_000] = prefix[150_000]! ^ 0x55;
    await writeFile(partPath, prefix);
    const part = await sink.open(NAME, { resume: true });
    await expect(part.fill(chunked(zip.subarray(part.offset), 50_000))).rejects.toThrow(/CRC-32 mismatch/);
    expect(await readdir(sink.dir)).toEqual([]);
  });

  it('restarts from zero when the server ignores the range', async () => {
    await writeFile(path.join(sink.dir, NAME + PART_SUFFIX), zip.subarray(0, 70_000));
    const part = await sink.open(NAME, { resume: true });
    expect(part.offset).toBe(70_000);
    await part.truncate(); // the server answered 200 with the whole body
    expect(part.offset).toBe(0);
    const delivery = await part.fill(chunked(zip, 30_000), { expect: { contentLength: zip.length } });
    expect(delivery.verification?.sha256).toBe(sha256);
  });

  it('opening without resume truncates an old .part', async () => {
    await writeFile(path.join(sink.dir, NAME + PART_SUFFIX), 'stale bytes from another attempt');
    const part = await sink.open(NAME);
    expect(part.offset).toBe(0);
    await part.discard();
  });

  it('removes the .part when cancelled, even when asked to keep partial files', async () => {
    const controller = new AbortController();
    async function* slow(): AsyncGenerator<Buffer> {
      yield zip.subarray(0, 50_000);
      controller.abort();
      yield zip.subarray(50_000, 100_000);
    }
    await expect(
      sink.write(NAME, slow(), { signal: controller.signal, keepPartialOnFailure: true }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(await readdir(sink.dir)).toEqual([]);
  });

  it('removes a partial file in one call', async () => {
    await writeFile(path.join(sink.dir, NAME + PART_SUFFIX), 'x');
    expect(await sink.removePartial(NAME)).toBe(true);
    expect(await sink.removePartial(NAME)).toBe(false);
    expect(await readdir(sink.dir)).toEqual([]);
  });

  it('keeps hostile identifiers inside the sink directory', async () => {
    const small = buildZip([{ name: 'a', data: noise(2000) }]).zip;
    for (const name of ['../../x', '/tmp/abs.zip', '..', 'a\\..\\..\\b', '\uff0e\uff0e\uff0fz']) {
      const delivery = await sink.write(name, chunked(small, 500));
      expect(path.dirname(delivery.path)).toBe(sink.dir);
    }
    expect((await readdir(sink.dir)).length).toBe(5);
    expect(await readdir(root)).toEqual(['sink']);
  });

  it('never follows a symbolic link planted at the .part path', async () => {
    const outside = path.join(root, 'outside.txt');
    await writeFile(outside, 'precious');
    await symlink(outside, path.join(sink.dir, NAME + PART_SUFFIX));
    await expect(sink.open(NAME)).rejects.toMatchObject({ code: 'ELOOP' });
    await expect(sink.open(NAME, { resume: true })).rejects.toMatchObject({ code: 'ELOOP' });
    expect(await readFile(outside, 'utf8')).toBe('precious');
  });

  it('rejects a wrong size and leaves nothing behind', async () => {
    await expect(
      sink.write(NAME, chunked(zip, 10_000), { expect: { processedSize: zip.length + 10 } }),
    ).rejects.toThrow(SizeMismatchError);
    expect(await readdir(sink.dir)).toEqual([]);
  });

  it('writes unverified bytes when verification is switched off', async () => {
    const delivery = await sink.write('notes.txt', chunked(Buffer.from('plain text'), 4), { expect: false });
    expect(delivery.verification).toBeNull();
    expect(await readFile(delivery.path, 'utf8')).toBe('plain text');
  });

  it('frees each chunk it owns once hashed and written, and leaves views and unowned chunks alone', async () => {
    // Whole ArrayBuffers, as socket reads deliver them, plus one view into a larger buffer.
    const owned = [0, 1, 2, 3].map((i) => Buffer.from(zip.subarray(i * 65_536, (i + 1) * 65_536)));
    const backing = Buffer.from(zip.subarray(4 * 65_536 - 100));
    const view = backing.subarray(100);
    const chunks = [...owned, view];
    const delivery = await sink.write(NAME, Readable.from(chunks), {
      expect: { contentLength: zip.length },
      releaseChunks: true,
    });
    expect(delivery.verification).toMatchObject({ sha256, size: zip.length });
    expect((await readFile(delivery.path)).equals(zip)).toBe(true);
    expect(owned.map((c) => c.byteLength)).toEqual([0, 0, 0, 0]); // detached: their memory is gone
    expect(view.equals(zip.subarray(4 * 65_536))).toBe(true);

    const kept = [Buffer.from(zip.subarray(0, 65_536)), Buffer.from(zip.subarray(65_536))];
    await sink.write('again.zip', Readable.from(kept), { expect: { contentLength: zip.length } });
    expect(Buffer.concat(kept).equals(zip)).toBe(true); // without releaseChunks the caller's buffers stay
  });

  it('creates its directory, resolving symbolic links once', async () => {
    const real = path.join(root, 'real');
    await mkdir(real);
    await symlink(real, path.join(root, 'link'));
    const viaLink = await LocalSink.create(path.join(root, 'link'));
    expect(viaLink.dir).toBe(real);
    const nested = await LocalSink.create(path.join(root, 'a', 'b', 'c'));
    expect((await stat(nested.dir)).isDirectory()).toBe(true);
  });
});
