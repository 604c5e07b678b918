/**
 * Parallel ranged delivery into a local folder, end to end: a harvest on the real dev server, a
 * real worker, the emulator over HTTP behind a proxy that misbehaves on cue (test/helpers/link-proxy.ts).
 * A range killed mid-flight is resumed without refetching the ranges already landed (the heartbeat's
 * range map); a server that ignores Range gets one stream; a corrupt range fails the checks; a 429
 * storm on extra connections backs off and still delivers. Every product is re-hashed against the
 * emulator's generator.
 */
import { readdir } from 'node:fs/promises';
import type { Payload } from '@temporalio/common';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import type { WorkflowHandle } from '@temporalio/client';
import { createProductStream, productDigest } from '../../src/emulator/product';
import { LocalSink } from '../../src/storage/local-sink';
import { RangedPart } from '../../src/storage/ranged-part';
import type { HarvestReport } from '../../src/shared/harvest-report';
import { type HarvestEnv, catalogueIdentifiers, request, startHarvestEnv } from '../helpers/harvest-env';
import { eventually, emulatorStats } from '../helpers/hook';
import { type LinkProxy, startLinkProxy } from '../helpers/link-proxy';
import { productsNotAsGenerated } from '../helpers/sink-audit';

const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';
const MIB = 1024 * 1024;
const SIZE = 6 * MIB;
// The floor for the worker's default connections lowered to this test's product (real: 128 MiB).
const WORKER_ENV = {
  DEDL_RANGE_BYTES: String(MIB),
  DEDL_MAX_EXTRA_CONNECTIONS: '8',
  DEDL_RANGED_MIN_BYTES: String(SIZE),
};

/** The range map the running download last heartbeated, if any. */
async function heartbeatedRanges(handle: WorkflowHandle, env: HarvestEnv): Promise<string | undefined> {
  const description = await handle.describe();
  const activity = (description.raw.pendingActivities ?? []).find((a) => a.activityType?.name === 'deliverProduct');
  if (!activity?.heartbeatDetails?.payloads) return undefined;
  const [details] = await decodeArrayFromPayloads(
    env.client.options.loadedDataConverter,
    activity.heartbeatDetails.payloads as Payload[],
  );
  return (details as { ranged?: { ranges: { done: string } } } | undefined)?.ranged?.ranges.done;
}

describe('parallel ranged delivery into a local folder', () => {
  let env: HarvestEnv;
  let proxy: LinkProxy;

  beforeAll(async () => {
    proxy = await startLinkProxy();
    env = await startHarvestEnv(
      { timing: { queuedMs: 50, processingMs: 150 }, productSize: SIZE, publicUrl: proxy.url },
      WORKER_ENV,
    );
    proxy.target = env.emulator.listenUrl;
  });
  afterAll(async () => {
    await env?.close();
    await proxy?.close();
  });
  beforeEach(() => {
    proxy.reads = [];
    proxy.ignoreRange = false;
    proxy.corrupt = undefined;
    proxy.stall = undefined;
  });

  const harvest = (identifier: string, id: string, connectionsPerProduct: number | undefined = 4) =>
    env.client.workflow.start('harvest', {
      taskQueue: env.taskQueue,
      workflowId: `e2e-ranged-${id}-${Date.now()}`,
      args: [
        request({
          identifiers: [identifier],
          output: { storage: 'TEMPORARY', sink: env.sinkUrl },
          connectionsPerProduct,
          downloadHeartbeatTimeout: '5s',
        }),
      ],
    });

  it('resumes a range killed mid-flight without fetching the landed ranges again', async () => {
    const [identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 1);
    proxy.stall = { start: 5 * MIB, after: 300_000 };
    const handle = await harvest(identifier!, 'kill');
    // The last range hangs part-way; once the heartbeat says every other range landed, cut it.
    await eventually(
      () => heartbeatedRanges(handle, env),
      (done) => done === '0-4',
      60_000,
    );
    expect(proxy.stalled()).toBe(true);
    proxy.cut();
    const report = (await handle.result()) as HarvestReport;

    expect(report.outcome).toBe('delivered');
    const expected = await productDigest({ identifier: identifier!, size: SIZE });
    expect(report.items[0]).toMatchObject({ state: 'delivered', bytes: SIZE, sha256: expected.sha256 });
    const starts = proxy.reads.map((r) => r.start / MIB).sort((a, b) => a - b);
    expect(starts).toEqual([0, 1, 2, 3, 4, 5, 5]); // only the killed range twice
    expect(proxy.reads.every((r) => r.range !== undefined && r.status === 206)).toBe(true);
    expect(await productsNotAsGenerated({ dir: env.sinkDir }, [identifier!], SIZE)).toEqual([]);
  });

  it("takes parallel ranges by the worker's default when the request names no connections", async () => {
    const [, , , , identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 5);
    const report = (await (await harvest(identifier!, 'default', undefined)).result()) as HarvestReport;

    expect(report.outcome).toBe('delivered');
    const expected = await productDigest({ identifier: identifier!, size: SIZE });
    expect(report.items[0]).toMatchObject({ state: 'delivered', bytes: SIZE, sha256: expected.sha256 });
    expect(proxy.reads.map((r) => r.start / MIB).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(proxy.reads.every((r) => r.range !== undefined && r.status === 206)).toBe(true);
    expect(await productsNotAsGenerated({ dir: env.sinkDir }, [identifier!], SIZE)).toEqual([]);
  });

  it('takes one stream from a server that ignores Range', async () => {
    const [, identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 2);
    proxy.ignoreRange = true;
    const report = (await (await harvest(identifier!, 'norange')).result()) as HarvestReport;

    expect(report.outcome).toBe('delivered');
    const expected = await productDigest({ identifier: identifier!, size: SIZE });
    expect(report.items[0]).toMatchObject({ state: 'delivered', sha256: expected.sha256 });
    expect(proxy.reads.map((r) => r.status)).toEqual([200]); // the probe's whole body, no second request
    expect(await productsNotAsGenerated({ dir: env.sinkDir }, [identifier!], SIZE)).toEqual([]);
  });

  it('does not resume one stream from the length of a file a ranged attempt left with holes', async () => {
    const [, , , identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 4);
    // What a ranged attempt killed before its first heartbeat leaves: ranges 0, 2 and 3 landed,
    // range 1 a hole, and no checkpoint. The next attempt takes one stream.
    const part = await (await LocalSink.create(env.sinkDir)).open(`${identifier!}.zip`);
    const ranged = new RangedPart(part, SIZE, MIB, new Set(), {});
    for (const i of [0, 2, 3]) {
      await ranged.writeRange(i, createProductStream({ identifier: identifier!, size: SIZE }, ranged.span(i)));
    }
    ranged.dispose();
    await part.close();
    const report = (await (await harvest(identifier!, 'holes', 1)).result()) as HarvestReport;

    expect(report.outcome).toBe('delivered');
    const expected = await productDigest({ identifier: identifier!, size: SIZE });
    expect(report.items[0]).toMatchObject({ state: 'delivered', bytes: SIZE, sha256: expected.sha256 });
    expect(proxy.reads.map((r) => r.start)).toEqual([0]); // the whole product again, in one read
    expect(await productsNotAsGenerated({ dir: env.sinkDir }, [identifier!], SIZE)).toEqual([]);
  });

  it('rejects a product with one corrupt range and leaves nothing behind', async () => {
    const [, , identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 3);
    proxy.corrupt = { start: 3 * MIB, at: 4321 };
    const report = (await (await harvest(identifier!, 'corrupt')).result()) as HarvestReport;

    expect(report.items[0]).toMatchObject({ state: 'failed' });
    expect(report.items[0]!.error).toMatch(/IntegrityError|CRC|sha256|corrupt/i);
    const files = await readdir(env.sinkDir);
    expect(files.filter((f) => f.startsWith(identifier!))).toEqual([]); // neither the product nor a .part
  });
});

describe('parallel ranged delivery under a per-client connection cap', () => {
  it('backs off from a 429 storm on extra connections and still delivers', async () => {
    const size = 12 * MIB;
    const env = await startHarvestEnv(
      {
        timing: { queuedMs: 50, processingMs: 150 },
        productSize: size,
        faults: {
          shaping: {
            perConnectionRate: '16Mbit',
            maxConnectionsPerClient: 2,
            overLimitStatus: 429,
            overLimitRetryAfterSec: 1,
          },
        },
      },
      WORKER_ENV,
    );
    try {
      const [identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 1);
      const report: HarvestReport = await env.client.workflow.execute('harvest', {
        taskQueue: env.taskQueue,
        workflowId: `e2e-ranged-429-${Date.now()}`,
        args: [
          request({
            identifiers: [identifier!],
            output: { storage: 'TEMPORARY', sink: env.sinkUrl },
            connectionsPerProduct: 8,
          }),
        ],
      });
      expect(report.outcome).toBe('delivered');
      const expected = await productDigest({ identifier: identifier!, size });
      expect(report.items[0]).toMatchObject({ state: 'delivered', sha256: expected.sha256 });
      const stats = await emulatorStats(env.emulator);
      // The cap was met (the ramp went past 2) and the delivery backed off instead of hammering.
      expect(stats.faultsInjected.overConnectionLimit).toBeGreaterThanOrEqual(1);
      expect(stats.faultsInjected.overConnectionLimit).toBeLessThanOrEqual(6);
      expect(await productsNotAsGenerated({ dir: env.sinkDir }, [identifier!], size)).toEqual([]);
    } finally {
      await env.close();
    }
  });
});
