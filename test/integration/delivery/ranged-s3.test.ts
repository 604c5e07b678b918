/**
 * deliverRanged into an S3 multipart upload (storage/s3-ranged.ts) against the emulator over HTTP
 * and versitygw, no Temporal: a resume keeps the parts ListParts confirms and fetches only the
 * other ranges; as its verifier never saw those parts, the completed object is read back through
 * every check — a corrupt earlier part is caught there and the object deleted; a window of one
 * range still delivers (the range the verifier needs is always admitted); a product that shrank
 * since the parts were stored starts over in the same upload and completes as exactly the new one.
 */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ConnectionBudget } from '../../../src/activities/connection-budget';
import { type RangedCheckpoint, deliverRanged } from '../../../src/activities/ranged-delivery';
import { type EmulatorHandle } from '../../../src/emulator';
import { createProductStream, productDigest } from '../../../src/emulator/product';
import { HookClient } from '../../../src/hook/client';
import { endpointsAt } from '../../../src/hook/endpoints';
import { createHttpAgent } from '../../../src/hook/http';
import { staticTokenSource } from '../../../src/hook/tokens';
import { IntegrityError } from '../../../src/storage/errors';
import { S3RangedUpload, rangesStoredIn } from '../../../src/storage/s3-ranged';
import { S3Sink } from '../../../src/storage/s3-sink';
import { emulatorStats } from '../../helpers/hook';
import { createTestBucket, stackS3Client } from '../../helpers/s3';
import { listUnfinishedUploads, productsNotAsGenerated } from '../../helpers/sink-audit';
import {
  S2_EXAMPLE,
  dedlToken,
  http,
  odp,
  startTestEmulator,
  temporaryOrder,
  waitForItems,
} from '../../emulator/helpers';

const MIB = 1024 * 1024;
const RANGE = 5 * MIB;
const SIZE = 12 * MIB; // ranges 0 and 1 of 5 MiB, range 2 of 2 MiB
const spec = { identifier: S2_EXAMPLE, size: SIZE };
const NAME = `${S2_EXAMPLE}.zip`;

/** The product's bytes of `span`, with one byte flipped `flipAt` bytes in when asked. */
async function* rangeBytes(span: { start: number; end: number }, flipAt?: number): AsyncGenerator<Uint8Array> {
  let seen = 0;
  for await (const chunk of createProductStream(spec, span)) {
    const out = Buffer.from(chunk as Uint8Array);
    if (flipAt !== undefined && seen <= flipAt && flipAt < seen + out.length) out[flipAt - seen]! ^= 0xff;
    seen += out.length;
    yield out;
  }
}

describe('deliverRanged into S3', () => {
  let emu: EmulatorHandle;
  let link: string;
  let s3: S3Client;
  let bucket: string;
  const agent = createHttpAgent();
  let hook: HookClient;

  beforeAll(async () => {
    emu = await startTestEmulator({ productSize: SIZE });
    const token = await dedlToken(emu.url);
    const id = (await odp(emu, token).post('BatchOrder/OData.CSC.Order', temporaryOrder('ranged-s3', [S2_EXAMPLE])))
      .json.value.Id;
    link = (await waitForItems(emu, token, id, ['completed']))[0].DownloadLink;
    hook = new HookClient({ endpoints: endpointsAt(emu.url), tokens: staticTokenSource('unused'), dispatcher: agent });
    s3 = stackS3Client();
    bucket = await createTestBucket(s3, 'ranged-s3');
  });
  afterAll(async () => {
    await agent.close();
    await emu.close();
    s3.destroy();
  });
  beforeEach(() => http(`${emu.adminUrl}/stats/reset`, { method: 'POST' }));

  /** An earlier attempt that stored ranges 0 and 1 as parts 1 and 2, and the checkpoint it heartbeated. */
  async function earlierAttempt(prefix: string, flipAt?: number) {
    const upload = new S3RangedUpload({ s3, bucket, key: new S3Sink({ s3, bucket, prefix }).keyFor(NAME) });
    const ranges = upload.open(SIZE, RANGE, new Set(), {});
    for (const i of [0, 1]) await ranges.writeRange(i, rangeBytes(ranges.span(i), i === 0 ? flipAt : undefined));
    ranges.dispose();
    const head = await hook.openProduct({ url: link, offset: 0, end: 0 });
    head.body.destroy();
    return { upload: upload.checkpoint()!, ranged: { ranges: ranges.map(), validator: head.etag } };
  }

  /** The next attempt: the checkpoint confirmed by ListParts, then only the missing ranges fetched. */
  async function resumedAttempt(
    prefix: string,
    earlier: Awaited<ReturnType<typeof earlierAttempt>>,
    at = { url: link, size: SIZE },
  ) {
    const point = await new S3Sink({ s3, bucket, prefix }).prepareResume(NAME, earlier.upload);
    expect(point.checkpoint?.parts.map((p) => p.PartNumber)).toEqual([1, 2]);
    const upload = new S3RangedUpload({ s3, bucket, key: earlier.upload.key, resume: point.checkpoint });
    const resume: RangedCheckpoint = {
      ...earlier.ranged,
      ranges: rangesStoredIn(earlier.ranged.ranges, upload.resumedParts),
    };
    const outcome = await deliverRanged({
      hook,
      url: at.url,
      target: upload,
      processedSize: at.size,
      resume,
      maxConnections: 2,
      budget: new ConnectionBudget(4),
      signal: new AbortController().signal,
      onCheckpoint: () => undefined,
    }).catch(async (err: unknown) => {
      await upload.abort(); // what the activity does with bad bytes
      throw err;
    });
    return { outcome, upload };
  }

  it('keeps the confirmed parts, fetches only the missing range, and reads the object back', async () => {
    const earlier = await earlierAttempt('resume');
    expect(earlier.ranged.ranges.done).toBe('0-1');
    await http(`${emu.adminUrl}/stats/reset`, { method: 'POST' });
    const { outcome } = await resumedAttempt('resume', earlier);

    expect('verification' in outcome && outcome.verification.sha256).toBe((await productDigest(spec)).sha256);
    expect((await emulatorStats(emu)).storageReads.map((r) => r.start)).toEqual([2 * RANGE]);
    expect(await productsNotAsGenerated({ s3, bucket, prefix: 'resume' }, [S2_EXAMPLE], SIZE)).toEqual([]);
  });

  it('catches a corrupt part of an earlier attempt when reading back, and deletes the object', async () => {
    const earlier = await earlierAttempt('corrupt', 123_456);
    await expect(resumedAttempt('corrupt', earlier)).rejects.toBeInstanceOf(IntegrityError);

    await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: earlier.upload.key }))).rejects.toMatchObject({
      name: 'NotFound',
    });
    expect(await listUnfinishedUploads(s3, bucket, 'corrupt')).toEqual([]);
  });

  it('delivers with room for one range in memory (the one the verifier needs is always admitted)', async () => {
    const upload = new S3RangedUpload({ s3, bucket, key: `window/${NAME}`, memoryBytes: RANGE });
    const outcome = await deliverRanged({
      hook,
      url: link,
      target: upload,
      processedSize: SIZE,
      maxConnections: 3,
      budget: new ConnectionBudget(4),
      signal: new AbortController().signal,
      onCheckpoint: () => undefined,
    });

    expect('verification' in outcome && outcome.verification.sha256).toBe((await productDigest(spec)).sha256);
    expect(await productsNotAsGenerated({ s3, bucket, prefix: 'window' }, [S2_EXAMPLE], SIZE)).toEqual([]);
  });

  it('starts over in the same upload when the product behind the link shrank (no validator to tell)', async () => {
    const SMALLER = 8 * MIB; // ranges 0 (5 MiB) and 1 (3 MiB)
    const other = await startTestEmulator({ productSize: SMALLER });
    try {
      const token = await dedlToken(other.url);
      const order = await odp(other, token).post('BatchOrder/OData.CSC.Order', temporaryOrder('shrunk', [S2_EXAMPLE]));
      const otherLink = (await waitForItems(other, token, order.json.value.Id, ['completed']))[0].DownloadLink;
      const earlier = await earlierAttempt('shrunk');
      delete earlier.ranged.validator;
      await http(`${other.adminUrl}/stats/reset`, { method: 'POST' });
      const { outcome } = await resumedAttempt('shrunk', earlier, { url: otherLink, size: SMALLER });

      const expected = (await productDigest({ identifier: S2_EXAMPLE, size: SMALLER })).sha256;
      expect('verification' in outcome && outcome.verification.sha256).toBe(expected);
      // The probe for range 2 lies past the new end (416), then both ranges of the smaller product.
      expect((await emulatorStats(other)).storageReads.map((r) => r.start)).toEqual([0, 0, RANGE]);
      // The old parts were overwritten or left out: the object is exactly the smaller product.
      expect(await productsNotAsGenerated({ s3, bucket, prefix: 'shrunk' }, [S2_EXAMPLE], SMALLER)).toEqual([]);
    } finally {
      await other.close();
    }
  });
});
