/**
 * The worker process with DEDL_METRICS_ADDRESS serves Prometheus `/metrics`: Temporal's own
 * worker metrics and ours on one endpoint. Scraped before and after real harvests, our counters
 * move by exactly what happened: products and bytes delivered, a Hook-failed item, a download
 * retried after a cut, and Hook requests by operation and status. The account limiter's gauge of
 * items in flight shows a campaign's permits while it holds them and drops to 0 once it ends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { request as http } from 'undici';
import { freePort } from '../../src/devstack/wait';
import { type EmulatorHandle, startEmulator } from '../../src/emulator';
import type { FaultsInput } from '../../src/emulator/faults';
import { type AccountStatus, accountLimiterId, accountStatusQuery } from '../../src/shared/account-limiter';
import type { CampaignReport } from '../../src/shared/campaign-report';
import type { HarvestReport } from '../../src/shared/harvest-report';
import { METRIC } from '../../src/worker/metrics';
import { eventually } from '../helpers/hook';
import { campaignRequest } from '../helpers/campaign-env';
import { catalogueIdentifiers, request } from '../helpers/harvest-env';
import { testStack } from '../helpers/stack';

const SIZE = 300_000;
const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';
/** Set by the `hookAccountLimiter` workflow (workflow code cannot import METRIC from src/worker). */
const ITEMS_IN_FLIGHT = 'dedl_account_items_in_flight';

/** One sample of the exposition format: `name{label="value",…} number`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match || line.startsWith('#')) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key!] = value!;
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of a metric's samples whose labels include `labels` (0 when there is none yet). */
function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()),
  );

describe('the worker Prometheus endpoint', () => {
  let emulator: EmulatorHandle;
  let connection: Connection;
  let client: Client;
  let sinkDir: string;
  let worker: ChildProcess | undefined;
  let metricsUrl: string;
  let stderr = '';
  const taskQueue = `metrics-${randomUUID()}`;

  const scrape = async (): Promise<Sample[]> => {
    const res = await http(metricsUrl);
    if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}`);
    return parseMetrics(await res.body.text());
  };
  /** Replaces the emulator's fault settings: every field not given is back to its default (off). */
  const setFaults = async (faults: FaultsInput) => {
    const res = await http(`${emulator.adminUrl}/faults`, { method: 'PUT', body: JSON.stringify(faults) });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  };
  const harvest = async (identifiers: string[]): Promise<HarvestReport> => {
    const handle = await client.workflow.start('harvest', {
      taskQueue,
      workflowId: `metrics-${randomUUID()}`,
      args: [request({ identifiers, output: { storage: 'TEMPORARY', sink: pathToFileURL(sinkDir).toString() } })],
    });
    return handle.result();
  };

  beforeAll(async () => {
    emulator = await startEmulator({ productSize: SIZE, timing: { queuedMs: 20, processingMs: 50 } });
    connection = await Connection.connect({ address: testStack().temporal.address });
    client = new Client({ connection, namespace: testStack().temporal.namespace });
    sinkDir = await mkdtemp(path.join(tmpdir(), 'dedl-metrics-'));
    const address = `127.0.0.1:${await freePort()}`;
    metricsUrl = `http://${address}/metrics`;
    worker = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../fixtures/cli-main.ts'), 'worker'], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: testStack().temporal.address,
        TEMPORAL_NAMESPACE: testStack().temporal.namespace,
        DEDL_TASK_QUEUE: taskQueue,
        DEDL_METRICS_ADDRESS: address,
        // The run's prebuilt workflow bundle: no webpack at start.
        DEDL_WORKFLOW_BUNDLE: testStack().workflowBundle,
        HOOK_BASE_URL: emulator.url,
        DESP_USERNAME: 'demo',
        DESP_PASSWORD: 'demo',
        LOG_LEVEL: 'WARN',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    worker.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    // Up once the worker runs: the SDK's slot gauges exist from the start.
    await eventually(
      () => scrape().catch(() => [] as Sample[]),
      (samples) => samples.some((s) => s.name === 'temporal_worker_task_slots_available'),
      90_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nworker stderr:\n${stderr}`);
    });
  }, 120_000);
  afterAll(async () => {
    if (worker) {
      worker.kill('SIGTERM');
      await exited(worker);
    }
    await connection?.close();
    await emulator?.close();
    await rm(sinkDir, { recursive: true, force: true });
  });

  it('serves Temporal worker metrics and ours, and our counters move with each harvest', async () => {
    const before = await scrape();
    expect(total(before, METRIC.productsDelivered)).toBe(0);
    const [a, b, c, failing, cut] = catalogueIdentifiers(emulator, COLLECTION, 5);

    // Three products delivered.
    const first = await harvest([a!, b!, c!]);
    expect(first.outcome).toBe('delivered');
    const afterFirst = await scrape();
    expect(total(afterFirst, METRIC.productsDelivered, { storage: 'TEMPORARY' })).toBe(3);
    expect(total(afterFirst, METRIC.bytesDelivered, { storage: 'TEMPORARY' })).toBe(3 * SIZE);
    expect(total(afterFirst, METRIC.productsFailed)).toBe(0);
    const requests = `${METRIC.hookRequestDuration}_count`;
    expect(total(afterFirst, requests, { operation: 'create-order', status: '201' })).toBe(1);
    expect(total(afterFirst, requests, { operation: 'get-order-items', status: '200' })).toBeGreaterThan(0);
    expect(total(afterFirst, requests, { operation: 'product-link', status: '200' })).toBe(3);
    expect(total(afterFirst, `${METRIC.hookRequestDuration}_sum`)).toBeGreaterThan(0);
    // Our histogram has its own buckets (seconds), and no label carries an id or a URL.
    expect(afterFirst.some((s) => s.name === `${METRIC.hookRequestDuration}_bucket` && s.labels.le === '0.025')).toBe(
      true,
    );
    const labels = new Set(afterFirst.filter((s) => s.name.startsWith('dedl_')).flatMap((s) => Object.keys(s.labels)));
    expect([...labels].sort()).toEqual(['le', 'method', 'operation', 'status', 'storage']);
    // Temporal's own metrics on the same endpoint, counting the same work.
    expect(total(afterFirst, 'temporal_activity_execution_latency_count', { activity_type: 'deliverProduct' })).toBe(3);
    expect(total(afterFirst, 'temporal_workflow_completed', { workflow_type: 'harvest' })).toBe(1);

    // An item the Hook fails.
    await setFaults({ itemFailureRate: 1 });
    const second = await harvest([failing!]);
    expect(second.items[0]!.state).toBe('failed');
    const afterSecond = await scrape();
    expect(total(afterSecond, METRIC.productsFailed, { reason: 'hook_failed' })).toBe(1);
    expect(total(afterSecond, METRIC.productsFailed)).toBe(1);
    expect(total(afterSecond, METRIC.productsDelivered)).toBe(3);

    // A download cut part-way: one attempt fails and is retried, the retry resumes and delivers.
    await setFaults({ itemFailureRate: 0, truncateRate: 1, truncateAfterBytes: 200_000, scopes: ['storage'] });
    const third = await harvest([cut!]);
    expect(third.outcome).toBe('delivered');
    const afterThird = await scrape();
    expect(total(afterThird, METRIC.activityRetries, { activity_type: 'deliverProduct' })).toBeGreaterThanOrEqual(1);
    expect(total(afterThird, METRIC.productsDelivered, { storage: 'TEMPORARY' })).toBe(4);
    expect(total(afterThird, METRIC.bytesDelivered, { storage: 'TEMPORARY' })).toBe(4 * SIZE);
    expect(total(afterThird, METRIC.productsFailed)).toBe(1);
  }, 240_000);

  it("shows the account limiter's items in flight while a campaign holds permits, and 0 once it ends", async () => {
    const account = { name: `metrics-${randomUUID().slice(0, 8)}`, maxItemsInFlight: 2, monthlyOrders: 1000 };
    const inFlight = (samples: Sample[]) => total(samples, ITEMS_IN_FLIGHT, { account: account.name });
    const series = (samples: Sample[]) =>
      samples.filter((s) => s.name === ITEMS_IN_FLIGHT && s.labels.account === account.name);
    const limiterStatus = (): Promise<AccountStatus> =>
      client.workflow.getHandle(accountLimiterId(account.name)).query(accountStatusQuery);
    // Every download answers 503 and is retried (seconds apart), so the first order cannot end and
    // keeps its permit until the fault is lifted: the gauge has a state to show, not a race to win.
    await setFaults({ errorRate: 1, scopes: ['storage'] });
    // Products not harvested by the test above (its sink would mark them done), in two orders of 2.
    const identifiers = catalogueIdentifiers(emulator, COLLECTION, 9).slice(5);
    const handle = await client.workflow.start('harvestCampaign', {
      taskQueue,
      workflowId: `metrics-campaign-${randomUUID()}`,
      args: [
        campaignRequest({
          identifiers,
          orderSize: 2,
          account,
          output: { storage: 'TEMPORARY', sink: pathToFileURL(path.join(sinkDir, 'campaign')).toString() },
        }),
      ],
    });

    // The first order holds the account's whole limit; the second waits for it.
    const holding = await eventually(scrape, (samples) => inFlight(samples) > 0, 90_000);
    expect(inFlight(holding)).toBe(account.maxItemsInFlight);
    expect(series(holding)).toHaveLength(1);
    const status = await limiterStatus();
    expect(status.inUse).toBe(account.maxItemsInFlight);
    expect(inFlight(await scrape())).toBe(status.inUse);

    await setFaults({});
    const report = (await handle.result()) as CampaignReport;
    expect(report.counts).toMatchObject({ items: 4, delivered: 4 });
    // The limiter sets the gauge when it handles the last release, which may follow the campaign's end.
    // The series stays, at 0 (not merely gone).
    const after = await eventually(scrape, (samples) => series(samples).some((s) => s.value === 0), 30_000);
    expect(series(after).map((s) => s.value)).toEqual([0]);
    expect(await limiterStatus()).toMatchObject({ inUse: 0, held: [], waiting: [] });
  }, 240_000);
});
