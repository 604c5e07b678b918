/**
 * End-to-end environment for campaigns and schedules: the emulator, a real worker (with a STAC
 * client, which campaigns need for catalogue queries and ItemCollections), a client, a temp sink,
 * plus what the tests observe at the emulator: its orders (with their identifiers) and the items
 * it has queued or in progress.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { request as httpRequest } from 'undici';
import type { EmulatorHandle, EmulatorOptionsInput } from '../../src/emulator';
import type { FaultsInput } from '../../src/emulator/faults';
import type { StacSearchParams } from '../../src/emulator/stac';
import { despTokenSource } from '../../src/hook/desp-login';
import { endpointsAt } from '../../src/hook/endpoints';
import { createHttpAgent } from '../../src/hook/http';
import type { TokenSource } from '../../src/hook/tokens';
import type { CampaignRequestInput } from '../../src/shared/campaign-request';
import { startHarvestEnv } from './harvest-env';

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

/** Fast, unthrottled settings for tests: activities are not rate limited, downloads finish in ms. */
export const FAST_WORKER_ENV = { DEDL_MAX_ACTIVITIES_PER_SECOND: '1000', DEDL_MAX_CONCURRENT_ACTIVITIES: '50' };

export async function startCampaignEnv(
  emulatorOptions: EmulatorOptionsInput = {},
  extraEnv: Record<string, string> = {},
): Promise<CampaignEnv> {
  const env = await startHarvestEnv(emulatorOptions, { ...FAST_WORKER_ENV, ...extraEnv });
  // The test's own view of the Hook, as the worker's account.
  const agent = createHttpAgent();
  const tokens = despTokenSource(
    agent,
    { username: extraEnv.DESP_USERNAME ?? 'demo', password: extraEnv.DESP_PASSWORD ?? 'demo' },
    { endpoints: endpointsAt(env.emulator.url) },
  );
  return {
    ...env,
    freshSink(name) {
      const dir = path.join(env.sinkDir, name);
      return { dir, url: pathToFileURL(dir).toString() };
    },
    hookOrders: () => listOrders(env.emulator.odataUrl, tokens),
    async close() {
      await agent.close();
      await env.close();
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

/** Changes some of the emulator's faults (the others stay as they are). */
export async function patchFaults(emulator: Pick<EmulatorHandle, 'adminUrl'>, faults: FaultsInput): Promise<void> {
  const res = await httpRequest(`${emulator.adminUrl}/faults`, { method: 'PATCH', body: JSON.stringify(faults) });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`PATCH faults: HTTP ${res.statusCode}`);
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

/** Polls until a condition holds (bounded): watching a workflow from outside, as a client does. */
export { eventually as until } from './hook';
