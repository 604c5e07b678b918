/**
 * Faults that only a real cluster has, under a running campaign: the history service SIGKILLed,
 * a rolling restart of frontend and matching (one process after the other, as a deployment
 * does), and PostgreSQL restarted under load. The campaign runs on a cluster of its own (the
 * shared one of the run must not be disturbed), its worker in a separate process; each fault
 * lands while items are in flight. Afterwards the chaos suite's checks: every product once with
 * the emulator's sha256, one order per batch, no `.part` file, the worker never exited.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { searchAttributeFlags } from '../../src/devstack/stack';
import { type TemporalCluster, startTemporalCluster } from '../../src/devstack/temporal-cluster';
import { TEMPORAL_CLI, TEMPORAL_SERVER, TEMPORAL_SQL_TOOL, ensureTool } from '../../src/devstack/tools';
import { startEmulator } from '../../src/emulator';
import type { CampaignReport } from '../../src/shared/campaign-report';
import { COLLECTION, catalogueIds } from '../helpers/campaign-env';
import { testStack } from '../helpers/stack';
import {
  WorkerSupervisor,
  workerKeyFound,
  chaosFigures,
  chaosRandom,
  chaosWorkerEnv,
  expectCampaignIntact,
  expectedProducts,
  faultMarks,
  listHookOrders,
  localSinkUnderTest,
  scratchDir,
  waitFor,
} from '../chaos/chaos-harness';

const PLAN = { products: 60, orderSize: 5, maxOrdersInFlight: 4, campaignMs: 8 * 60_000 };
const SIZE = 64 * 1024;

jest.setTimeout(PLAN.campaignMs + 3 * 60_000);

/** One fault: what it does to the cluster, named as the table shows it. */
interface Fault {
  name: string;
  inject(cluster: TemporalCluster, downtimeMs: number): Promise<void>;
}

const FAULTS: Fault[] = [
  {
    name: 'history SIGKILL',
    async inject(cluster, downtimeMs) {
      await cluster.services.history.kill();
      await delay(downtimeMs);
      await cluster.services.history.start();
    },
  },
  {
    name: 'rolling restart of frontend and matching',
    async inject(cluster) {
      for (const service of [cluster.services.frontend, cluster.services.matching]) {
        await service.stop();
        await service.start();
      }
    },
  },
  {
    name: 'PostgreSQL restart',
    inject: (cluster) => cluster.postgres.restart(),
  },
];

describe('a campaign on a Temporal cluster through service and database faults', () => {
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let cluster: TemporalCluster;

  beforeAll(async () => {
    scratch = await scratchDir('cluster-faults');
    const [serverBinary, sqlToolBinary, cliBinary] = [
      await ensureTool(TEMPORAL_SERVER),
      await ensureTool(TEMPORAL_SQL_TOOL),
      await ensureTool(TEMPORAL_CLI),
    ];
    cluster = await startTemporalCluster({
      serverBinary,
      sqlToolBinary,
      cliBinary,
      searchAttributes: searchAttributeFlags(),
    });
  });
  afterAll(async () => {
    await cluster?.stop();
    await scratch?.remove();
  });

  it('completes with every product delivered once and verified, nothing left over', async () => {
    const scenario = 'cluster: history SIGKILL, rolling restart, PostgreSQL restart';
    const random = chaosRandom(scenario);
    const sink = localSinkUnderTest(path.join(scratch.dir, 'sink'));
    const emulator = await startEmulator({ timing: { queuedMs: 5, processingMs: 40 }, productSize: SIZE });
    const taskQueue = `cluster-faults-${randomUUID()}`;
    const temporal = { address: cluster.address, namespace: cluster.namespace };
    const workers = new WorkerSupervisor(
      chaosWorkerEnv({
        temporal,
        emulator,
        taskQueue,
        s3: { name: 'chaos-s3', ...testStack().s3 },
      }),
      path.join(scratch.dir, 'worker.log'),
    );
    const connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection, namespace: temporal.namespace });
    const injected: string[] = [];
    try {
      const identifiers = catalogueIds(emulator, PLAN.products, COLLECTION);
      const [expected] = await Promise.all([expectedProducts(identifiers, () => SIZE), workers.start()]);
      const workflowId = `cluster-faults-${randomUUID()}`;
      await client.workflow.start('harvestCampaign', {
        taskQueue,
        workflowId,
        args: [
          {
            name: 'cluster faults',
            collection: COLLECTION,
            identifiers,
            orderSize: PLAN.orderSize,
            maxOrdersInFlight: PLAN.maxOrdersInFlight,
            maxParallelDownloads: 8,
            continueAsNewAfterEvents: 60,
            downloadHeartbeatTimeout: '5s',
            polling: { initialInterval: '100ms', maxInterval: '500ms', backoff: 1.5, deadline: '30m' },
            account: { name: `cluster-${randomUUID().slice(0, 8)}`, maxItemsInFlight: 1000, monthlyOrders: 1000 },
            output: { storage: 'TEMPORARY', sink: sink.url },
          },
        ],
      });
      const handle = client.workflow.getHandle(workflowId);

      const marks = faultMarks(random, FAULTS.length, PLAN.products, 0.1, 0.6);
      for (const [index, fault] of FAULTS.entries()) {
        const mark = marks[index]!;
        await waitFor(
          `${scenario}: product ${mark} delivered`,
          () => sink.delivered(),
          (n) => n >= mark,
          PLAN.campaignMs,
          50,
        );
        // The fault must hit a campaign at work: still running, products still to deliver.
        const delivered = await sink.delivered();
        expect((await handle.describe()).status.name).toBe('RUNNING');
        expect(delivered).toBeLessThan(PLAN.products);
        const downtime = random.int(1000, 3000);
        await fault.inject(cluster, downtime);
        injected.push(fault.name);
        process.stderr.write(`[cluster] ${fault.name} after ${delivered} of ${PLAN.products} products\n`);
      }

      await waitFor(
        `${scenario}: campaign completed`,
        async () => (await handle.describe()).status.name,
        (s) => s !== 'RUNNING',
        PLAN.campaignMs,
        500,
      );
      const report: CampaignReport = await handle.result();
      const [audit, orders] = await Promise.all([sink.audit(), listHookOrders(emulator)]);
      const figures = chaosFigures({ expected, audit, orders, ledger: true });
      expectCampaignIntact({
        scenario,
        injected: injected.join(', '),
        report,
        figures,
        orders,
        plan: PLAN,
        workers,
        secretsFound: await workerKeyFound({ client, workflowId, workers, report }),
      });
      expect(injected).toHaveLength(FAULTS.length);
    } finally {
      await workers.close();
      await connection.close();
      await emulator.close();
    }
  });
});
