/**
 * How a harvest behaves when things are not simple: a lost order response, Hook-failed items,
 * connections reset mid-download, cancellation, the deadline, and a long order's history size.
 * Each scenario runs a real workflow against its own emulator.
 */
import { readdir } from 'node:fs/promises';
import { WorkflowFailedError } from '@temporalio/client';
import type { EmulatorOptionsInput } from '../../src/emulator';
import { productDigest } from '../../src/emulator/product';
import type { HarvestReport } from '../../src/shared/harvest-report';
import { progressQuery } from '../../src/shared/messages';
import { emulatorStats, eventually } from '../helpers/hook';
import { type HarvestEnv, catalogueIdentifiers, request, withHarvestEnv } from '../helpers/harvest-env';
import { productsNotAsGenerated } from '../helpers/sink-audit';

const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';
const SIZE = 300_000;

const stats = (env: HarvestEnv) => emulatorStats(env.emulator);

const withEnv = (options: EmulatorOptionsInput, body: (env: HarvestEnv) => Promise<void>) =>
  withHarvestEnv({ productSize: SIZE, ...options }, body);

function run(env: HarvestEnv, workflowId: string, overrides: Parameters<typeof request>[0]) {
  return env.client.workflow.start('harvest', {
    taskQueue: env.taskQueue,
    workflowId,
    args: [request(overrides)],
  });
}

const unique = (label: string) => `${label}-${Date.now()}-${Math.random().toString(36).slice(2, 7)}`;

describe('harvest behaviour', () => {
  it('submits exactly once when the order response is lost', () =>
    withEnv({ timing: { queuedMs: 20, processingMs: 50 }, faults: { lostOrderResponseRate: 1 } }, async (env) => {
      const identifiers = catalogueIdentifiers(env.emulator, COLLECTION, 2);
      const handle = await run(env, unique('lost-response'), {
        identifiers,
        output: { storage: 'TEMPORARY', sink: env.sinkUrl },
      });
      const report: HarvestReport = await handle.result();
      expect(report.outcome).toBe('delivered');
      const { ordersByName, ordersCreated } = await stats(env);
      expect(ordersCreated).toBe(1);
      expect(ordersByName[report.orderName!]).toBe(1);
    }));

  it('reports items the Hook fails with its message, and delivers the rest', () =>
    withEnv({ timing: { queuedMs: 20, processingMs: 50 } }, async (env) => {
      const [good] = catalogueIdentifiers(env.emulator, COLLECTION, 1);
      const missing = 'S2B_MSIL1C_20990101T000000_N0509_R001_T00AAA_20990101T000000.SAFE';
      const report: HarvestReport = await (
        await run(env, unique('failed-item'), {
          identifiers: [good!, missing],
          output: { storage: 'TEMPORARY', sink: env.sinkUrl },
        })
      ).result();
      expect(report.outcome).toBe('partial');
      expect(report.items.find((i) => i.identifier === good)).toMatchObject({ state: 'delivered' });
      const failed = report.items.find((i) => i.identifier === missing)!;
      expect(failed).toMatchObject({ state: 'failed', hookStatus: 'failed' });
      expect(failed.error).toMatch(/not found|not in|collection/i);
      expect(await readdir(env.sinkDir)).toEqual(expect.arrayContaining([`${good}.zip`, 'manifest.json']));
    }));

  it(
    'resumes a download cut part-way with a Range request and ends with the right sha256',
    () =>
      withEnv(
        // Every response is cut cleanly after 200,000 of the 300,000 bytes. A retry that sent a full
        // request would be cut again, for ever; only Range requests for what is missing can finish.
        { timing: { queuedMs: 20, processingMs: 50 }, faults: { truncateRate: 1, truncateAfterBytes: 200_000 } },
        async (env) => {
          const [identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 1);
          const report: HarvestReport = await (
            await run(env, unique('resume'), {
              identifiers: [identifier!],
              output: { storage: 'TEMPORARY', sink: env.sinkUrl },
            })
          ).result();
          expect(report.items[0]).toMatchObject({
            state: 'delivered',
            bytes: SIZE,
            sha256: (await productDigest({ identifier: identifier!, size: SIZE })).sha256,
          });
          // The cut request, then one resumed request (two if the first attempt had not yet written
          // everything it received when the connection ended).
          const storage = Object.entries((await stats(env)).requestsByRoute).filter(([route]) =>
            route.includes('swift'),
          );
          const requests = storage.reduce((sum, [, n]) => sum + n, 0);
          expect(requests).toBeGreaterThanOrEqual(2);
          expect(requests).toBeLessThanOrEqual(3);
          // The first read from byte 0; every later one a Range from where the file had got to.
          const starts = (await stats(env)).storageReads.map((read) => read.start);
          expect(starts[0]).toBe(0);
          expect(starts.slice(1).every((start) => start > 0 && start < SIZE)).toBe(true);
          expect(await productsNotAsGenerated({ dir: env.sinkDir }, [identifier!], SIZE)).toEqual([]);
          expect((await readdir(env.sinkDir)).filter((f) => f.endsWith('.part'))).toEqual([]);
        },
      ),
    120_000,
  );

  it('obeys Retry-After: no request comes back before the time a 429 named', () =>
    withEnv(
      {
        timing: { queuedMs: 20, processingMs: 100 },
        faults: { rateLimitRate: 0.3, retryAfterSec: 1, scopes: ['odata', 'storage'] },
      },
      async (env) => {
        const identifiers = catalogueIdentifiers(env.emulator, COLLECTION, 3);
        const report: HarvestReport = await (
          await run(env, unique('retry-after'), { identifiers, output: { storage: 'TEMPORARY', sink: env.sinkUrl } })
        ).result();
        expect(report.outcome).toBe('delivered');
        const { rateLimited, anyEarlyReturn } = await stats(env);
        expect(rateLimited.length).toBeGreaterThan(0);
        expect(anyEarlyReturn).toBe(false);
      },
    ));

  it('reports an expired download link as such, without retrying it for ever', () =>
    withEnv({ timing: { queuedMs: 20, processingMs: 50 }, faults: { linksExpireAfterMs: 0 } }, async (env) => {
      const identifiers = catalogueIdentifiers(env.emulator, COLLECTION, 1);
      const report: HarvestReport = await (
        await run(env, unique('expired'), { identifiers, output: { storage: 'TEMPORARY', sink: env.sinkUrl } })
      ).result();
      expect(report.items[0]).toMatchObject({ state: 'failed', hookStatus: 'completed' });
      expect(report.items[0]!.error).toMatch(/signed download link was refused \(expired or invalid\)/);
      expect(report.items[0]!.error).not.toMatch(/temp_url_sig=[0-9a-f]/);
      const downloads = Object.entries((await stats(env)).requestsByRoute)
        .filter(([route]) => route.includes('swift'))
        .reduce((sum, [, n]) => sum + n, 0);
      expect(downloads).toBe(1);
    }));

  it('never runs more downloads at once than maxParallelDownloads', () =>
    withEnv({ timing: { queuedMs: 0, processingMs: 10 } }, async (env) => {
      const identifiers = catalogueIdentifiers(env.emulator, COLLECTION, 4);
      const handle = await run(env, unique('parallel'), {
        identifiers,
        output: { storage: 'TEMPORARY', sink: env.sinkUrl },
        maxParallelDownloads: 2,
      });
      expect((await handle.result()).outcome).toBe('delivered');
      // Walk the history: a download is running from its scheduling to its completion.
      const events = (await handle.fetchHistory()).events ?? [];
      const downloads = new Set<string>();
      let running = 0;
      let most = 0;
      for (const event of events) {
        const scheduled = event.activityTaskScheduledEventAttributes;
        if (scheduled?.activityType?.name === 'deliverProduct') {
          downloads.add(String(event.eventId));
          most = Math.max(most, ++running);
        }
        const closed = event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes;
        if (closed && downloads.has(String(closed.scheduledEventId))) running--;
      }
      expect(downloads.size).toBe(4);
      expect(most).toBe(2);
    }));

  it('cancelling the harvest cancels the Hook order and leaves no partial file', () =>
    withEnv({ timing: { queuedMs: 60_000, processingMs: 60_000 } }, async (env) => {
      const identifiers = catalogueIdentifiers(env.emulator, COLLECTION, 2);
      const handle = await run(env, unique('cancel'), {
        identifiers,
        output: { storage: 'TEMPORARY', sink: env.sinkUrl },
      });
      const polling = await eventually(
        () => handle.query(progressQuery),
        (p) => p.phase === 'polling' && p.orderId !== undefined,
      );
      // Items still at the Hook are not failures: the harvest is running, whatever its items' states.
      expect(polling.outcome).toBe('running');
      expect(polling.items.map((i) => i.state)).toEqual(['ordered', 'ordered']);
      await handle.cancel();
      const failure = await handle.result().catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      expect((failure as WorkflowFailedError).cause?.name).toBe('CancelledFailure');
      expect((await stats(env)).itemsByState).toMatchObject({ cancelled: 2 });
      const progress = await handle.query(progressQuery);
      expect(progress.items.map((i) => i.state)).toEqual(['cancelled', 'cancelled']);
      expect(progress.outcome).toBe('cancelled');
      expect((await readdir(env.sinkDir)).filter((f) => f.endsWith('.part'))).toEqual([]);
    }));

  it('past the deadline cancels the order and reports unfinished items as timed out', () =>
    withEnv({ timing: { queuedMs: 60_000, processingMs: 60_000 } }, async (env) => {
      const identifiers = catalogueIdentifiers(env.emulator, COLLECTION, 1);
      const report: HarvestReport = await (
        await run(env, unique('deadline'), {
          identifiers,
          output: { storage: 'TEMPORARY', sink: env.sinkUrl },
          polling: { initialInterval: '100ms', maxInterval: '200ms', backoff: 1.5, deadline: '2s' },
        })
      ).result();
      expect(report.outcome).toBe('timed_out');
      expect(report.items[0]).toMatchObject({ state: 'timed_out' });
      expect((await stats(env)).itemsByState).toMatchObject({ cancelled: 1 });
    }));

  it('keeps history small however many polls a long order takes', () =>
    withEnv({ timing: { queuedMs: 0, processingMs: 8_000 } }, async (env) => {
      const identifiers = catalogueIdentifiers(env.emulator, COLLECTION, 1);
      const handle = await run(env, unique('history'), {
        identifiers,
        output: { storage: 'TEMPORARY', sink: env.sinkUrl },
        polling: { initialInterval: '50ms', maxInterval: '100ms', backoff: 1.2, deadline: '1m' },
      });
      const report: HarvestReport = await handle.result();
      expect(report.outcome).toBe('delivered');
      const polls = Object.entries((await stats(env)).requestsByRoute)
        .filter(([route]) => route.includes('Products'))
        .reduce((sum, [, n]) => sum + n, 0);
      const events = (await handle.fetchHistory()).events ?? [];
      const scheduled = events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
      // Many polls at the Hook, yet one poll activity in the history: its retries are the poll
      // loop and add no events, so the history does not grow with the order's duration.
      expect(polls).toBeGreaterThanOrEqual(6);
      expect(scheduled.filter((name) => name === 'pollOrder')).toHaveLength(1);
    }));
});
