/**
 * deliverRanged against the emulator over HTTP (no Temporal): a resume with the landed ranges of
 * the same object fetches only the others; a resume whose validator no longer matches gets the
 * whole body back (If-Range), for the caller to restart as one stream; a resume whose product
 * changed size under no validator starts over from an empty file in the same attempt.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConnectionBudget } from '../../../src/activities/connection-budget';
import { type RangedCheckpoint, deliverRanged, localRanges } from '../../../src/activities/ranged-delivery';
import { type EmulatorHandle } from '../../../src/emulator';
import { createProductStream, productDigest } from '../../../src/emulator/product';
import { HookClient } from '../../../src/hook/client';
import { endpointsAt } from '../../../src/hook/endpoints';
import { createHttpAgent } from '../../../src/hook/http';
import { staticTokenSource } from '../../../src/hook/tokens';
import { LocalSink } from '../../../src/storage/local-sink';
import { RangedPart } from '../../../src/storage/ranged-part';
import { emulatorStats } from '../../helpers/hook';
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
const SIZE = 3 * MIB;
const spec = { identifier: S2_EXAMPLE, size: SIZE };

describe('deliverRanged resuming', () => {
  let emu: EmulatorHandle;
  let link: string;
  let dir: string;
  const agent = createHttpAgent();
  let hook: HookClient;

  beforeAll(async () => {
    emu = await startTestEmulator({ productSize: SIZE });
    const token = await dedlToken(emu.url);
    const id = (await odp(emu, token).post('BatchOrder/OData.CSC.Order', temporaryOrder('ranged', [S2_EXAMPLE]))).json
      .value.Id;
    link = (await waitForItems(emu, token, id, ['completed']))[0].DownloadLink;
    hook = new HookClient({ endpoints: endpointsAt(emu.url), tokens: staticTokenSource('unused'), dispatcher: agent });
  });
  afterAll(async () => {
    await agent.close();
    await emu.close();
  });
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ranged-resume-'));
    await http(`${emu.adminUrl}/stats/reset`, { method: 'POST' });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** A `.part` holding ranges 0 and 1 (of 1 MiB) as an earlier attempt left them, and its checkpoint. */
  async function earlierAttempt(sink: LocalSink, landed = [0, 1]): Promise<RangedCheckpoint> {
    const part = await sink.open('p.zip');
    const ranged = new RangedPart(part, SIZE, MIB, new Set(), {});
    for (const i of landed) await ranged.writeRange(i, createProductStream(spec, ranged.span(i)));
    ranged.dispose();
    await part.close();
    const head = await hook.openProduct({ url: link, offset: 0, end: 0 });
    head.body.destroy();
    return { ranges: ranged.map(), validator: head.etag };
  }

  async function deliver(
    sink: LocalSink,
    resume: RangedCheckpoint,
    at = { url: link, size: SIZE },
    onCheckpoint: (checkpoint: RangedCheckpoint) => void = () => undefined,
  ) {
    const part = await sink.open('p.zip', { resume: true });
    const outcome = await deliverRanged({
      hook,
      url: at.url,
      target: localRanges(part),
      processedSize: at.size,
      resume,
      maxConnections: 2,
      budget: new ConnectionBudget(4),
      signal: new AbortController().signal,
      onCheckpoint,
    });
    return { outcome, part };
  }

  it('fetches only the ranges not landed, and the product is whole', async () => {
    const sink = await LocalSink.create(dir);
    const resume = await earlierAttempt(sink);
    await http(`${emu.adminUrl}/stats/reset`, { method: 'POST' });
    const { outcome } = await deliver(sink, resume);

    expect('verification' in outcome && outcome.verification.sha256).toBe((await productDigest(spec)).sha256);
    expect((await emulatorStats(emu)).storageReads.map((r) => r.start)).toEqual([2 * MIB]);
  });

  it('hands the whole body back when the object changed (If-Range no longer matches)', async () => {
    const sink = await LocalSink.create(dir);
    const resume = { ...(await earlierAttempt(sink)), validator: '"an-older-etag"' };
    const { outcome, part } = await deliver(sink, resume);

    const whole = 'wholeBody' in outcome ? outcome.wholeBody : undefined;
    whole?.body.destroy();
    expect(whole).toMatchObject({ partial: false, offset: 0, totalSize: SIZE });
    await part.discard();
  });

  it('hands the whole body back when the product changed since a single-stream attempt (If-Range)', async () => {
    const sink = await LocalSink.create(dir);
    const earlier = await sink.open('p.zip');
    const head = await hook.openProduct({ url: link, offset: 0, end: 0 });
    head.body.destroy();
    // The first 1.5 MiB of the product, as a single-stream attempt left them, under a stale validator.
    const prefix = createProductStream(spec, { start: 0, end: MIB + MIB / 2 - 1 });
    for await (const chunk of prefix) await earlier.fileHandle.write(chunk as Uint8Array);
    await earlier.close();
    const resume = async (resumeValidator: string | undefined) => {
      const part = await sink.open('p.zip', { resume: true });
      const outcome = await deliverRanged({
        hook,
        url: link,
        target: localRanges(part),
        processedSize: SIZE,
        resumeBytes: part.offset,
        resumeValidator,
        maxConnections: 2,
        budget: new ConnectionBudget(4),
        signal: new AbortController().signal,
        onCheckpoint: () => undefined,
      });
      return { outcome, part };
    };

    const stale = await resume('"an-older-etag"');
    const whole = 'wholeBody' in stale.outcome ? stale.outcome.wholeBody : undefined;
    whole?.body.destroy();
    expect(whole).toMatchObject({ partial: false, offset: 0, totalSize: SIZE });
    await stale.part.close();

    const same = await resume(head.etag);
    expect('verification' in same.outcome && same.outcome.verification.sha256).toBe((await productDigest(spec)).sha256);
  });

  describe('when the product behind the link changed size (no validator to tell)', () => {
    // The earlier attempt's checkpoint carries no validator, as from a server that sends neither
    // ETag nor Last-Modified: only the size the probe reports shows the product changed.
    const SMALLER = MIB + MIB / 2;
    const smaller = { identifier: S2_EXAMPLE, size: SMALLER };
    let other: EmulatorHandle;
    let otherLink: string;

    beforeAll(async () => {
      other = await startTestEmulator({ productSize: SMALLER });
      const token = await dedlToken(other.url);
      const order = await odp(other, token).post('BatchOrder/OData.CSC.Order', temporaryOrder('shrunk', [S2_EXAMPLE]));
      otherLink = (await waitForItems(other, token, order.json.value.Id, ['completed']))[0].DownloadLink;
    });
    afterAll(() => other.close());
    beforeEach(() => http(`${other.adminUrl}/stats/reset`, { method: 'POST' }));

    /** Resumes the earlier attempt's map against the smaller product; the final file must be exactly it. */
    async function resumeAgainstSmaller(landed: number[]) {
      const sink = await LocalSink.create(dir);
      const { validator: _, ...resume } = await earlierAttempt(sink, landed);
      const checkpoints: RangedCheckpoint[] = [];
      const { outcome, part } = await deliver(sink, resume, { url: otherLink, size: SMALLER }, (c) =>
        checkpoints.push(c),
      );
      const file = await readFile(part.finalPath);
      const expected = (await productDigest(smaller)).sha256;
      expect('verification' in outcome && outcome.verification.sha256).toBe(expected);
      expect((await stat(part.finalPath)).size).toBe(SMALLER); // nothing of the old product left past the end
      expect(createHash('sha256').update(file).digest('hex')).toBe(expected);
      // The first checkpoint replaces the old map at once: nothing of the old product counts as landed.
      expect(checkpoints[0]).toMatchObject({ ranges: { size: SMALLER, rangeBytes: MIB, done: '' } });
      return (await emulatorStats(other)).storageReads.map((r) => r.start).sort((a, b) => a - b);
    }

    it('starts over in the same attempt when the first missing range still exists', async () => {
      // Ranges 0 and 2 landed (the file is 3 MiB long); the probe asks range 1, which the smaller product has.
      expect(await resumeAgainstSmaller([0, 2])).toEqual([0, MIB]);
    });

    it('starts over from the first byte when the first missing range lies past the new end (416)', async () => {
      // Ranges 0 and 1 landed; the probe asks bytes from 2 MiB of a 1.5 MiB product: a 416 (the
      // emulator counts an unsatisfiable read at 0), then ranges 0 and 1 of the smaller product.
      expect(await resumeAgainstSmaller([0, 1])).toEqual([0, 0, MIB]);
    });
  });
});
