/**
 * Benchmark: a campaign of 2,000 small products against an emulator with instant processing,
 * end to end (orders as child harvests, downloads with verification, ledger, manifest), next to
 * the same products fetched by a plain concurrent HTTP loop without Temporal — the ceiling — in
 * the same run, on the same machine.
 *
 * A third measurement runs the same orders as bare `harvest` workflows (no campaign): the
 * difference is what the campaign itself costs.
 *
 * Prints: products per second (all three, and their ratios), Hook requests per product (every request
 * the emulator served: OData, STAC, downloads, login), Temporal history events per product (every
 * run of every workflow on the bench's task queue: campaign runs, child harvests, the account
 * limiter). The plain loop and the campaign run BENCH_RUNS times each, interleaved (medians
 * reported); the bare harvests once, as context. With `--json` the last stdout line is the rows
 * for bench/run-all.ts.
 *
 * The emulator runs in a child process so it does not share the event loop with the worker or the
 * loop. Temporal is a local dev server (built into .tools/ by the project's scripts if missing).
 *
 *   node --import tsx bench/campaign.ts [--json]
 *
 * Environment: BENCH_PRODUCTS (default 2000), BENCH_PRODUCT_SIZE (bytes, default 16384),
 * BENCH_ORDER_SIZE (default 100), BENCH_ORDERS_IN_FLIGHT (default 4), BENCH_DOWNLOADS (parallel
 * downloads per order, default 16), BENCH_RUNS (default 3).
 */
import { fork } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { request } from 'undici';
import { loadWorkerConfig } from '../src/config/worker-config';
import { TEMPORAL_CLI, ensureTool } from '../src/devstack/tools';
import { startTemporalDevServer } from '../src/devstack/temporal-dev-server';
import { searchAttributeFlags } from '../src/devstack/stack';
import { startEmulator } from '../src/emulator';
import { HookClient } from '../src/hook/client';
import { despTokenSource } from '../src/hook/desp-login';
import { endpointsAt } from '../src/hook/endpoints';
import { createHttpAgent } from '../src/hook/http';
import { StacClient } from '../src/hook/stac';
import type { CampaignReport } from '../src/shared/campaign-report';
import {
  type CampaignRequestInput,
  orderRequest as campaignOrder,
  parseCampaignRequest,
} from '../src/shared/campaign-request';
import type { HarvestRequestInput } from '../src/shared/harvest-request';
import { createHarvestWorker, loadWorkflowBundle } from '../src/worker/create-worker';
import { buildDependencies } from '../src/worker/dependencies';
import { type BenchRow, emitRows, jsonMode, median, say } from './lib/rows';
import { BENCH_COLLECTION, temporaryOrder } from './lib/temporary-link';

const ACCOUNT = { username: 'bench', password: 'bench' };

const settings = {
  products: Number(process.env['BENCH_PRODUCTS'] ?? 2000),
  productSize: Number(process.env['BENCH_PRODUCT_SIZE'] ?? 16_384),
  orderSize: Number(process.env['BENCH_ORDER_SIZE'] ?? 100),
  ordersInFlight: Number(process.env['BENCH_ORDERS_IN_FLIGHT'] ?? 4),
  downloads: Number(process.env['BENCH_DOWNLOADS'] ?? 16),
  runs: Number(process.env['BENCH_RUNS'] ?? 3),
};

/** The emulator's process: instant processing, an account without a parallel-items cap worth the name. */
async function serve(): Promise<void> {
  const emulator = await startEmulator({
    timing: { queuedMs: 0, processingMs: 0 },
    productSize: settings.productSize,
    catalogueItemsPerCollection: settings.products,
    includeDefaultAccount: false,
    accounts: [{ ...ACCOUNT, maxParallelItems: 10_000, monthlyOrders: 100_000 }],
  });
  process.send?.({ url: emulator.url, adminUrl: emulator.adminUrl });
  process.on('disconnect', () => void emulator.close().then(() => process.exit(0)));
}

interface Measure {
  seconds: number;
  productsPerSecond: number;
  hookRequests: number;
  hookRequestsPerProduct: number;
  requestsByRoute: Record<string, number>;
}

async function stats(adminUrl: string): Promise<{ requestsTotal: number; requestsByRoute: Record<string, number> }> {
  const res = await request(`${adminUrl}/stats`);
  return (await res.body.json()) as { requestsTotal: number; requestsByRoute: Record<string, number> };
}

async function resetStats(adminUrl: string): Promise<void> {
  const res = await request(`${adminUrl}/stats/reset`, { method: 'POST' });
  await res.body.dump();
}

async function measure(adminUrl: string, products: number, body: () => Promise<void>): Promise<Measure> {
  await resetStats(adminUrl);
  const started = process.hrtime.bigint();
  await body();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const after = await stats(adminUrl);
  // The stats request itself is not the client's.
  const hookRequests = after.requestsTotal;
  return {
    seconds,
    productsPerSecond: products / seconds,
    hookRequests,
    hookRequestsPerProduct: hookRequests / products,
    requestsByRoute: after.requestsByRoute,
  };
}

/**
 * The ceiling: the same orders with the same Hook client, no Temporal. Orders of `orderSize`,
 * `ordersInFlight` at once; each polled every 50 ms until done; its products streamed to files
 * with a sha256, `downloads` at once per order.
 */
async function plainLoop(url: string, identifiers: string[], dir: string): Promise<void> {
  const agent = createHttpAgent();
  const endpoints = endpointsAt(url);
  const hook = new HookClient({ endpoints, dispatcher: agent, tokens: despTokenSource(agent, ACCOUNT, { endpoints }) });
  const batches: string[][] = [];
  for (let i = 0; i < identifiers.length; i += settings.orderSize)
    batches.push(identifiers.slice(i, i + settings.orderSize));
  const orderOne = async (batch: string[], n: number) => {
    const order = await hook.createBatchOrder(temporaryOrder(`plain ${n}`, batch, ACCOUNT));
    let items = await hook.getOrderItems(order.Id);
    while (!items.every((i) => ['completed', 'failed', 'cancelled'].includes(i.Status))) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      items = await hook.getOrderItems(order.Id);
    }
    const queue = items.filter((i) => i.Status === 'completed');
    const worker = async () => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        const product = await hook.openProduct({ url: item.DownloadLink ?? hook.productValueUrl(order.Id, item.Id) });
        const hash = createHash('sha256');
        const tap = new Transform({
          transform(chunk: Buffer, _enc, done) {
            hash.update(chunk);
            done(null, chunk);
          },
        });
        await pipeline(product.body, tap, createWriteStream(path.join(dir, `${item.InputProductReference}.zip`)));
        hash.digest('hex');
      }
    };
    await Promise.all(Array.from({ length: settings.downloads }, worker));
  };
  let next = 0;
  const lane = async () => {
    while (next < batches.length) {
      const n = next++;
      await orderOne(batches[n]!, n);
    }
  };
  await Promise.all(Array.from({ length: settings.ordersInFlight }, lane));
  await agent.close();
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const child = fork(__filename, ['--serve'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: process.execArgv,
  });
  const emulator = await new Promise<{ url: string; adminUrl: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { url: string; adminUrl: string }));
    child.once('exit', (code) => reject(new Error(`emulator exited (${code})`)));
  });
  const temporalBinary = await ensureTool(TEMPORAL_CLI);
  const temporal = await startTemporalDevServer({ binary: temporalBinary, searchAttributes: searchAttributeFlags() });
  const scratch = await mkdtemp(path.join(tmpdir(), 'dedl-bench-campaign-'));
  const cleanup: (() => Promise<unknown>)[] = [
    async () => rm(scratch, { recursive: true, force: true }),
    async () => temporal.stop(),
    async () => child.disconnect(),
  ];
  try {
    const agent = createHttpAgent();
    const endpoints = endpointsAt(emulator.url);
    const tokens = despTokenSource(agent, ACCOUNT, { endpoints });
    const stac = new StacClient({ stacUrl: endpoints.stac, tokens, dispatcher: agent });
    const identifiers = (
      await stac.searchAll({ collections: [BENCH_COLLECTION], limit: 100 }, { maxItems: settings.products })
    ).items.map((i) => i.id);
    if (identifiers.length < settings.products)
      throw new Error(`the catalogue has only ${identifiers.length} products`);

    // 2. The campaign on Temporal.
    const env = {
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      HOOK_BASE_URL: emulator.url,
      DESP_USERNAME: ACCOUNT.username,
      DESP_PASSWORD: ACCOUNT.password,
      DEDL_MAX_ACTIVITIES_PER_SECOND: '100000',
      DEDL_MAX_CONCURRENT_ACTIVITIES: '100',
      DEDL_SHUTDOWN_GRACE_TIME: '1s',
    };
    const config = loadWorkerConfig(env);
    const deps = buildDependencies(config, env);
    const connection = await NativeConnection.connect({ address: temporal.address });
    const taskQueue = `bench-${randomUUID()}`;
    const worker = await createHarvestWorker({
      config,
      connection,
      deps: { stac, ...deps },
      workflowBundle: await loadWorkflowBundle(),
      taskQueue,
    });
    const running = worker.run();
    const clientConnection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection: clientConnection, namespace: temporal.namespace });
    cleanup.unshift(async () => {
      worker.shutdown();
      await running;
      await Promise.all([connection.close(), clientConnection.close(), deps.close(), agent.close()]);
    });

    const baseInput: CampaignRequestInput = {
      name: 'bench',
      collection: BENCH_COLLECTION,
      identifiers,
      orderSize: settings.orderSize,
      maxOrdersInFlight: settings.ordersInFlight,
      maxParallelDownloads: settings.downloads,
      account: {
        name: 'bench',
        maxItemsInFlight: settings.orderSize * settings.ordersInFlight,
        monthlyOrders: 100_000,
      },
      polling: { initialInterval: '50ms', maxInterval: '1s', backoff: 1.5, deadline: '10m' },
      output: { storage: 'TEMPORARY', sink: pathToFileURL(path.join(scratch, 'unused')).toString() },
    };
    const historyOnQueue = async () => {
      let events = 0;
      let workflows = 0;
      for await (const wf of client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) {
        events += wf.historyLength;
        workflows++;
      }
      return { events, workflows };
    };

    // 1 and 2, interleaved so machine noise hits both alike: the ceiling, then the campaign.
    const plainRuns: Measure[] = [];
    const campaignRuns: { measure: Measure; events: number; workflows: number; report: CampaignReport }[] = [];
    for (let run = 0; run < settings.runs; run++) {
      const plainDir = path.join(scratch, `plain-${run}`);
      await mkdir(plainDir);
      plainRuns.push(
        await measure(emulator.adminUrl, identifiers.length, () => plainLoop(emulator.url, identifiers, plainDir)),
      );
      await rm(plainDir, { recursive: true, force: true });

      const sinkDir = path.join(scratch, `campaign-${run}`);
      const input: CampaignRequestInput = {
        ...baseInput,
        name: `bench ${run}`,
        output: { storage: 'TEMPORARY', sink: pathToFileURL(sinkDir).toString() },
      };
      const before = await historyOnQueue();
      let report: CampaignReport | undefined;
      const measured = await measure(emulator.adminUrl, identifiers.length, async () => {
        report = await client.workflow.execute('harvestCampaign', {
          taskQueue,
          workflowId: `bench-campaign-${run}`,
          args: [input],
        });
      });
      if (!report || report.counts.delivered !== identifiers.length) {
        throw new Error(`the campaign did not deliver every product: ${JSON.stringify(report?.counts)}`);
      }
      const after = await historyOnQueue();
      campaignRuns.push({
        measure: measured,
        events: after.events - before.events,
        workflows: after.workflows - before.workflows,
        report,
      });
      await rm(sinkDir, { recursive: true, force: true });
      say(
        `run ${run + 1}/${settings.runs}: plain loop ${round(plainRuns[run]!.productsPerSecond)} products/s, ` +
          `campaign ${round(measured.productsPerSecond)} products/s`,
      );
    }
    const plain = plainRuns[medianRun(plainRuns)]!;
    const {
      measure: campaign,
      events,
      workflows,
      report,
    } = campaignRuns[medianRun(campaignRuns.map((r) => r.measure))]!;
    const input = baseInput;

    // 3. The same orders as bare `harvest` workflows (no campaign, no limiter, no ledger): what the campaign adds.
    const bareDir = path.join(scratch, 'harvests');
    const batches: string[][] = [];
    for (let i = 0; i < identifiers.length; i += settings.orderSize) {
      batches.push(identifiers.slice(i, i + settings.orderSize));
    }
    const handles: string[] = [];
    const bare = await measure(emulator.adminUrl, identifiers.length, async () => {
      let next = 0;
      const lane = async () => {
        while (next < batches.length) {
          const n = next++;
          const workflowId = `bench-harvest-${n}`;
          handles.push(workflowId);
          await client.workflow.execute('harvest', {
            taskQueue,
            workflowId,
            args: [orderRequest(input, n, batches[n]!, pathToFileURL(bareDir).toString())],
          });
        }
      };
      await Promise.all(Array.from({ length: settings.ordersInFlight }, lane));
    });
    let bareEvents = 0;
    for (const workflowId of handles)
      bareEvents += (await client.workflow.getHandle(workflowId).describe()).historyLength;

    const result = {
      products: identifiers.length,
      productSize: settings.productSize,
      orderSize: settings.orderSize,
      ordersInFlight: settings.ordersInFlight,
      campaign: {
        seconds: round(campaign.seconds),
        productsPerSecond: round(campaign.productsPerSecond),
        hookRequestsPerProduct: round(campaign.hookRequestsPerProduct, 3),
        historyEventsPerProduct: round(events / identifiers.length, 2),
        workflows,
        runs: report.runs,
        orders: report.orders,
      },
      bareHarvests: {
        seconds: round(bare.seconds),
        productsPerSecond: round(bare.productsPerSecond),
        hookRequestsPerProduct: round(bare.hookRequestsPerProduct, 3),
        historyEventsPerProduct: round(bareEvents / identifiers.length, 2),
      },
      plainLoop: {
        seconds: round(plain.seconds),
        productsPerSecond: round(plain.productsPerSecond),
        hookRequestsPerProduct: round(plain.hookRequestsPerProduct, 3),
      },
      ratios: {
        rateVsPlainLoop: round(campaign.productsPerSecond / plain.productsPerSecond, 3),
        rateVsBareHarvests: round(campaign.productsPerSecond / bare.productsPerSecond, 3),
        hookRequestsVsPlainLoop: round(campaign.hookRequestsPerProduct / plain.hookRequestsPerProduct, 3),
      },
      aims: {
        atLeast25PerSecond: campaign.productsPerSecond >= 25,
        atLeastHalfOfPlainLoop: campaign.productsPerSecond >= plain.productsPerSecond / 2,
        atMost1_5HookRequestsPerProduct: campaign.hookRequestsPerProduct <= 1.5,
      },
    };
    (jsonMode ? process.stderr : process.stdout).write(
      [
        `campaign:   ${result.products} products in ${result.campaign.seconds} s = ${result.campaign.productsPerSecond} products/s, ` +
          `${result.campaign.hookRequestsPerProduct} Hook requests/product, ${result.campaign.historyEventsPerProduct} history events/product ` +
          `(${workflows} workflow runs, ${report.orders} orders)`,
        `harvests:   ${result.products} products as ${batches.length} bare harvest workflows in ${result.bareHarvests.seconds} s = ` +
          `${result.bareHarvests.productsPerSecond} products/s, ${result.bareHarvests.hookRequestsPerProduct} Hook requests/product, ` +
          `${result.bareHarvests.historyEventsPerProduct} history events/product`,
        `plain loop: ${result.products} products in ${result.plainLoop.seconds} s = ${result.plainLoop.productsPerSecond} products/s, ` +
          `${result.plainLoop.hookRequestsPerProduct} Hook requests/product`,
        `ratios:     campaign/plain loop rate ${result.ratios.rateVsPlainLoop}, campaign/bare harvests rate ${result.ratios.rateVsBareHarvests}, ` +
          `campaign/plain loop Hook requests ${result.ratios.hookRequestsVsPlainLoop}`,
        `campaign Hook requests by route: ${JSON.stringify(topRoutes(campaign.requestsByRoute))}`,
        JSON.stringify(result),
        '',
      ].join('\n'),
    );
    if (jsonMode) emitRows(benchRows(result, settings.runs));
  } finally {
    for (const step of cleanup) await step().catch(() => undefined);
  }
}

/** The index of the run with the median rate (its counts are reported with it, so they belong together). */
function medianRun(runs: Measure[]): number {
  const rate = median(runs.map((r) => r.productsPerSecond));
  let best = 0;
  runs.forEach((r, i) => {
    if (Math.abs(r.productsPerSecond - rate) < Math.abs(runs[best]!.productsPerSecond - rate)) best = i;
  });
  return best;
}

interface Result {
  products: number;
  productSize: number;
  campaign: {
    productsPerSecond: number;
    hookRequestsPerProduct: number;
    historyEventsPerProduct: number;
    workflows: number;
  };
  bareHarvests: { productsPerSecond: number; historyEventsPerProduct: number };
  plainLoop: { productsPerSecond: number; hookRequestsPerProduct: number };
  ratios: { rateVsPlainLoop: number; rateVsBareHarvests: number };
}

/** The three rows of benchmark 3 for the runner's table. */
function benchRows(result: Result, runs: number): BenchRow[] {
  const { campaign, plainLoop, bareHarvests } = result;
  const rateMet = campaign.productsPerSecond >= 25 && result.ratios.rateVsPlainLoop >= 0.5;
  const setup =
    `${result.products} products of ${Math.round(result.productSize / 1024)} KiB, instant processing, orders of ` +
    `${settings.orderSize}, ${settings.ordersInFlight} in flight, ${settings.downloads} downloads per order, one worker in this process, ` +
    `emulator in a child process; the run with the median rate of ${runs} interleaved runs (bare harvests: one run)`;
  const rateMiss: string[] = [];
  if (campaign.productsPerSecond < 25) rateMiss.push(`${campaign.productsPerSecond} products/s is under 25`);
  if (result.ratios.rateVsPlainLoop < 0.5) {
    rateMiss.push(
      `${result.ratios.rateVsPlainLoop} × the loop: every product is a Temporal activity (schedule, heartbeat, ` +
        `complete) with verification, fsync and a ledger entry, which the loop skips; bare harvest workflows without ` +
        `the campaign reach ${bareHarvests.productsPerSecond} products/s, so the campaign layer keeps ` +
        `${result.ratios.rateVsBareHarvests} × of the harvests' own rate`,
    );
  }
  return [
    {
      benchmark: '3. Campaign throughput',
      figure: `${campaign.productsPerSecond} products/s`,
      baseline: `plain concurrent HTTP loop ${plainLoop.productsPerSecond} products/s`,
      ratio: result.ratios.rateVsPlainLoop,
      aim: '≥ 25 products/s and ≥ 0.5 × loop',
      met: rateMet,
      note: setup + (rateMet ? '' : `; miss: ${rateMiss.join('; ')}`),
    },
    {
      benchmark: '3b. Campaign Hook requests',
      figure: `${campaign.hookRequestsPerProduct} requests/product`,
      baseline: `plain loop ${plainLoop.hookRequestsPerProduct} requests/product`,
      ratio: round(campaign.hookRequestsPerProduct / plainLoop.hookRequestsPerProduct, 2),
      aim: '≤ 1.5 requests/product',
      met: campaign.hookRequestsPerProduct <= 1.5,
      note: 'every request the emulator served (OData, STAC, downloads, logins) during the campaign, per product',
    },
    {
      benchmark: '3c. Campaign history events',
      figure: `${campaign.historyEventsPerProduct} events/product`,
      baseline: `bare harvest workflows ${bareHarvests.historyEventsPerProduct} events/product`,
      ratio: round(campaign.historyEventsPerProduct / bareHarvests.historyEventsPerProduct, 2),
      aim: 'none (reported)',
      met: null,
      note: `history events of every workflow run the campaign caused (${campaign.workflows} runs: campaign, child harvests, account limiter), per product`,
    },
  ];
}

/** The harvest request the campaign would send for one order, into another sink. */
function orderRequest(
  input: CampaignRequestInput,
  n: number,
  identifiers: string[],
  sink: string,
): HarvestRequestInput {
  const parsed = parseCampaignRequest({ ...input, output: { storage: 'TEMPORARY', sink } });
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return campaignOrder(parsed.request, n, identifiers);
}

function topRoutes(routes: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(routes)
      .sort(([, a], [, b]) => b - a)
      .slice(0, 8),
  );
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

if (process.argv.includes('--serve')) {
  void serve();
} else {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
