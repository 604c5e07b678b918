/**
 * Controlling a running campaign through the client API: pause holds new orders and resume
 * continues (with a concurrency change in between), retry-failed re-orders exactly the failed
 * products, cancel cancels the orders at the Hook and leaves a manifest of what happened.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { request as httpRequest } from 'undici';
import {
  accountStatus,
  campaignProgress,
  cancelCampaign,
  pauseCampaign,
  resumeCampaign,
  retryFailedProducts,
  setAccountLimits,
  setCampaignConcurrency,
  startCampaign,
} from '../../src/client/campaign-api';
import type { FaultsInput } from '../../src/emulator';
import type { CampaignProgress, CampaignReport } from '../../src/shared/campaign-report';
import {
  type CampaignEnv,
  type HookOrderView,
  campaignRequest,
  catalogueIds,
  orderCounts,
  startCampaignEnv,
  until,
} from '../helpers/campaign-env';

describe('campaign control', () => {
  let env: CampaignEnv;
  let ids: string[];

  beforeAll(async () => {
    env = await startCampaignEnv({ timing: { queuedMs: 5, processingMs: 20 }, productSize: 4096 });
    ids = catalogueIds(env.emulator, 60);
  });
  afterAll(() => env?.close());
  afterEach(() => setFaults({ itemFailureRate: 0, itemStuckRate: 0 }));

  const setFaults = async (faults: FaultsInput) => {
    const res = await httpRequest(`${env.emulator.adminUrl}/faults`, { method: 'PATCH', body: JSON.stringify(faults) });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  };
  const ordersOf = async (name: string): Promise<HookOrderView[]> =>
    (await env.hookOrders()).filter((o) => o.Name.startsWith(`${name} o`));
  const progressOf = (workflowId: string) => () => campaignProgress(env.client, workflowId);
  const settled = (p: CampaignProgress) => p.orders.inFlight === 0 && p.orders.waitingForPermit === 0;

  it('pause holds new orders, a concurrency change applies, resume continues', async () => {
    const name = 'pause-resume';
    const input = campaignRequest({
      name,
      identifiers: ids.slice(0, 15),
      orderSize: 5,
      maxOrdersInFlight: 1,
      paused: true,
      output: { storage: 'TEMPORARY', sink: env.freshSink(name).url },
    });
    const handle = await startCampaign(env.client, input, {
      taskQueue: env.taskQueue,
      workflowId: `e2e-${name}-${Date.now()}`,
    });
    const id = handle.workflowId;

    // Started paused: resolved, nothing ordered.
    const initial = await until(progressOf(id), (p) => p.phase === 'paused');
    expect(initial.counts).toMatchObject({ items: 15, pending: 15 });
    expect(initial.orders.created).toBe(0);
    expect(await ordersOf(name)).toHaveLength(0);

    await resumeCampaign(env.client, id);
    await until(progressOf(id), (p) => p.orders.created >= 1);
    const paused = await pauseCampaign(env.client, id);
    expect(paused.paused).toBe(true);

    // The order under way finishes; none follows it while paused, whatever the concurrency.
    const held = await until(progressOf(id), settled);
    const widened = await setCampaignConcurrency(env.client, id, { maxOrdersInFlight: 3 });
    expect(widened.limits.maxOrdersInFlight).toBe(3);
    expect(widened.orders).toMatchObject({ created: held.orders.created, inFlight: 0, waitingForPermit: 0 });
    expect(widened.counts.pending).toBe(15 - 5 * held.orders.created);
    expect(widened.counts.pending).toBeGreaterThan(0);
    expect(widened.phase).toBe('paused');
    expect(await ordersOf(name)).toHaveLength(held.orders.created);

    await resumeCampaign(env.client, id);
    const report: CampaignReport = await handle.result();
    expect(report.counts).toMatchObject({ items: 15, delivered: 15 });
    expect(report.orders).toBe(3);
    const orders = await ordersOf(name);
    expect(orders).toHaveLength(3);
    expect([...orderCounts(orders).values()].every((n) => n === 1)).toBe(true);
  });

  it('retry-failed orders the failed products again, and only them', async () => {
    const name = 'retry-failed';
    // One order a month: the first order fails entirely and the second waits for the account's
    // permit, so the campaign is still running (not finishing) whenever the retry comes.
    const account = { name: `acct-${randomUUID().slice(0, 8)}`, maxItemsInFlight: 100, monthlyOrders: 1 };
    await setFaults({ itemFailureRate: 1 });
    const handle = await startCampaign(
      env.client,
      campaignRequest({
        name,
        identifiers: ids.slice(15, 25),
        orderSize: 5,
        maxOrdersInFlight: 1,
        account,
        output: { storage: 'TEMPORARY', sink: env.freshSink(name).url },
      }),
      { taskQueue: env.taskQueue, workflowId: `e2e-${name}-${Date.now()}` },
    );
    const id = handle.workflowId;

    const before = await until(
      progressOf(id),
      (p) => p.counts.failed === 5 && p.orders.inFlight === 0 && p.orders.waitingForPermit === 1,
    );
    await setFaults({ itemFailureRate: 0 });

    const retried = await retryFailedProducts(env.client, id);
    expect(retried.how).toBe('requeued');
    expect(retried.requeued).toHaveLength(before.counts.failed);
    await setAccountLimits(env.client, account.name, { monthlyOrders: 1000 });
    const report: CampaignReport = await handle.result();
    expect(report.counts).toMatchObject({ items: 10, delivered: 10, failed: 0 });

    const counts = orderCounts(await ordersOf(name));
    const again = new Set(retried.requeued);
    for (const identifier of ids.slice(15, 25)) expect(counts.get(identifier)).toBe(again.has(identifier) ? 2 : 1);
  });

  it('retry-failed on a finished campaign runs it again for the failed products only', async () => {
    const name = 'retry-finished';
    await setFaults({ itemFailureRate: 1 });
    const input = campaignRequest({
      name,
      identifiers: ids.slice(25, 31),
      orderSize: 3,
      output: { storage: 'TEMPORARY', sink: env.freshSink(name).url },
    });
    const workflowId = `e2e-${name}-${Date.now()}`;
    const handle = await startCampaign(env.client, input, { taskQueue: env.taskQueue, workflowId });
    const first: CampaignReport = await handle.result();
    expect(first.counts).toMatchObject({ items: 6, failed: 6 });
    expect(first.outcome).toBe('failed');

    await setFaults({ itemFailureRate: 0 });
    const retried = await retryFailedProducts(env.client, workflowId);
    expect(retried.how).toBe('restarted');
    expect(retried.requeued.sort()).toEqual(ids.slice(25, 31).sort());
    const second: CampaignReport = await retried.handle.result();
    expect(second.counts).toMatchObject({ items: 6, delivered: 6 });
    expect([...orderCounts(await ordersOf(name)).values()]).toEqual([2, 2, 2, 2, 2, 2]);
  });

  it('cancel cancels the orders at the Hook and writes what happened', async () => {
    const name = 'cancel';
    const sink = env.freshSink(name);
    await setFaults({ itemStuckRate: 1 });
    const input = campaignRequest({
      name,
      identifiers: ids.slice(31, 43),
      orderSize: 4,
      maxOrdersInFlight: 2,
      output: { storage: 'TEMPORARY', sink: sink.url },
    });
    const handle = await startCampaign(env.client, input, {
      taskQueue: env.taskQueue,
      workflowId: `e2e-${name}-${Date.now()}`,
    });
    const id = handle.workflowId;

    // Two orders under way at the Hook, their items stuck in progress.
    await until(progressOf(id), (p) => p.orders.inFlight === 2);
    await until(
      () => ordersOf(name),
      (orders) => orders.length === 2,
    );

    expect(await cancelCampaign(env.client, id)).toBe('CANCELLED');
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);

    const orders = await ordersOf(name);
    expect(orders).toHaveLength(2);
    expect(orders.map((o) => o.Status)).toEqual(['cancelled', 'cancelled']);
    const children = await until(
      async () => {
        const statuses: string[] = [];
        const query = `WorkflowType = 'harvest' AND HarvestCampaign = '${name}'`;
        for await (const run of env.client.workflow.list({ query })) statuses.push(run.status.name);
        return statuses;
      },
      (statuses) => statuses.length === 2 && statuses.every((s) => s !== 'RUNNING'),
    );
    expect(children).toEqual(['CANCELLED', 'CANCELLED']);
    const manifest = JSON.parse(await readFile(path.join(sink.dir, 'manifest.json'), 'utf8')) as CampaignReport;
    expect(manifest.outcome).toBe('cancelled');
    expect(manifest.counts).toMatchObject({ items: 12, cancelled: 12 });

    const account = await accountStatus(env.client, input.account!.name!);
    expect(account).toMatchObject({ inUse: 0, held: [], waiting: [] });
  });

  it('a terminated campaign: its orders are cancelled at the Hook, the account limiter frees its permits', async () => {
    const name = 'terminated';
    await setFaults({ itemStuckRate: 1 });
    const account = { name: `term-${Date.now()}`, maxItemsInFlight: 4, checkHoldersEvery: '1s' };
    const first = await startCampaign(
      env.client,
      campaignRequest({
        name,
        identifiers: ids.slice(43, 51),
        orderSize: 4,
        maxOrdersInFlight: 2,
        account,
        output: { storage: 'TEMPORARY', sink: env.freshSink(name).url },
      }),
      { taskQueue: env.taskQueue, workflowId: `e2e-${name}-${Date.now()}` },
    );
    // One order holds the whole account; the campaign's second order waits for a permit.
    await until(progressOf(first.workflowId), (p) => p.orders.inFlight === 1 && p.orders.waitingForPermit === 1);
    await until(
      () => ordersOf(name),
      (orders) => orders.length === 1,
    );
    await first.terminate('e2e');
    await setFaults({ itemStuckRate: 0 });

    // The child harvest was asked to cancel (parent close policy), and cancelled its Hook order.
    await until(
      () => ordersOf(name),
      (orders) => orders[0]!.Status === 'cancelled',
    );

    // Another campaign on the account gets the permits the terminated one never gave back.
    const second = await startCampaign(
      env.client,
      campaignRequest({
        name: 'after-terminate',
        identifiers: ids.slice(51, 55),
        orderSize: 4,
        account,
        output: { storage: 'TEMPORARY', sink: env.freshSink('after-terminate').url },
      }),
      { taskQueue: env.taskQueue, workflowId: `e2e-after-terminate-${Date.now()}` },
    );
    const report: CampaignReport = await second.result();
    expect(report.counts).toMatchObject({ items: 4, delivered: 4 });
    expect(await ordersOf(name)).toHaveLength(1);
    expect(await accountStatus(env.client, account.name)).toMatchObject({ inUse: 0, held: [], waiting: [] });
  });
});
