/** The plan's estimate (client/plan-output.ts) and what a plan reads from catalogue items (hook/stac-fields.ts). */
import { estimatePlan } from '../../../src/client/plan-output';
import { footprintOf, productSizeOf } from '../../../src/hook/stac-fields';
import type { CampaignPlan } from '../../../src/shared/campaign-report';

const plan = (over: Partial<CampaignPlan>): CampaignPlan => ({
  kind: 'campaign',
  name: 'p',
  found: 0,
  alreadyVerified: 0,
  size: { bytes: 0, known: 0, unknown: 0 },
  toOrder: 0,
  orderSize: 100,
  ordersNeeded: 0,
  account: { name: 'a', maxItemsInFlight: 5, monthlyOrders: 25, ordersThisMonth: 0, ordersLeftThisMonth: 25 },
  fitsMonthlyBudget: true,
  sample: [],
  ...over,
});

describe('estimatePlan', () => {
  const now = new Date('2026-12-06T04:00:00Z');

  it('runs the items maxItemsInFlight at a time within this month', () => {
    const estimate = estimatePlan(plan({ toOrder: 12, ordersNeeded: 1 }), 600_000, now);
    expect(estimate).toEqual({
      itemTime: '10m',
      rounds: 3,
      processingSeconds: 1800,
      laterMonths: 0,
      lastOrderMonth: '2026-12',
      earliestEnd: '2026-12-06T04:30:00.000Z',
    });
  });

  it('spreads orders past the monthly budget over the next months (hook-low: 25 a month, 1 item at a time)', () => {
    const account = {
      name: 'low',
      maxItemsInFlight: 1,
      monthlyOrders: 25,
      ordersThisMonth: 20,
      ordersLeftThisMonth: 5,
    };
    // 60 orders of 1 item: 5 this month, 25 in January, 25 in February, 5 in March.
    const estimate = estimatePlan(plan({ toOrder: 60, orderSize: 1, ordersNeeded: 60, account }), 60_000, now);
    expect(estimate).toMatchObject({ rounds: 60, laterMonths: 3, lastOrderMonth: '2027-03' });
    expect(estimate.earliestEnd).toBe('2027-03-01T00:05:00.000Z');
  });

  it('says nothing is left to do for an empty plan', () => {
    expect(estimatePlan(plan({}), 600_000, now)).toMatchObject({ rounds: 0, processingSeconds: 0, laterMonths: 0 });
  });
});

describe('catalogue item fields', () => {
  it('reads the size of the downloadLink asset, else of the one zip asset, else none', () => {
    expect(productSizeOf({ id: 'a', assets: { downloadLink: { href: 'x', 'file:size': 42 } } })).toBe(42);
    expect(productSizeOf({ id: 'b', assets: { p: { type: 'application/zip', 'file:size': 7 }, q: {} } })).toBe(7);
    expect(productSizeOf({ id: 'c', assets: { downloadLink: { href: 'x' } } })).toBeUndefined();
    expect(productSizeOf({ id: 'd', assets: { downloadLink: { 'file:size': '12' } } })).toBeUndefined();
    expect(productSizeOf({ id: 'e' })).toBeUndefined();
  });

  it('reads a polygon, the largest part of a multipolygon, or the bbox; rounds to 3 decimals', () => {
    const ring = [
      [6.12345, 45],
      [7, 45],
      [7, 46],
      [6.12345, 45],
    ];
    expect(footprintOf({ id: 'a', geometry: { type: 'Polygon', coordinates: [ring] } })).toEqual([
      [6.123, 45],
      [7, 45],
      [7, 46],
      [6.123, 45],
    ]);
    const small = [
      [0, 0],
      [1, 0],
      [0, 1],
    ];
    expect(footprintOf({ id: 'b', geometry: { type: 'MultiPolygon', coordinates: [[small], [ring]] } })).toHaveLength(
      4,
    );
    expect(footprintOf({ id: 'c', geometry: null, bbox: [1, 2, 3, 4] })).toEqual([
      [1, 2],
      [3, 2],
      [3, 4],
      [1, 4],
      [1, 2],
    ]);
    expect(footprintOf({ id: 'd', geometry: { type: 'Point', coordinates: [1, 2] } })).toBeUndefined();
  });
});
