/**
 * Two campaigns at once on one Hook account whose limit is 2 items in flight (the hook-medium
 * role): the account limiter keeps the items queued or in progress at the emulator at 2 or fewer
 * the whole time, while both campaigns make progress. Items beyond the account's parallel quota
 * would wait `queued` at the Hook, so queued + in_progress is what the limit bounds.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { type AccountStatus, accountLimiterId, accountStatusQuery } from '../../src/shared/account-limiter';
import type { CampaignReport } from '../../src/shared/campaign-report';
import {
  type CampaignEnv,
  campaignRequest,
  catalogueIds,
  orderCounts,
  startCampaignEnv,
  until,
} from '../helpers/campaign-env';
import { emulatorStats } from '../helpers/hook';

describe('two campaigns on one account', () => {
  let env: CampaignEnv;

  beforeAll(async () => {
    env = await startCampaignEnv(
      {
        timing: { queuedMs: 5, processingMs: 25 },
        productSize: 4096,
        accounts: [{ username: 'medium', password: 'medium', roles: ['hook-workflows', 'hook-medium'] }],
        includeDefaultAccount: false,
      },
      { DESP_USERNAME: 'medium', DESP_PASSWORD: 'medium' },
    );
  });
  afterAll(() => env?.close());

  it('never have more items in flight than the account allows', async () => {
    const ids = catalogueIds(env.emulator, 20);
    const account = { name: `medium-${Date.now()}`, maxItemsInFlight: 2, monthlyOrders: 1000 };
    const start = (name: string, identifiers: string[], orderSize: number, maxOrdersInFlight: number) =>
      env.client.workflow.start('harvestCampaign', {
        taskQueue: env.taskQueue,
        workflowId: `e2e-quota-${name}-${Date.now()}`,
        args: [
          campaignRequest({
            name,
            identifiers,
            orderSize,
            maxOrdersInFlight,
            account,
            output: { storage: 'TEMPORARY', sink: env.freshSink(name).url },
          }),
        ],
      }) as Promise<WorkflowHandle>;

    const handles = await Promise.all([
      start('quota-a', ids.slice(0, 10), 1, 3),
      start('quota-b', ids.slice(10), 5, 2),
    ]);
    const reports = (await Promise.all(handles.map((h) => h.result()))) as CampaignReport[];

    for (const report of reports) expect(report.counts).toMatchObject({ items: 10, delivered: 10 });
    // The limit held, and was used: at the Hook, the most items queued or in progress at once
    // (recorded by the emulator as each item is created, not sampled) was exactly 2.
    expect((await emulatorStats(env.emulator)).peakItemsInFlight).toBe(2);

    // Orders were cut to the account's limit (campaign b asked for 5 per order).
    const orders = await env.hookOrders();
    expect(orders.every((o) => o.IdentifierList.length <= 2)).toBe(true);
    expect([...orderCounts(orders).values()].every((n) => n === 1)).toBe(true);
    expect(orderCounts(orders).size).toBe(20);

    // The two campaigns ran at the same time, sharing the account.
    const [a, b] = reports as [CampaignReport, CampaignReport];
    expect(Date.parse(a.startedAt)).toBeLessThan(Date.parse(b.finishedAt!));
    expect(Date.parse(b.startedAt)).toBeLessThan(Date.parse(a.finishedAt!));

    const status: AccountStatus = await env.client.workflow
      .getHandle(accountLimiterId(account.name))
      .query(accountStatusQuery);
    expect(status).toMatchObject({ inUse: 0, peakInUse: 2, held: [], waiting: [], ordersThisMonth: orders.length });
  });

  it('keep their permits and the month count while the limiter continues as new', async () => {
    const account = { name: `can-${Date.now()}`, maxItemsInFlight: 2, monthlyOrders: 1000 };
    const limiterId = accountLimiterId(account.name);
    // Started ahead of the campaign with a tiny history budget, so it continues as new several times.
    await env.client.workflow.start('hookAccountLimiter', {
      taskQueue: env.taskQueue,
      workflowId: limiterId,
      args: [{ account: account.name, limits: account, continueAsNewAfterEvents: 40 }],
    });
    const report: CampaignReport = await env.client.workflow.execute('harvestCampaign', {
      taskQueue: env.taskQueue,
      workflowId: `e2e-quota-can-${Date.now()}`,
      args: [
        campaignRequest({
          name: 'quota-can',
          identifiers: catalogueIds(env.emulator, 32).slice(20),
          orderSize: 1,
          maxOrdersInFlight: 2,
          account,
          output: { storage: 'TEMPORARY', sink: env.freshSink('quota-can').url },
        }),
      ],
    });
    expect(report.counts).toMatchObject({ items: 12, delivered: 12 });
    expect(report.account).toMatchObject({ ordersThisMonth: 12, ordersLeftThisMonth: 988 });
    const status: AccountStatus = await env.client.workflow.getHandle(limiterId).query(accountStatusQuery);
    expect(status).toMatchObject({ inUse: 0, ordersThisMonth: 12, peakInUse: 2 });
    const runs = await until(
      async () => {
        let n = 0;
        for await (const _ of env.client.workflow.list({ query: `WorkflowId = '${limiterId}'` })) n++;
        return n;
      },
      (n) => n >= 3,
    );
    expect(runs).toBeGreaterThanOrEqual(3);
  });
});
