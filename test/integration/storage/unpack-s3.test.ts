/**
 * storage/unpack-s3.ts on the test stack's versitygw: an emulator product zip object unpacked into
 * one object per entry (each object's bytes, size and CRC as the zip and the emulator's generator
 * say; the big entry spans several multipart parts), a selection by globs, a crash's staging
 * leftovers (objects and an unfinished upload) removed on the redo, and a corrupt entry refused
 * with nothing under the final prefix, no staging object and no unfinished upload left.
 */
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createProductStream, productEntries } from '../../../src/emulator/product';
import { CorruptZipError } from '../../../src/storage/errors';
import { unpackS3Object, unpackToS3 } from '../../../src/storage/unpack-s3';
import { createTestBucket, stackS3Client } from '../../helpers/s3';
import { buildZip, noise } from '../../helpers/zip-writer';
import { testStack } from '../../helpers/stack';

const ID = 'S2A_MSIL1C_20230910T050701_N0509_R019_T47VLH_20230910T074321.SAFE';
const SIZE = 14_000_000; // the big entry spans three 5 MiB parts
const PART = 5 * 1024 * 1024;

describe('unpacking a verified product into S3', () => {
  let s3: S3Client;
  let bucket: string;
  let zip: Buffer;
  beforeAll(async () => {
    s3 = stackS3Client();
    bucket = await createTestBucket(s3, 'unpack-s3');
    const chunks: Buffer[] = [];
    for await (const chunk of Readable.from(createProductStream({ identifier: ID, size: SIZE })))
      chunks.push(Buffer.from(chunk as Uint8Array));
    zip = Buffer.concat(chunks);
  });
  afterAll(() => s3.destroy());

  const entries = () => productEntries({ identifier: ID, size: SIZE });
  const top = (name: string) => name.slice(name.indexOf('/') + 1);
  const connection = () => {
    const { endpoint, region, accessKeyId, secretAccessKey } = testStack().s3;
    return { endpoint, region, accessKeyId, secretAccessKey };
  };
  const putZip = (dir: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${dir}/${ID}.zip`, Body: zip }));
  const keys = async (prefix: string) =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? [])
      .map((o) => o.Key!)
      .sort();
  const uploads = async (prefix: string) =>
    ((await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }))).Uploads ?? []).map(
      (u) => u.Key,
    );
  const bytesOf = async (key: string) =>
    Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());

  it('writes one object per entry with the bytes the zip holds, then removes the zip', async () => {
    await putZip('all');
    const big = entries().reduce((a, b) => (a.size > b.size ? a : b));
    expect(big.size).toBeGreaterThan(2 * PART);
    const result = await unpackS3Object(connection(), `s3://${bucket}/all/${ID}.zip`, ID, { partSize: PART });
    expect(result.location).toBe(`s3://${bucket}/all/${ID}/`);
    expect(result.entries.map((e) => e.path).sort()).toEqual(
      entries()
        .map((e) => top(e.name))
        .sort(),
    );
    // Only the folder's objects: the zip removed, no staging object, no unfinished upload.
    expect(await keys('all/')).toEqual(
      entries()
        .map((e) => `all/${ID}/${top(e.name)}`)
        .sort(),
    );
    expect(await uploads('all/')).toEqual([]);
    for (const entry of entries()) {
      const bytes = await bytesOf(`all/${ID}/${top(entry.name)}`);
      // The emulator's generator says what each entry is; the zip's stored bytes must match too.
      expect(bytes.length).toBe(entry.size);
      expect(crc32(bytes) >>> 0).toBe(entry.crc32 >>> 0);
      const dataAt = entry.offset + 30 + zip.readUInt16LE(entry.offset + 26) + zip.readUInt16LE(entry.offset + 28);
      expect(zip.readUInt16LE(entry.offset + 8)).toBe(0); // the emulator stores its entries
      expect(bytes.equals(zip.subarray(dataAt, dataAt + entry.size))).toBe(true);
    }
  });

  it('after a crash, removes staging leftovers and unfinished uploads, and redoes a selection whole', async () => {
    await putZip('redo');
    // What a kill mid-unpack leaves: a staged object, an unfinished upload of another one; and an
    // earlier complete unpack with another selection left an object this one does not keep.
    const stale = `redo/.${ID}.unpacking-deadbeef0000/`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${stale}MTD_MSIL1C.xml`, Body: 'half' }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `${stale}GRANULE/x_B04.jp2` }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `redo/${ID}/old.jp2`, Body: 'old' }));
    const metadata = entries().filter((e) => /\.xml$/.test(e.name));
    expect(metadata.length).toBeGreaterThan(0);

    const result = await unpackS3Object(connection(), `s3://${bucket}/redo/${ID}.zip`, ID, {
      entries: ['*.xml'],
      keepZip: true,
      partSize: PART,
    });
    expect(result.entries.map((e) => e.path).sort()).toEqual(metadata.map((e) => top(e.name)).sort());
    expect(await keys('redo/')).toEqual([`redo/${ID}.zip`, ...metadata.map((e) => `redo/${ID}/${top(e.name)}`)].sort());
    expect(await uploads('redo/')).toEqual([]);
    for (const entry of metadata) {
      const bytes = await bytesOf(`redo/${ID}/${top(entry.name)}`);
      expect(crc32(bytes) >>> 0).toBe(entry.crc32 >>> 0);
      expect(result.entries.find((e) => e.path === top(entry.name))?.size).toBe(entry.size);
    }
  });

  it('inflates deflated entries (ZIP64 fields too) read by ranges, without repeating the top folder', async () => {
    const data = { a: noise(6 * 1024 * 1024, 3), b: Buffer.from('<xml/>'.repeat(1000)) };
    const { zip: deflated } = buildZip(
      [
        { name: 'P.SAFE/GRANULE/IMG/a_B02.jp2', data: data.a, method: 'deflate', zip64: true },
        { name: 'P.SAFE/MTD.xml', data: data.b, method: 'deflate', descriptor: 'signed' },
      ],
      { zip64End: true },
    );
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'deflate/P.zip', Body: deflated }));
    const written = await unpackToS3({
      s3,
      bucket,
      zipKey: 'deflate/P.zip',
      dir: 'deflate',
      folderName: 'P',
      partSize: PART,
    });
    expect(written.map((e) => [e.path, e.size])).toEqual([
      ['GRANULE/IMG/a_B02.jp2', data.a.length],
      ['MTD.xml', data.b.length],
    ]);
    expect((await bytesOf('deflate/P/GRANULE/IMG/a_B02.jp2')).equals(data.a)).toBe(true);
    expect((await bytesOf('deflate/P/MTD.xml')).equals(data.b)).toBe(true);
  });

  it('stops when cancelled mid-entry, leaving no staging object and no unfinished upload', async () => {
    await putZip('cancel');
    const cancel = new AbortController();
    await expect(
      unpackToS3({
        s3,
        bucket,
        zipKey: `cancel/${ID}.zip`,
        dir: 'cancel',
        folderName: ID,
        partSize: PART,
        signal: cancel.signal,
        onProgress: (bytes) => bytes > PART && cancel.abort(),
      }),
    ).rejects.toThrow(/abort/i);
    expect(await keys('cancel/')).toEqual([`cancel/${ID}.zip`]);
    expect(await uploads('cancel/')).toEqual([]);
  });

  it('refuses an entry whose CRC does not match, leaving nothing under the final or staging prefix', async () => {
    const big = entries().reduce((a, b) => (a.size > b.size ? a : b));
    const corrupt = Buffer.from(zip);
    // Past the first part, so some parts of its upload are stored before the CRC fails at the end.
    const at = big.offset + 30 + Buffer.byteLength(big.name) + PART + 1000;
    corrupt[at] = corrupt[at]! ^ 0xff;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `bad/${ID}.zip`, Body: corrupt }));
    await expect(
      unpackToS3({ s3, bucket, zipKey: `bad/${ID}.zip`, dir: 'bad', folderName: ID, partSize: PART }),
    ).rejects.toThrow(CorruptZipError);
    expect(await keys('bad/')).toEqual([`bad/${ID}.zip`]);
    expect(await uploads('bad/')).toEqual([]);
    // The zip itself is untouched.
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `bad/${ID}.zip` }));
    expect(head.ContentLength).toBe(corrupt.length);
  });
});
