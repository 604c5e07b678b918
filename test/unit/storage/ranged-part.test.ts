/**
 * RangedPart: ranges written out of order land at their offsets, the verifier still sees the
 * bytes in order (sha256 and zip checks as for one stream), and a wrong range is refused.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createProductStream, productDigest } from '../../../src/emulator/product';
import { CorruptZipError, SizeMismatchError } from '../../../src/storage/errors';
import { LocalSink } from '../../../src/storage/local-sink';
import { RangedPart, formatRanges, parseRanges } from '../../../src/storage/ranged-part';

const SIZE = 300_000;
const RANGE = 64 * 1024;
const spec = { identifier: 'S2A_MSIL1C_20230910T050701_N0509_R019_T47VLH_20230910T074321.SAFE', size: SIZE };

describe('RangedPart', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(path.join(tmpdir(), 'ranged-part-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes and formats its range map compactly', () => {
    expect(formatRanges([5, 0, 1, 2, 7, 9, 10])).toBe('0-2,5,7,9-10');
    expect([...parseRanges('0-2,5,x,7,9-10', 10)].sort((a, b) => a - b)).toEqual([0, 1, 2, 5, 7, 9]);
  });

  it('verifies out-of-order ranges in byte order and commits the product', async () => {
    const sink = await LocalSink.create(dir);
    const ranged = new RangedPart(await sink.open('p.zip'), SIZE, RANGE, new Set(), { contentLength: SIZE });
    const verified = ranged.verify();
    for (const index of [...ranged.pending()].reverse()) {
      await ranged.writeRange(index, createProductStream(spec, ranged.span(index)));
    }
    const record = await verified;
    await ranged.commit();
    const expected = await productDigest(spec);
    expect(record.sha256).toBe(expected.sha256);
    expect(
      createHash('sha256')
        .update(await readFile(path.join(dir, 'p.zip')))
        .digest('hex'),
    ).toBe(expected.sha256);
    expect(ranged.map().done).toBe(`0-${ranged.count - 1}`);
  });

  it('keeps the landed ranges of an earlier attempt and fetches only the others', async () => {
    const sink = await LocalSink.create(dir);
    const part = await sink.open('p.zip');
    const first = new RangedPart(part, SIZE, RANGE, new Set(), {});
    await first.writeRange(0, createProductStream(spec, first.span(0)));
    await first.writeRange(2, createProductStream(spec, first.span(2)));
    const map = first.map();
    first.dispose();
    await part.close(); // the attempt ends, keeping the file
    const again = new RangedPart(await sink.open('p.zip', { resume: true }), SIZE, RANGE, parseRanges(map.done, 5), {});
    expect(again.pending()).toEqual([1, 3, 4]);
    const verified = again.verify();
    for (const index of again.pending()) await again.writeRange(index, createProductStream(spec, again.span(index)));
    expect((await verified).sha256).toBe((await productDigest(spec)).sha256);
    await again.commit(); // closes the file (a handle left to the collector is DEP0137)
  });

  it('refuses a range of the wrong length, and the checks reject a flipped byte', async () => {
    const sink = await LocalSink.create(dir);
    const shortPart = await sink.open('s.zip');
    const short = new RangedPart(shortPart, SIZE, RANGE, new Set(), {});
    await expect(short.writeRange(1, createProductStream(spec, { start: RANGE, end: RANGE + 100 }))).rejects.toThrow(
      SizeMismatchError,
    );
    short.dispose();
    await shortPart.discard();

    const part = await sink.open('c.zip');
    const ranged = new RangedPart(part, SIZE, RANGE, new Set(), {});
    const verified = ranged.verify();
    verified.catch(() => undefined);
    for (const index of ranged.pending()) {
      const body = Buffer.concat(await createProductStream(spec, ranged.span(index)).toArray());
      if (index === 2) body[1000] = body[1000]! ^ 0xff;
      await ranged.writeRange(index, Readable.from([body]));
    }
    await expect(verified).rejects.toThrow(CorruptZipError);
    ranged.dispose();
    await part.discard();
  });
});
