/**
 * deliverRanged against the emulator over HTTP (no Temporal): a resume with the landed ranges of
 * the same object fetches only the others; a resume whose validator no longer matches gets the
 * whole body back (If-Range), for the caller to restart as one stream.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConnectionBudget } from '../../../src/activities/connection-budget';
import { type RangedCheckpoint, deliverRanged } from '../../../src/activities/ranged-delivery';
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
  async function earlierAttempt(sink: LocalSink): Promise<RangedCheckpoint> {
    const part = await sink.open('p.zip');
    const ranged = new RangedPart(part, SIZE, MIB, new Set(), {});
    for (const i of [0, 1]) await ranged.writeRange(i, createProductStream(spec, ranged.span(i)));
    ranged.dispose();
    await part.close();
    const head = await hook.openProduct({ url: link, offset: 0, end: 0 });
    head.body.destroy();
    return { ranges: ranged.map(), validator: head.etag };
  }

  async function deliver(sink: LocalSink, resume: RangedCheckpoint) {
    const part = await sink.open('p.zip', { resume: true });
    const outcome = await deliverRanged({
      hook,
      url: link,
      part,
      processedSize: SIZE,
      resume,
      maxConnections: 2,
      budget: new ConnectionBudget(4),
      signal: new AbortController().signal,
      onCheckpoint: () => undefined,
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
});
