/**
 * planRedelivery: which items `dedl-harvest redeliver` delivers again (undelivered, link alive),
 * which it names as expired (made more than 14 days ago), and the request it starts.
 */
import { LINK_LIFETIME_MS, planRedelivery } from '../../../src/client/redelivery';
import type { HarvestReport } from '../../../src/shared/harvest-report';
import { type HarvestRequestInput, parseHarvestRequest } from '../../../src/shared/harvest-request';

const NOW = Date.parse('2026-12-06T00:00:00Z');
const original: HarvestRequestInput = {
  name: 'alps',
  collection: 'EO.ESA.DAT.SENTINEL-2.MSI.L1C',
  identifiers: ['A', 'B', 'C', 'D'],
  output: { storage: 'TEMPORARY', sink: 'file:///data/alps' },
};
const made = (msAgo: number) => new Date(NOW - msAgo).toISOString();
const report: Pick<HarvestReport, 'workflowId' | 'orderId' | 'items' | 'storage'> = {
  workflowId: 'harvest-alps',
  orderId: '42',
  storage: 'TEMPORARY',
  items: [
    { identifier: 'A', itemId: '1', state: 'delivered', completedAt: made(1000) },
    { identifier: 'B', itemId: '2', state: 'undelivered', completedAt: made(3600_000), error: 'EROFS: …' },
    { identifier: 'C', itemId: '3', state: 'undelivered', completedAt: made(LINK_LIFETIME_MS + 1) },
    { identifier: 'D', itemId: '4', state: 'failed', error: 'the Hook reports the item failed' },
  ],
};

describe('planRedelivery', () => {
  it('redelivers undelivered items whose link lives, names the expired ones, orders nothing', () => {
    const plan = planRedelivery(original, report, { now: NOW });
    expect(plan.redeliver.map((i) => i.identifier)).toEqual(['B']);
    expect(plan.expired.map((i) => i.identifier)).toEqual(['C']);
    expect(plan.request).toMatchObject({
      identifiers: ['B'],
      output: original.output,
      redeliver: { from: 'harvest-alps', orderId: '42' },
    });
    expect(parseHarvestRequest(plan.request).ok).toBe(true);
  });

  it('takes another sink when asked', () => {
    const plan = planRedelivery(original, report, { now: NOW, sink: 's3://b/p', sinkCredentials: 'islet' });
    expect(plan.request?.output).toEqual({ storage: 'TEMPORARY', sink: 's3://b/p', sinkCredentials: 'islet' });
  });

  it('offers nothing once every undelivered link has expired', () => {
    const plan = planRedelivery(original, report, { now: NOW + LINK_LIFETIME_MS });
    expect(plan.request).toBeUndefined();
    expect(plan.expired.map((i) => i.identifier)).toEqual(['B', 'C']);
  });
});
