/**
 * The `harvestCampaign` workflow with stubbed activities (test/helpers/stub-activities.ts): pause
 * and resume, retry-failed, continue-as-new with its state intact, and a campaign started by the
 * earlier code (its one-letter carried state, as recorded) carrying on in this code. The
 * workflows (campaign and child harvests) run for real on the test stack's dev server.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SubmitOrderInput } from '../../src/activities/contract';
import { retryFailedProducts } from '../../src/client/campaign-api';
import {
  campaignProgressQuery,
  pauseCampaignUpdate,
  resumeCampaignUpdate,
  retryFailedUpdate,
} from '../../src/shared/campaign-messages';
import type { CampaignProgress, CampaignReport } from '../../src/shared/campaign-report';
import type { CampaignRequestInput } from '../../src/shared/campaign-request';
import { CAMPAIGN_FINISHING } from '../../src/shared/failures';
import type { harvestCampaign } from '../../src/workflows/campaign';
import { eventually } from '../helpers/hook';
import { stubActivities } from '../helpers/stub-activities';
import { stubbedWorker, useWorkflowTestEnv } from '../helpers/workflow-env';

const SINK = 'file:///stub-sink';
const SIZE = 100;

function campaign(identifiers: string[], fields: Partial<CampaignRequestInput> = {}): CampaignRequestInput {
  return {
    name: 'workflow test',
    collection: 'EO.ESA.DAT.SENTINEL-2.MSI.L1C',
    identifiers,
    output: { storage: 'TEMPORARY', sink: SINK },
    polling: { initialInterval: '100ms', maxInterval: '100ms', backoff: 1, deadline: '1m' },
    // One limiter per test (the stub grants at once; the name only keeps tests apart).
    account: { name: `acct-${randomUUID().slice(0, 8)}`, maxItemsInFlight: 100, monthlyOrders: 1000 },
    orderSize: 1,
    maxOrdersInFlight: 1,
    ...fields,
  };
}

/** The products each submitted order named, in submission order. */
const submitted = (inputs: SubmitOrderInput[]) => inputs.map((input) => input.request.identifiers.join(','));

const testEnv = useWorkflowTestEnv();

describe('harvestCampaign (stubbed activities)', () => {
  it('paused, orders nothing more until resumed, then finishes', async () => {
    const env = testEnv();
    // P1's order is held at the Hook until the test lets it go, so the pause lands mid-order.
    const stubs = stubActivities({ held: new Set(['P1']), productSize: SIZE });
    const { worker, taskQueue } = await stubbedWorker(env, stubs.activities);
    const handle = await env.client.workflow.start<typeof harvestCampaign>('harvestCampaign', {
      taskQueue,
      workflowId: `wf-campaign-pause-${randomUUID()}`,
      args: [campaign(['P1', 'P2', 'P3'])],
    });
    const report = await worker.runUntil(async () => {
      await eventually(
        async () => stubs.inputs('submitOrder').length,
        (n) => n === 1,
      );
      const paused = await handle.executeUpdate(pauseCampaignUpdate);
      expect(paused).toMatchObject({ phase: 'paused', paused: true });
      stubs.release();
      // The order under way finishes; no other starts.
      const settled = await eventually(
        () => handle.query(campaignProgressQuery),
        (p: CampaignProgress) => p.counts.delivered === 1 && p.orders.inFlight === 0,
      );
      expect(settled).toMatchObject({ phase: 'paused', orders: { created: 1, inFlight: 0, waitingForPermit: 0 } });
      expect(settled.counts).toMatchObject({ pending: 2, delivered: 1 });
      expect(submitted(stubs.inputs('submitOrder'))).toEqual(['P1']);

      const resumed = await handle.executeUpdate(resumeCampaignUpdate);
      expect(resumed).toMatchObject({ paused: false });
      return handle.result();
    });

    expect(report).toMatchObject({ outcome: 'delivered', orders: 3, bytes: 3 * SIZE, runs: 1 });
    expect(report.counts).toMatchObject({ items: 3, delivered: 3 });
    expect(submitted(stubs.inputs('submitOrder'))).toEqual(['P1', 'P2', 'P3']);
  });

  it('retry-failed orders the failed products again, under new order ids', async () => {
    const env = testEnv();
    // P1 fails the first time the Hook gets it; P2's order is held so the campaign is still running.
    const stubs = stubActivities({
      hook: (id, orderedBefore) => (id === 'P1' && orderedBefore === 0 ? 'failed' : 'completed'),
      held: new Set(['P2']),
      productSize: SIZE,
    });
    const { worker, taskQueue } = await stubbedWorker(env, stubs.activities);
    const handle = await env.client.workflow.start<typeof harvestCampaign>('harvestCampaign', {
      taskQueue,
      workflowId: `wf-campaign-retry-${randomUUID()}`,
      args: [campaign(['P1', 'P2'], { maxOrdersInFlight: 2 })],
    });
    const report = await worker.runUntil(async () => {
      await eventually(
        () => handle.query(campaignProgressQuery),
        (p: CampaignProgress) => p.counts.failed === 1,
      );
      expect(await handle.executeUpdate(retryFailedUpdate, { args: [{}] })).toEqual({ requeued: ['P1'] });
      stubs.release();
      return handle.result();
    });

    expect(report).toMatchObject({ outcome: 'delivered', orders: 3 });
    expect(report.counts).toMatchObject({ items: 2, delivered: 2, failed: 0 });
    const orderOf = new Map(report.items!.map((item) => [item.identifier, item.order]));
    expect(orderOf.get('P1')).toMatch(/\/order-0003-/);
    expect(submitted(stubs.inputs('submitOrder')).sort()).toEqual(['P1', 'P1', 'P2']);
  });

  it('retry-failed while the campaign is finishing waits for its end, then runs it again for the failed', async () => {
    const env = testEnv();
    // P1 fails the first time; the closing manifest write is held, so the campaign sits in `finishing`.
    const stubs = stubActivities({
      hook: (id, orderedBefore) => (id === 'P1' && orderedBefore === 0 ? 'failed' : 'completed'),
      holdManifest: true,
      productSize: SIZE,
    });
    const { worker, taskQueue } = await stubbedWorker(env, stubs.activities);
    const workflowId = `wf-campaign-retry-finishing-${randomUUID()}`;
    const handle = await env.client.workflow.start<typeof harvestCampaign>('harvestCampaign', {
      taskQueue,
      workflowId,
      args: [campaign(['P1', 'P2'], { maxOrdersInFlight: 2 })],
    });
    const { retried, report } = await worker.runUntil(async () => {
      await eventually(
        () => handle.query(campaignProgressQuery),
        (p: CampaignProgress) => p.phase === 'finishing',
      );
      // While it finishes, the campaign refuses the update with a type the client recognises.
      await expect(handle.executeUpdate(retryFailedUpdate, { args: [{}] })).rejects.toMatchObject({
        cause: { type: CAMPAIGN_FINISHING },
      });
      // Refused now or sent after the end: either way the client waits for the end and runs it again.
      const retrying = retryFailedProducts(env.client, workflowId, { taskQueue });
      stubs.release();
      const retried = await retrying;
      return { retried, report: await retried.handle.result() };
    });

    expect(retried).toMatchObject({ how: 'restarted', requeued: ['P1'] });
    expect(report.counts).toMatchObject({ items: 1, delivered: 1, failed: 0 });
    expect(submitted(stubs.inputs('submitOrder')).sort()).toEqual(['P1', 'P1', 'P2']);
  });

  it('continues as new with its state intact: outcomes, counters and order ids', async () => {
    const env = testEnv();
    const identifiers = ['P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'S1'];
    const stubs = stubActivities({
      hook: (id) => (id === 'P4' ? 'failed' : 'completed'),
      skipped: ['S1'],
      productSize: SIZE,
    });
    const { worker, taskQueue } = await stubbedWorker(env, stubs.activities);
    const workflowId = `wf-campaign-continue-${randomUUID()}`;
    const report = await worker.runUntil(
      env.client.workflow.execute<typeof harvestCampaign>('harvestCampaign', {
        taskQueue,
        workflowId,
        // About 15 events an order: the campaign continues as new every few orders.
        args: [campaign(identifiers, { continueAsNewAfterEvents: 50 })],
      }),
    );

    expect(report.runs).toBeGreaterThanOrEqual(2);
    expect(report).toMatchObject({ outcome: 'partial', orders: 6, bytes: 5 * SIZE });
    expect(report.counts).toMatchObject({ items: 7, delivered: 5, failed: 1, skipped: 1 });
    const items = new Map(report.items!.map((item) => [item.identifier, item]));
    expect(items.get('P4')).toMatchObject({ state: 'failed', error: 'the stub Hook failed it' });
    expect(items.get('S1')).toEqual({ identifier: 'S1', state: 'skipped' });
    // Each product ordered once, and every order id of the chain distinct and in sequence.
    expect(submitted(stubs.inputs('submitOrder'))).toEqual(['P1', 'P2', 'P3', 'P4', 'P5', 'P6']);
    const orders = ['P1', 'P2', 'P3', 'P4', 'P5', 'P6'].map((id) => items.get(id)!.order!);
    const chain = orders[0]!.slice(-6);
    expect(orders).toEqual([1, 2, 3, 4, 5, 6].map((n) => `${workflowId}/order-000${n}-${chain}`));
    expect(stubs.inputs('resolveCampaign')).toHaveLength(1);
  });

  it('carries on a campaign whose earlier run, in the earlier code, continued as new', async () => {
    const env = testEnv();
    // The arguments the earlier code continued as new with (recorded: its outcomes have one-letter fields).
    const history = JSON.parse(
      await readFile(
        path.join(__dirname, '../fixtures/histories/harvest-campaign-continued-one-letter-first-run.json'),
        'utf8',
      ),
    ) as {
      events: { workflowExecutionContinuedAsNewEventAttributes?: { input: { payloads: { data: string }[] } } }[];
    };
    const continued = history.events.at(-1)!.workflowExecutionContinuedAsNewEventAttributes!;
    const [input, carried] = continued.input.payloads.map((p) => JSON.parse(Buffer.from(p.data, 'base64').toString()));
    const earlier = carried as { pending: string[]; outcomes: Record<string, { s: string; b: number }> };
    expect(Object.values(earlier.outcomes).every((o) => o.s === 'delivered' && o.b === 4096)).toBe(true);

    const stubs = stubActivities({ productSize: SIZE });
    const { worker, taskQueue } = await stubbedWorker(env, stubs.activities);
    const workflowId = `wf-campaign-compat-${randomUUID()}`;
    const report: CampaignReport = await worker.runUntil(
      env.client.workflow.execute('harvestCampaign', { taskQueue, workflowId, args: [input, carried] }),
    );

    const carriedIds = Object.keys(earlier.outcomes);
    expect(report).toMatchObject({ outcome: 'delivered', runs: 2, orders: 6, bytes: 3 * 4096 + 3 * SIZE });
    expect(report.counts).toMatchObject({ items: 6, delivered: 6 });
    const items = new Map(report.items!.map((item) => [item.identifier, item]));
    carriedIds.forEach((id, n) => {
      expect(items.get(id)).toMatchObject({
        state: 'delivered',
        bytes: 4096,
        order: expect.stringMatching(`/order-000${n + 1}-`),
      });
    });
    // Only what the earlier run had not ordered is ordered, continuing its sequence.
    expect(submitted(stubs.inputs('submitOrder'))).toEqual(earlier.pending);
    expect(earlier.pending.map((id) => items.get(id)!.order)).toEqual(
      [4, 5, 6].map((n) => expect.stringMatching(`^${workflowId}/order-000${n}-`)),
    );
    expect(stubs.inputs('resolveCampaign')).toEqual([]);
  });
});
