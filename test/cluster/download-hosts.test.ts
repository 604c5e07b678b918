/**
 * Workers on several "machines": the workflow worker in this process, and two download-only
 * workers (`dedl-harvest worker` with DEDL_RUN_WORKFLOWS=false), each a process of its own, as
 * hosts near the storage would run them, all against the cluster and delivering into the shared
 * S3. Every product is delivered once with the emulator's bytes, and both download hosts took a
 * share of the deliveries (each runs one delivery at a time while downloads are slowed, so the
 * second host's poll is matched before the first is free).
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { HarvestReport } from '../../src/shared/harvest-report';
import {
  WorkerSupervisor,
  campaignSecretsFound,
  chaosFigures,
  chaosWorkerEnv,
  expectedProducts,
  listHookOrders,
  s3SinkUnderTest,
  scratchDir,
} from '../chaos/chaos-harness';
import { recordChaosRow } from '../chaos/chaos-record';
import { type HarvestEnv, catalogueIdentifiers, request, startHarvestEnv } from '../helpers/harvest-env';
import { stackS3Client } from '../helpers/s3';
import { testStack } from '../helpers/stack';

const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';
const PRODUCTS = 8;
const SIZE = 200_000;
const CREDENTIALS = 'cluster-s3';

jest.setTimeout(5 * 60_000);

describe('two download hosts on one cluster', () => {
  let env: HarvestEnv;
  let s3: S3Client;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  const hosts: WorkerSupervisor[] = [];

  beforeAll(async () => {
    const stem = `DEDL_CREDENTIALS_${CREDENTIALS.toUpperCase().replace(/-/g, '_')}_`;
    const { endpoint, region, accessKeyId, secretAccessKey } = testStack().s3;
    env = await startHarvestEnv(
      // Each product download waits 300 ms at the storage: deliveries overlap across hosts.
      {
        timing: { queuedMs: 10, processingMs: 30 },
        productSize: SIZE,
        faults: { latencyMs: 300, scopes: ['storage'] },
      },
      {
        [`${stem}ACCESS_KEY_ID`]: accessKeyId,
        [`${stem}SECRET_ACCESS_KEY`]: secretAccessKey,
        [`${stem}ENDPOINT`]: endpoint,
        [`${stem}REGION`]: region,
      },
    );
    s3 = stackS3Client();
    scratch = await scratchDir('download-hosts');
  });
  afterAll(async () => {
    for (const host of hosts) await host.close();
    s3?.destroy();
    await env?.close();
    await scratch?.remove();
  });

  it('delivers every product once, verified, with both hosts taking deliveries', async () => {
    const downloads = `download-hosts-${randomUUID()}`;
    const sink = await s3SinkUnderTest(s3, 'cluster-hosts', CREDENTIALS);
    for (const n of [1, 2]) {
      const workerEnv = chaosWorkerEnv({
        temporal: testStack().temporal,
        emulator: env.emulator,
        taskQueue: downloads,
        s3: { name: CREDENTIALS, ...testStack().s3 },
      });
      const host = new WorkerSupervisor(
        {
          ...workerEnv,
          DEDL_WORKFLOW_BUNDLE: undefined,
          DEDL_RUN_WORKFLOWS: 'false',
          DEDL_MAX_CONCURRENT_ACTIVITIES: '1',
        },
        path.join(scratch.dir, `host-${n}.log`),
      );
      hosts.push(host);
      await host.start();
    }

    const identifiers = catalogueIdentifiers(env.emulator, COLLECTION, PRODUCTS);
    const handle = await env.client.workflow.start('harvest', {
      taskQueue: env.taskQueue,
      workflowId: `download-hosts-${randomUUID()}`,
      args: [
        request({
          identifiers,
          output: { storage: 'TEMPORARY', sink: sink.url, sinkCredentials: CREDENTIALS },
          downloadTaskQueue: downloads,
          maxParallelDownloads: PRODUCTS,
        }),
      ],
    });
    const report = (await handle.result()) as HarvestReport;
    expect(report.outcome).toBe('delivered');

    const [expected, audit, orders] = await Promise.all([
      expectedProducts(identifiers, () => SIZE),
      sink.audit(),
      listHookOrders(env.emulator),
    ]);
    const mine = orders.filter((o) => o.IdentifierList.some((id) => identifiers.includes(id)));
    const figures = chaosFigures({ expected, audit, orders: mine, ledger: false });
    // Both hosts hold the S3 secret key: it must appear in no history, log or report.
    const secretsFound = (
      await Promise.all(
        hosts.map((host) =>
          campaignSecretsFound({
            client: env.client,
            workflowId: handle.workflowId,
            logFile: host.logFile,
            report,
            secrets: [testStack().s3.secretAccessKey],
          }),
        ),
      )
    ).flat();
    recordChaosRow({
      scenario: 'cluster: two download hosts (separate processes), S3 sink',
      runs: 1,
      injected: 'none',
      products: PRODUCTS,
      lost: figures.lost,
      duplicated: figures.duplicated,
      corruptAccepted: figures.corruptAccepted,
      secretsFound: secretsFound.length,
      leftBehind: figures.leftBehind,
    });
    expect(figures.problems).toEqual([]);
    expect(secretsFound).toEqual([]);
    expect(figures).toMatchObject({ lost: 0, duplicated: 0, corruptAccepted: 0, leftBehind: 0 });
    expect(mine).toHaveLength(1);

    // Which worker delivered what, from the workflow's own history.
    const deliveredBy = new Map<string, number>();
    const scheduled = new Map<string, string>();
    for (const event of (await handle.fetchHistory()).events ?? []) {
      const s = event.activityTaskScheduledEventAttributes;
      if (s) scheduled.set(String(event.eventId), s.activityType?.name ?? '');
      const started = event.activityTaskStartedEventAttributes;
      if (started && scheduled.get(String(started.scheduledEventId)) === 'deliverProduct') {
        deliveredBy.set(started.identity ?? '', (deliveredBy.get(started.identity ?? '') ?? 0) + 1);
      }
    }
    expect([...deliveredBy.keys()].some((identity) => identity.startsWith(`${process.pid}@`))).toBe(false);
    expect(deliveredBy.size).toBe(2);
    expect(hosts.map((h) => h.unexpectedExits)).toEqual([0, 0]);
  });
});
