/**
 * The Hook as DEDL was actually observed, where it differs from what CDSE documents
 * (docs/hook-api.md §4): no `BatchOrder` listing and no `BatchOrder(id)/OData.CSC.Cancel`
 * (`dedlObservedRoutesOnly`), lists paged behind `@odata.nextLink`, and queued items removed from
 * a cancelled order. The harvest must still order exactly once, see every item, and end.
 */
import { randomUUID } from 'node:crypto';
import type { EmulatorOptionsInput } from '../../src/emulator';
import { HookClient } from '../../src/hook/client';
import { despTokenSource } from '../../src/hook/desp-login';
import { endpointsAt } from '../../src/hook/endpoints';
import { createHttpAgent } from '../../src/hook/http';
import type { HarvestReport } from '../../src/shared/harvest-report';
import { emulatorStats } from '../chaos/fault-storm-audit';
import { type HarvestEnv, catalogueIdentifiers, request, withHarvestEnv } from '../helpers/harvest-env';
import { eventually } from '../helpers/hook';

const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';

const withEnv = (options: EmulatorOptionsInput, body: (env: HarvestEnv) => Promise<void>) =>
  withHarvestEnv({ productSize: 40_000, ...options }, body);

const stats = (env: HarvestEnv) => emulatorStats(env.emulator);

describe('the Hook as observed on DEDL', () => {
  it('orders exactly once through ProductionOrders when the answer is lost, and reads every page of items', () =>
    withEnv(
      {
        timing: { queuedMs: 20, processingMs: 50 },
        dedlObservedRoutesOnly: true,
        defaultPageSize: 2,
        faults: { lostOrderResponseRate: 1 },
      },
      async (env) => {
        const identifiers = catalogueIdentifiers(env.emulator, COLLECTION, 5);
        const handle = await env.client.workflow.start('harvest', {
          taskQueue: env.taskQueue,
          workflowId: `dedl-routes-${randomUUID()}`,
          args: [request({ identifiers, output: { storage: 'TEMPORARY', sink: env.sinkUrl } })],
        });
        const report = (await handle.result()) as HarvestReport;
        expect(report.items.map((i) => i.state)).toEqual(identifiers.map(() => 'delivered'));
        const { ordersByName, ordersCreated, requestsByRoute } = await stats(env);
        // The order's answer was lost; the retry found it by ProductionOrders and adopted it.
        expect(ordersCreated).toBe(1);
        expect(ordersByName[report.orderName!]).toBe(1);
        expect(requestsByRoute['GET /odata/v1/BatchOrder']).toBeGreaterThanOrEqual(1); // refused: 404
        expect(requestsByRoute['GET /odata/v1/ProductionOrders']).toBeGreaterThanOrEqual(1);
        // Five items, two per page: every listing took three pages.
        expect(requestsByRoute['GET /odata/v1/BatchOrder({id})/Products']! % 3).toBe(0);
      },
    ));

  it('ends when the order is cancelled at the Hook and its queued items disappear from it', () =>
    withEnv(
      { timing: { queuedMs: 600_000, processingMs: 50 }, dedlObservedRoutesOnly: true, cancelRemovesQueuedItems: true },
      async (env) => {
        const identifiers = catalogueIdentifiers(env.emulator, COLLECTION, 3);
        const handle = await env.client.workflow.start('harvest', {
          taskQueue: env.taskQueue,
          workflowId: `dedl-cancelled-${randomUUID()}`,
          args: [request({ identifiers, output: { storage: 'TEMPORARY', sink: env.sinkUrl } })],
        });
        // Someone cancels the order at the Hook (its web page, another tool) while its items are queued.
        const orderId = (
          await eventually(
            () => handle.query<{ orderId?: string }>('progress'),
            (p) => p.orderId !== undefined,
          )
        ).orderId!;
        const agent = createHttpAgent();
        try {
          const hook = new HookClient({
            endpoints: endpointsAt(env.emulator.url),
            tokens: despTokenSource(
              agent,
              { username: 'demo', password: 'demo' },
              { endpoints: endpointsAt(env.emulator.url) },
            ),
            dispatcher: agent,
          });
          await hook.cancelOrder(orderId);
          expect(await hook.getOrderItems(orderId)).toEqual([]);
        } finally {
          await agent.close();
        }

        const report = (await handle.result()) as HarvestReport;
        expect(report.items.map((i) => i.state)).toEqual(['failed', 'failed', 'failed']);
        expect(report.items[0]!.error).toBe(
          'the Hook order ended (cancelled: request was cancelled by the user) without listing this product',
        );
        // It ended by reading the order, not by polling its empty item list over and over.
        const { requestsByRoute } = await stats(env);
        expect(requestsByRoute['GET /odata/v1/BatchOrder({id})/Products']).toBeLessThan(20);
      },
    ));

  it('explains a failed item by its order, since DEDL items carry no StatusMessage', () =>
    withEnv({ timing: { queuedMs: 20, processingMs: 50 }, itemStatusMessages: false }, async (env) => {
      const missing = 'S2B_MSIL1C_20990101T000000_N0509_R001_T00AAA_20990101T000000.SAFE';
      const handle = await env.client.workflow.start('harvest', {
        taskQueue: env.taskQueue,
        workflowId: `dedl-unexplained-${randomUUID()}`,
        args: [request({ identifiers: [missing], output: { storage: 'TEMPORARY', sink: env.sinkUrl } })],
      });
      const report = (await handle.result()) as HarvestReport;
      expect(report.items[0]).toMatchObject({ state: 'failed' });
      expect(report.items[0]!.error).toMatch(
        /^the Hook reports the item failed; the order says: Item '.*' not found in collection/,
      );
    }));
});
