/**
 * Chaos scenario 1, worker crashes: a campaign runs while its worker process is killed with
 * SIGKILL again and again (at seeded random moments, each after real progress: products landing
 * in the sink) and replaced by a fresh one. Afterwards every product is in the sink exactly once
 * with the emulator's sha256, each batch was ordered once at the Hook, and no `.part` file or
 * unfinished multipart upload is left. Once with a local folder sink, once with an S3 sink.
 *
 * Scale (chaos-record.ts): `full` (npm run chaos) 300 products and 12 kills per sink (at least
 * 10 must land before the campaign ends); `short` (npm test) 30 products and 4 kills (at least 3).
 */
import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { type EmulatorHandle, startEmulator } from '../../src/emulator';
import type { CampaignReport } from '../../src/shared/campaign-report';
import { COLLECTION, catalogueIds } from '../helpers/campaign-env';
import { stackS3Client } from '../helpers/s3';
import { testStack } from '../helpers/stack';
import { CHAOS_SCALE } from './chaos-record';
import {
  WorkerSupervisor,
  activitiesRetriedAfterTimeout,
  chaosFigures,
  workerKeyFound,
  expectCampaignIntact,
  pendingWork,
  chaosRandom,
  chaosWorkerEnv,
  emulatorStats,
  expectedProducts,
  faultMarks,
  listHookOrders,
  localSinkUnderTest,
  s3SinkUnderTest,
  scratchDir,
  waitFor,
} from './chaos-harness';

const FULL = CHAOS_SCALE === 'full';
const SCALE = FULL
  ? {
      products: 300,
      kills: 12,
      minKills: 10,
      orderSize: 20,
      maxOrdersInFlight: 8,
      campaignMs: 15 * 60_000,
      lastMark: 0.75,
      maxDelayMs: 1000,
    }
  : {
      products: 30,
      kills: 4,
      minKills: 3,
      orderSize: 5,
      maxOrdersInFlight: 4,
      campaignMs: 8 * 60_000,
      lastMark: 0.5,
      maxDelayMs: 250,
    };

const SMALL = 64 * 1024;
/**
 * A few products span two S3 parts (16 MiB each), so kills can land between parts of an upload;
 * they are also at the worker's floor for parallel ranges (DEDL_RANGED_MIN_BYTES below), so kills
 * land mid-range too: a local `.part` with holes, an S3 upload whose parts are one per range.
 */
const LARGE = 18 * 1024 * 1024;
const sizeOf = (identifier: string): number =>
  createHash('sha256').update(identifier).digest().readUInt32LE(0) % 25 === 0 ? LARGE : SMALL;

jest.setTimeout(SCALE.campaignMs + 5 * 60_000);

describe(`chaos: worker SIGKILLed mid-campaign (${CHAOS_SCALE})`, () => {
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let connection: Connection;
  let client: Client;
  let s3: S3Client;

  beforeAll(async () => {
    scratch = await scratchDir('kills');
    connection = await Connection.connect({ address: testStack().temporal.address });
    client = new Client({ connection, namespace: testStack().temporal.namespace });
    s3 = stackS3Client();
  });
  afterAll(async () => {
    s3?.destroy();
    await connection?.close();
    await scratch?.remove();
  });

  it.each([
    ['local', async () => localSinkUnderTest(path.join(scratch.dir, 'sink'))],
    ['s3', async () => s3SinkUnderTest(s3, 'chaos-kills', 'chaos-s3')],
  ])('%s sink: every product delivered once, verified, nothing left over', async (kind, makeSink) => {
    const sink = await makeSink();
    const scenario = `worker SIGKILL (${sink.label})`;
    const random = chaosRandom(scenario);
    const started = Date.now();
    const emulator: EmulatorHandle = await startEmulator({
      timing: { queuedMs: 5, processingMs: 100 },
      productSize: sizeOf,
    });
    const { s3: stackS3, temporal } = testStack();
    const taskQueue = `chaos-kills-${kind}-${randomUUID()}`;
    const workers = new WorkerSupervisor(
      {
        ...chaosWorkerEnv({ temporal, emulator, taskQueue, s3: { name: 'chaos-s3', ...stackS3 } }),
        DEDL_RANGED_MIN_BYTES: String(LARGE),
      },
      path.join(scratch.dir, `worker-${kind}.log`),
    );
    try {
      const identifiers = catalogueIds(emulator, SCALE.products, COLLECTION);
      const [expected] = await Promise.all([expectedProducts(identifiers, sizeOf), workers.start()]);

      const workflowId = `chaos-kills-${kind}-${randomUUID()}`;
      const handle = await client.workflow.start('harvestCampaign', {
        taskQueue,
        workflowId,
        args: [
          {
            name: `chaos ${kind}`,
            collection: COLLECTION,
            identifiers,
            orderSize: SCALE.orderSize,
            maxOrdersInFlight: SCALE.maxOrdersInFlight,
            maxParallelDownloads: 8,
            // Several runs, so kills also land around continue-as-new.
            continueAsNewAfterEvents: FULL ? 150 : 60,
            downloadHeartbeatTimeout: '5s',
            polling: { initialInterval: '100ms', maxInterval: '500ms', backoff: 1.5, deadline: '30m' },
            account: { name: `chaos-${randomUUID().slice(0, 8)}`, maxItemsInFlight: 1000, monthlyOrders: 1000 },
            output: { storage: 'TEMPORARY', sink: sink.url, sinkCredentials: sink.sinkCredentials },
          },
        ],
      });
      let finished = false;
      const result = handle.result().finally(() => (finished = true));
      result.catch(() => undefined); // awaited below

      // The fault schedule: kill once the k-th product has landed in the sink and the current
      // worker has been at work (its first request to the Hook), plus a random delay of up to 1 s.
      // Small runs finish fast once restarted: their kills land early enough to leave work to kill.
      const marks = faultMarks(random, SCALE.kills, SCALE.products, 0.05, SCALE.lastMark);
      process.stderr.write(`[chaos] ${scenario}: kills after ${marks.join(', ')} products\n`);
      const requests = async () => (await emulatorStats(emulator)).requestsTotal;
      let requestsAtStart = await requests();
      for (const mark of marks) {
        await waitFor(
          `${scenario}: product ${mark} delivered`,
          async () => (finished ? Infinity : await sink.delivered()),
          (n) => n >= mark,
          SCALE.campaignMs,
          50,
        );
        await waitFor(
          `${scenario}: worker at work`,
          requests,
          (n) => finished || n > requestsAtStart,
          SCALE.campaignMs,
        );
        await delay(random.int(0, SCALE.maxDelayMs));
        if (finished) break;
        await workers.killAndRestart();
        requestsAtStart = await requests();
      }

      const report: CampaignReport = await Promise.race([
        result,
        delay(SCALE.campaignMs, undefined, { ref: false }).then(async () => {
          const waiting = await pendingWork(client, workflowId).catch((err: unknown) => [String(err)]);
          throw new Error(
            `${scenario}: the campaign did not finish within ${SCALE.campaignMs} ms; pending:\n${waiting.join('\n')}`,
          );
        }),
      ]);
      const [audit, orders] = await Promise.all([sink.audit(), listHookOrders(emulator)]);
      const figures = chaosFigures({ expected, audit, orders, ledger: true });
      const orderIds = [...new Set((report.items ?? []).map((item) => item.order).filter((o) => o !== undefined))];
      const waits = await activitiesRetriedAfterTimeout(client, [workflowId, ...orderIds]);
      const seconds = Math.round((Date.now() - started) / 1000);
      process.stderr.write(
        `[chaos] ${scenario}: ${workers.kills} SIGKILL, ${workers.starts} worker starts, ` +
          `${figures.products} products, lost ${figures.lost}, duplicated ${figures.duplicated}, ` +
          `corrupt ${figures.corruptAccepted}, orders ${orders.length} (named twice ${figures.ordersNamedTwice}), ` +
          `.part ${figures.partFiles}, unfinished uploads ${figures.unfinishedUploads}, ` +
          `ledger scraps ${audit.ledgerScraps.length}, runs ${report.runs}, ${seconds} s; ` +
          `retried after a timeout: ${JSON.stringify(waits)}\n`,
      );
      expect(workers.kills).toBeGreaterThanOrEqual(SCALE.minKills);
      expectCampaignIntact({
        scenario,
        injected: `${workers.kills} SIGKILL`,
        report,
        figures,
        orders,
        plan: SCALE,
        workers,
        secretsFound: await workerKeyFound({ client, workflowId, workers, report }),
      });
    } finally {
      await workers.close();
      await emulator.close();
    }
  });
});
