import { PermitBook, monthOf, nextMonthStart } from '../../../src/workflows/permit-book';

const NOW = new Date('2026-03-14T12:00:00Z');
const book = (maxItemsInFlight = 2, monthlyOrders = 1000) =>
  PermitBook.empty('acct', { maxItemsInFlight, monthlyOrders }, NOW);

describe('PermitBook', () => {
  it('grants in arrival order while the items fit, and never above the limit', () => {
    const b = book(2);
    b.request({ key: 'a1', holder: 'A', items: 1 });
    b.request({ key: 'b1', holder: 'B', items: 2 });
    b.request({ key: 'a2', holder: 'A', items: 1 });
    expect(b.grant(NOW).map((g) => g.key)).toEqual(['a1']);
    // b1 (2 items) does not fit beside a1, and a2 may not overtake it.
    expect(b.canGrant()).toBe(false);
    b.release('a1');
    expect(b.grant(NOW).map((g) => [g.key, g.items])).toEqual([['b1', 2]]);
    expect(b.inUse).toBe(2);
    b.release('b1');
    expect(b.grant(NOW).map((g) => g.key)).toEqual(['a2']);
    expect(b.status().peakInUse).toBe(2);
  });

  it('cuts a request larger than the limit down to the limit', () => {
    const b = book(3);
    b.request({ key: 'big', holder: 'A', items: 10 });
    expect(b.grant(NOW)).toEqual([{ key: 'big', holder: 'A', items: 3, ordersThisMonth: 1 }]);
  });

  it('is idempotent by key, and never grants a released key again', () => {
    const b = book(5);
    expect(b.request({ key: 'k', holder: 'A', items: 1 })).toBe(true);
    expect(b.request({ key: 'k', holder: 'A', items: 1 })).toBe(false);
    b.grant(NOW);
    expect(b.request({ key: 'k', holder: 'A', items: 1 })).toBe(false);
    b.release('k');
    b.release('k');
    expect(b.request({ key: 'k', holder: 'A', items: 1 })).toBe(false);
    expect(b.busy).toBe(false);
  });

  it('withdraws waiting requests and frees everything of a holder', () => {
    const b = book(1);
    b.request({ key: 'a1', holder: 'A', items: 1 });
    b.request({ key: 'a2', holder: 'A', items: 1 });
    b.request({ key: 'b1', holder: 'B', items: 1 });
    b.grant(NOW);
    expect(b.releaseHolder('A').sort()).toEqual(['a1', 'a2']);
    expect(b.grant(NOW).map((g) => g.key)).toEqual(['b1']);
    expect(b.holders).toEqual(['B']);
  });

  it('counts orders per month, holds grants once the budget is spent, and starts over next month', () => {
    const b = book(10, 2);
    for (const key of ['a', 'b', 'c']) b.request({ key, holder: 'A', items: 1 });
    expect(b.grant(NOW).map((g) => g.ordersThisMonth)).toEqual([1, 2]);
    expect(b.budgetExhausted).toBe(true);
    expect(b.canGrant()).toBe(false);
    // A permit given back unused is not an order.
    b.release('b', true);
    expect(b.status().ordersThisMonth).toBe(1);
    expect(b.grant(NOW).map((g) => g.key)).toEqual(['c']);
    b.request({ key: 'd', holder: 'A', items: 1 });
    expect(b.grant(NOW)).toEqual([]);
    const april = nextMonthStart(NOW);
    expect(april.toISOString()).toBe('2026-04-01T00:00:00.000Z');
    b.rollMonth(april);
    expect(b.status()).toMatchObject({ month: '2026-04', ordersThisMonth: 0 });
    expect(b.grant(april).map((g) => g.key)).toEqual(['d']);
  });

  it('applies new limits at once and survives a snapshot', () => {
    const b = book(1);
    b.request({ key: 'a', holder: 'A', items: 1 });
    b.request({ key: 'b', holder: 'B', items: 1 });
    b.grant(NOW);
    b.setLimits({ maxItemsInFlight: 2 });
    const copy = new PermitBook(b.snapshot());
    expect(copy.grant(NOW).map((g) => g.key)).toEqual(['b']);
    expect(b.status().held.map((h) => h.key)).toEqual(['a']);
    expect(monthOf(NOW)).toBe('2026-03');
  });
});
