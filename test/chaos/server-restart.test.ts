/**
 * Chaos scenario 2, Temporal server restart: a campaign runs against its own Temporal dev server
 * (not the shared one of the test run), which is stopped and started again on the same port and
 * the same `--db-filename` while products are being delivered, after a random downtime. The
 * worker process stays up through the outage. The campaign then completes with the checks of
 * scenario 1: every product once with the emulator's sha256, one order per batch, no `.part` file
 * and no unfinished multipart upload. Once with a local folder sink, once with an S3 sink (some
 * products span two parts, so an outage can fall between the parts of an upload).
 *
 * Scale (chaos-record.ts): `full` 300 products and 3 restarts; `short` 30 products and 1 restart.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { searchAttributeFlags } from '../../src/devstack/stack';
import { type TemporalDevServer, startTemporalDevServer } from '../../src/devstack/temporal-dev-server';
import { TEMPORAL_CLI, ensureTool } from '../../src/devstack/tools';
import { freePort } from '../../src/devstack/wait';
import { startEmulator } from '../../src/emulator';
import type { CampaignReport } from '../../src/shared/campaign-report';
import { COLLECTION, catalogueIds } from '../helpers/campaign-env';
import { stackS3Client } from '../helpers/s3';
import { testStack } from '../helpers/stack';
import { CHAOS_SCALE } from './chaos-record';
import {
  WorkerSupervisor,
  chaosFigures,
  workerKeyFound,
  expectCampaignIntact,
  chaosRandom,
  chaosWorkerEnv,
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
      restarts: 3,
      orderSize: 20,
      maxOrdersInFlight: 8,
      campaignMs: 10 * 60_000,
      lastMark: 0.8,
      maxDelayMs: 1000,
    }
  : {
      products: 30,
      restarts: 1,
      orderSize: 5,
      maxOrdersInFlight: 4,
      campaignMs: 4 * 60_000,
      lastMark: 0.5,
      maxDelayMs: 250,
    };

const SMALL = 64 * 1024;
const LARGE = 18 * 1024 * 1024;
/** Every 10th product of a campaign spans two S3 parts (16 MiB each); set once the identifiers are known. */
const large = new Set<string>();
const sizeOf = (identifier: string): number => (large.has(identifier) ? LARGE : SMALL);

jest.setTimeout(SCALE.campaignMs + 5 * 60_000);

describe(`chaos: Temporal server restarted mid-campaign (${CHAOS_SCALE})`, () => {
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let binary: string;
  let dbFile: string;
  let port: number;
  let server: TemporalDevServer | undefined;
  let s3: S3Client;

  const startServer = async () => {
    server = await startTemporalDevServer({ binary, searchAttributes: searchAttributeFlags(), dbFile, port });
    return server;
  };
  const stopServer = async () => {
    const running = server;
    server = undefined;
    await running?.stop();
  };

  beforeAll(async () => {
    scratch = await scratchDir('restart');
    dbFile = path.join(scratch.dir, 'temporal.db');
    [binary, port] = await Promise.all([ensureTool(TEMPORAL_CLI), freePort()]);
    await startServer();
    s3 = stackS3Client();
  });
  afterAll(async () => {
    s3?.destroy();
    await stopServer();
    await scratch?.remove();
  });

  it.each([
    ['local', async () => localSinkUnderTest(path.join(scratch.dir, 'sink'))],
    ['s3', async () => s3SinkUnderTest(s3, 'chaos-restart', 'chaos-s3')],
  ])(
    '%s sink: the campaign completes, every product delivered once, verified, nothing left over',
    async (kind, makeSink) => {
      const sink = await makeSink();
      const scenario = `Temporal server restart (${sink.label})`;
      const random = chaosRandom(scenario);
      const started = Date.now();
      const first = server!;
      const temporal = { address: first.address, namespace: first.namespace };
      const emulator = await startEmulator({ timing: { queuedMs: 5, processingMs: 30 }, productSize: sizeOf });
      const taskQueue = `chaos-restart-${kind}-${randomUUID()}`;
      const workers = new WorkerSupervisor(
        chaosWorkerEnv({
          temporal,
          emulator,
          taskQueue,
          s3: { name: 'chaos-s3', ...testStack().s3 },
        }),
        path.join(scratch.dir, `worker-${kind}.log`),
      );
      const connection = await Connection.connect({ address: temporal.address });
      const client = new Client({ connection, namespace: temporal.namespace });
      let restarts = 0;
      try {
        const identifiers = catalogueIds(emulator, SCALE.products, COLLECTION);
        identifiers.filter((_, i) => i % 10 === 0).forEach((id) => large.add(id));
        const [expected] = await Promise.all([expectedProducts(identifiers, sizeOf), workers.start()]);

        const workflowId = `chaos-restart-${randomUUID()}`;
        await client.workflow.start('harvestCampaign', {
          taskQueue,
          workflowId,
          args: [
            {
              name: `chaos restart ${kind}`,
              collection: COLLECTION,
              identifiers,
              orderSize: SCALE.orderSize,
              maxOrdersInFlight: SCALE.maxOrdersInFlight,
              maxParallelDownloads: 8,
              continueAsNewAfterEvents: FULL ? 150 : 60,
              downloadHeartbeatTimeout: '5s',
              polling: { initialInterval: '100ms', maxInterval: '500ms', backoff: 1.5, deadline: '30m' },
              account: { name: `chaos-${randomUUID().slice(0, 8)}`, maxItemsInFlight: 1000, monthlyOrders: 1000 },
              output: { storage: 'TEMPORARY', sink: sink.url, sinkCredentials: sink.sinkCredentials },
            },
          ],
        });
        const status = async () => (await client.workflow.getHandle(workflowId).describe()).status.name;

        // The fault schedule: stop the server after the k-th product landed, keep it down for 1–5 s.
        // At short scale the restart comes in the first half, soon after its mark: 30 small products
        // are delivered fast, and a restart after 23 of them plus up to a second once found the
        // campaign with nothing left to deliver (seen in a CI run).
        const marks = faultMarks(random, SCALE.restarts, SCALE.products, 0.1, SCALE.lastMark);
        process.stderr.write(`[chaos] ${scenario}: restarts after ${marks.join(', ')} products\n`);
        const inFlightAtRestart: number[] = [];
        for (const mark of marks) {
          const before = await sink.delivered();
          await waitFor(
            `${scenario}: product ${mark} delivered`,
            () => sink.delivered(),
            (n) => n >= mark && n > before,
            SCALE.campaignMs,
            50,
          );
          await delay(random.int(0, SCALE.maxDelayMs));
          // The outage must hit work in progress: the campaign running, products still to deliver.
          const [running, delivered] = await Promise.all([status(), sink.delivered()]);
          expect(running).toBe('RUNNING');
          expect(SCALE.products - delivered).toBeGreaterThan(0);
          inFlightAtRestart.push(SCALE.products - delivered);
          await stopServer();
          const downtime = random.int(1000, 5000);
          await delay(downtime);
          const again = await startServer();
          expect(again.address).toBe(temporal.address);
          restarts++;
          process.stderr.write(
            `[chaos] ${scenario}: restart ${restarts} after ${mark} products, ${inFlightAtRestart.at(-1)} ` +
              `undelivered, down ${downtime} ms\n`,
          );
        }

        // The client's connection reconnects by itself; a status read during an outage just fails.
        await waitFor(`${scenario}: campaign completed`, status, (s) => s !== 'RUNNING', SCALE.campaignMs, 500);
        const report: CampaignReport = await client.workflow.getHandle(workflowId).result();
        const [audit, orders] = await Promise.all([sink.audit(), listHookOrders(emulator)]);
        const figures = chaosFigures({ expected, audit, orders, ledger: true });
        const seconds = Math.round((Date.now() - started) / 1000);
        process.stderr.write(
          `[chaos] ${scenario}: ${restarts} restarts, ${figures.products} products, lost ${figures.lost}, ` +
            `duplicated ${figures.duplicated}, corrupt ${figures.corruptAccepted}, orders ${orders.length} ` +
            `(named twice ${figures.ordersNamedTwice}), .part ${figures.partFiles}, unfinished uploads ` +
            `${figures.unfinishedUploads}, worker exits ` +
            `${workers.unexpectedExits}, runs ${report.runs}, ${seconds} s\n`,
        );
        expect(restarts).toBe(SCALE.restarts);
        // The worker rode out the outage: it must never have exited (unexpectedExits is checked).
        expectCampaignIntact({
          scenario,
          injected: `${restarts} server restart${restarts === 1 ? '' : 's'} (products undelivered at each: ${inFlightAtRestart.join(', ')})`,
          report,
          figures,
          orders,
          plan: SCALE,
          workers,
          secretsFound: await workerKeyFound({ client, workflowId, workers, report }),
        });
      } finally {
        await workers.close();
        await connection.close();
        await emulator.close();
      }
    },
  );
});
