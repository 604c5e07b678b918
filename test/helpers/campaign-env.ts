/**
 * End-to-end environment for campaigns and schedules: the emulator, a real worker (with a STAC
 * client, which campaigns need for catalogue queries and ItemCollections), a client, a temp sink,
 * plus what the tests observe at the emulator: its orders (with their identifiers) and the items
 * it has queued or in progress.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker, type WorkerOptions } from '@temporalio/worker';
import { request as httpRequest } from 'undici';
import { loadWorkerConfig } from '../../src/config/worker-config';
import { type EmulatorHandle, type EmulatorOptionsInput, startEmulator } from '../../src/emulator';
import type { StacSearchParams } from '../../src/emulator/stac';
import { despTokenSource } from '../../src/hook/desp-login';
import { createHttpAgent } from '../../src/hook/http';
import { StacClient } from '../../src/hook/stac';
import type { TokenSource } from '../../src/hook/tokens';
import type { CampaignRequestInput } from '../../src/shared/campaign-request';
import { createHarvestWorker, loadWorkflowBundle } from '../../src/worker/create-worker';
import { buildDependencies } from '../../src/worker/dependencies';
import { testStack } from './stack';

export const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';

export interface CampaignEnv {
  emulator: EmulatorHandle;
  client: Client;
  taskQueue: string;
  sinkDir: string;
  sinkUrl: string;
  worker: Worker;
  /** A fresh folder (and its file:/// URL) inside the sink dir, one per test. */
  freshSink(name: string): { dir: string; url: string };
  /** Every order the emulator holds for the worker's account: id, name, status, identifiers. */
  hookOrders(): Promise<HookOrderView[]>;
  close(): Promise<void>;
}

export interface HookOrderView {
  Id: string;
  Name: string;
  Status: string;
  IdentifierList: string[];
}

let bundle: WorkerOptions['workflowBundle'] | undefined;

/** Fast, unthrottled settings for tests: activities are not rate limited, downloads finish in ms. */
export const FAST_WORKER_ENV = { DEDL_MAX_ACTIVITIES_PER_SECOND: '1000', DEDL_MAX_CONCURRENT_ACTIVITIES: '50' };

export async function startCampaignEnv(
  emulatorOptions: EmulatorOptionsInput = {},
  extraEnv: Record<string, string> = {},
): Promise<CampaignEnv> {
  const { address, namespace } = testStack().temporal;
  bundle ??= await loadWorkflowBundle();
  const emulator = await startEmulator(emulatorOptions);
  const env = {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: namespace,
    HOOK_BASE_URL: emulator.url,
    DESP_USERNAME: 'demo',
    DESP_PASSWORD: 'demo',
    DEDL_SHUTDOWN_GRACE_TIME: '1s',
    ...FAST_WORKER_ENV,
    ...extraEnv,
  };
  const config = loadWorkerConfig(env);
  const deps = buildDependencies(config, env);
  const agent = createHttpAgent();
  const tokens = despTokenSource(
    agent,
    { username: env.DESP_USERNAME, password: env.DESP_PASSWORD },
    { endpoints: config.endpoints },
  );
  const stac = new StacClient({ stacUrl: config.endpoints.stac, tokens, dispatcher: agent });
  const nativeConnection = await NativeConnection.connect({ address });
  const taskQueue = `campaign-${randomUUID()}`;
  const worker = await createHarvestWorker({
    config,
    connection: nativeConnection,
    deps: { stac, ...deps },
    workflowBundle: bundle,
    taskQueue,
  });
  const running = worker.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace });
  const sinkDir = await mkdtemp(path.join(tmpdir(), 'dedl-campaign-'));

  return {
    emulator,
    client,
    taskQueue,
    sinkDir,
    sinkUrl: pathToFileURL(sinkDir).toString(),
    worker,
    freshSink(name) {
      const dir = path.join(sinkDir, name);
      return { dir, url: pathToFileURL(dir).toString() };
    },
    hookOrders: () => listOrders(emulator.odataUrl, tokens),
    async close() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await Promise.all([nativeConnection.close(), connection.close(), deps.close(), agent.close(), emulator.close()]);
      await rm(sinkDir, { recursive: true, force: true });
    },
  };
}

async function listOrders(odataUrl: string, tokens: TokenSource): Promise<HookOrderView[]> {
  const res = await httpRequest(`${odataUrl}BatchOrder`, {
    headers: { authorization: `Bearer ${await tokens.token()}`, accept: 'application/json' },
  });
  const body = (await res.body.json()) as { value: HookOrderView[] };
  if (res.statusCode !== 200) throw new Error(`BatchOrder listing failed: ${res.statusCode}`);
  return body.value;
}

/** Every catalogue item of a search, through the emulator's own paging. */
export function catalogueSearch(emulator: EmulatorHandle, params: Omit<StacSearchParams, 'limit' | 'token'>) {
  const items = [];
  let token: string | undefined;
  do {
    const page = emulator.catalogue.search({ ...params, limit: 100, ...(token ? { token } : {}) });
    items.push(...page.items);
    token = page.nextToken;
  } while (token);
  return items;
}

export function catalogueIds(emulator: EmulatorHandle, count: number, collection = COLLECTION): string[] {
  return catalogueSearch(emulator, { collections: [collection] })
    .slice(0, count)
    .map((item) => item.id);
}

/** How many times each identifier was ordered at the Hook. */
export function orderCounts(orders: readonly HookOrderView[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const order of orders) for (const id of order.IdentifierList) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/**
 * Watches the emulator's items queued or in progress (over all orders, so one account per
 * emulator) as often as it can answer, and keeps the largest count seen.
 */
export function watchItemsInFlight(emulator: EmulatorHandle): { stop(): Promise<{ max: number; samples: number }> } {
  let stopped = false;
  let max = 0;
  let samples = 0;
  const loop = (async () => {
    while (!stopped) {
      const res = await httpRequest(`${emulator.adminUrl}/stats`);
      const stats = (await res.body.json()) as { itemsByState: Record<string, number> };
      max = Math.max(max, (stats.itemsByState.queued ?? 0) + (stats.itemsByState.in_progress ?? 0));
      samples++;
      // Items stay queued or in progress for tens of ms at least: sampling every few ms sees them all.
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { max, samples };
    },
  };
}

/** A campaign request for tests: fast polling, small orders, a unique account label. */
export function campaignRequest(
  overrides: Partial<CampaignRequestInput> & Pick<CampaignRequestInput, 'output'>,
): CampaignRequestInput {
  return {
    name: 'e2e campaign',
    collection: COLLECTION,
    polling: { initialInterval: '50ms', maxInterval: '200ms', backoff: 1.5, deadline: '2m' },
    maxParallelDownloads: 8,
    account: { name: `acct-${randomUUID().slice(0, 8)}`, maxItemsInFlight: 100, monthlyOrders: 1000 },
    ...overrides,
  };
}

/** Polls `read` until `done` holds (bounded): watching a workflow from outside, as a client does. */
export async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
