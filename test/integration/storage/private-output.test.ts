import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { LocalSink } from '../../../src/storage/local-sink';
import { type CompletedItem, downloadPrivateOutput, verifyPrivateOutput } from '../../../src/storage/private-output';
import { createTestBucket, stackS3Client } from '../../helpers/s3';
import { buildZip, noise } from '../../helpers/zip-writer';

const zipOf = (seed: number) => buildZip([{ name: `data-${seed}.bin`, data: noise(4000, seed) }]).zip;

/** Records the S3 commands a client sends, to prove listing is not done one HEAD at a time. */
function recordCommands(s3: S3Client): string[] {
  const names: string[] = [];
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      names.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  return names;
}

describe('PRIVATE output verification on versitygw', () => {
  let s3: S3Client;
  let bucket: string;
  const items: CompletedItem[] = [
    { identifier: 'S2A_MSIL1C_X', itemId: 11, processedSize: 0 },
    { identifier: 'S2A_MSIL1C_X_2', itemId: 12 },
    { identifier: 'S1B_IW_GRDH_Y', itemId: 13 },
    { identifier: 'S3A_OL_EMPTY', itemId: 14 },
    { identifier: 'S2B_MISSING', itemId: 15 },
  ];
  const put = (Key: string, body: Buffer | string) => {
    const Body = Buffer.from(body);
    return s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body, ContentLength: Body.length }));
  };

  beforeAll(async () => {
    s3 = stackS3Client();
    bucket = await createTestBucket(s3, 'private-out');
    await put('orders/o1/S2A_MSIL1C_X.zip', zipOf(1));
    await put('orders/o1/S2A_MSIL1C_X_2.zip', zipOf(2));
    await put('orders/o1/S1B_IW_GRDH_Y/', '');
    await put('orders/o1/S1B_IW_GRDH_Y/measurement/s1b.tiff', noise(3000, 3));
    await put('orders/o1/S1B_IW_GRDH_Y/manifest.safe', '<xfdu/>');
    await put('orders/o1/S1B_IW_GRDH_Y/annotation/manifest.safe', '<annotation/>');
    await put('orders/o1/S3A_OL_EMPTY.zip', '');
    await put('orders/o1/unrelated.txt', 'not an output');
    await put('orders/o10/S2B_MISSING.zip', zipOf(9)); // a sibling prefix that must not be listed
    // Enough objects for several pages.
    await Promise.all(
      Array.from({ length: 240 }, (_, i) => put(`orders/o1/logs/log-${String(i).padStart(3, '0')}.txt`, `${i}`)),
    );
  });
  afterAll(() => s3?.destroy());

  it('lists the prefix in pages and reports found, empty and missing items', async () => {
    const lister = stackS3Client();
    const commands = recordCommands(lister);
    try {
      const report = await verifyPrivateOutput({
        s3: lister,
        target: `s3://${bucket}/orders/o1`,
        items,
        pageSize: 100,
      });
      expect(new Set(commands)).toEqual(new Set(['ListObjectsV2Command']));
      expect(report.pages).toBe(3);
      expect(report.listedObjects).toBe(248);
      expect(report.unmatchedObjects).toBe(241);
      expect(report.unmatchedSample).toHaveLength(20);
      expect(report.unmatchedSample.every((key) => key.startsWith('orders/o1/'))).toBe(true);

      const byId = Object.fromEntries(report.items.map((item) => [item.identifier, item]));
      expect(byId.S2A_MSIL1C_X).toMatchObject({
        status: 'found',
        itemId: 11,
        objects: [{ key: 'orders/o1/S2A_MSIL1C_X.zip', size: zipOf(1).length, etag: expect.stringMatching(/^".+"$/) }],
        processedSizeMatches: false,
      });
      // The longer identifier gets its own object, though its key also contains the shorter one.
      expect(byId.S2A_MSIL1C_X_2!.objects.map((o) => o.key)).toEqual(['orders/o1/S2A_MSIL1C_X_2.zip']);
      expect(byId.S1B_IW_GRDH_Y).toMatchObject({ status: 'found', totalSize: 3000 + 7 + 13 });
      expect(byId.S1B_IW_GRDH_Y!.objects.map((o) => o.key).sort()).toEqual([
        'orders/o1/S1B_IW_GRDH_Y/annotation/manifest.safe',
        'orders/o1/S1B_IW_GRDH_Y/manifest.safe',
        'orders/o1/S1B_IW_GRDH_Y/measurement/s1b.tiff',
      ]);
      expect(byId.S3A_OL_EMPTY).toMatchObject({ status: 'empty', emptyKeys: ['orders/o1/S3A_OL_EMPTY.zip'] });
      expect(byId.S2B_MISSING).toMatchObject({ status: 'missing', objects: [], totalSize: 0 });
    } finally {
      lister.destroy();
    }
  });

  it('matches by templates, including a folder per item and item ids', async () => {
    await put('by-id/13/result.zip', zipOf(4));
    await put('by-id/S2A_MSIL1C_X/part-1.nc', noise(10, 5));
    await put('by-id/S2A_MSIL1C_X/part-2.nc', noise(20, 6));
    const report = await verifyPrivateOutput({
      s3,
      target: `s3://${bucket}/by-id`,
      items,
      rules: [
        { kind: 'template', template: '{prefix}/{itemId}/result.zip' },
        { kind: 'template', template: '{prefix}/{identifier}/' },
      ],
    });
    const byId = Object.fromEntries(report.items.map((item) => [item.identifier, item]));
    expect(byId.S1B_IW_GRDH_Y!.objects.map((o) => o.key)).toEqual(['by-id/13/result.zip']);
    expect(byId.S2A_MSIL1C_X!.objects.map((o) => o.key)).toEqual([
      'by-id/S2A_MSIL1C_X/part-1.nc',
      'by-id/S2A_MSIL1C_X/part-2.nc',
    ]);
    expect(byId.S2A_MSIL1C_X!.processedSizeMatches).toBeUndefined();
    expect(byId.S2A_MSIL1C_X_2!.status).toBe('missing');
  });

  it('copies found objects to a local sink with the same integrity checks', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'private-copy-'));
    try {
      await put('copy/S2A_MSIL1C_X.zip', zipOf(7));
      const broken = Buffer.from(zipOf(8));
      broken[100] = broken[100]! ^ 0xff;
      await put('copy/S2A_MSIL1C_X_2.zip', broken);
      await put('copy/S1B_IW_GRDH_Y/a/manifest.safe', 'first');
      await put('copy/S1B_IW_GRDH_Y/b/manifest.safe', 'second');
      await put('copy/S1B_IW_GRDH_Y/data.tiff', noise(500, 1));
      const report = await verifyPrivateOutput({ s3, target: `s3://${bucket}/copy`, items });
      const sink = await LocalSink.create(dir);
      const outcomes = await downloadPrivateOutput({ s3, report, sink });

      const ok = outcomes.filter((o) => o.ok);
      expect(ok.map((o) => path.relative(dir, o.path)).sort()).toEqual([
        // Two base names collide inside the folder, so those two keep their relative path (made safe).
        expect.stringMatching(/^S1B_IW_GRDH_Y\/a_manifest~[0-9a-f]{12}\.safe$/),
        expect.stringMatching(/^S1B_IW_GRDH_Y\/b_manifest~[0-9a-f]{12}\.safe$/),
        'S1B_IW_GRDH_Y/data.tiff',
        'S2A_MSIL1C_X.zip',
      ]);
      const zipCopy = ok.find((o) => o.key === 'copy/S2A_MSIL1C_X.zip')!;
      expect(zipCopy.verification).toMatchObject({
        sha256: createHash('sha256').update(zipOf(7)).digest('hex'),
        zipEntries: 1,
      });
      expect(await readFile(path.join(dir, 'S1B_IW_GRDH_Y', 'data.tiff'))).toEqual(noise(500, 1));

      const failed = outcomes.filter((o) => !o.ok);
      expect(failed).toEqual([
        {
          ok: false,
          identifier: 'S2A_MSIL1C_X_2',
          key: 'copy/S2A_MSIL1C_X_2.zip',
          error: { name: 'CorruptZipError', message: expect.stringContaining('CRC-32 mismatch') },
        },
      ]);
      expect((await readdir(dir)).sort()).toEqual(['S1B_IW_GRDH_Y', 'S2A_MSIL1C_X.zip']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
