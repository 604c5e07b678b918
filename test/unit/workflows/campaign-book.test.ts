/**
 * The campaign's bookkeeping alone, transition by transition: queue and lanes, permits, outcomes,
 * controls, progress, the report and the state carried across continue-as-new (including the
 * one-letter state runs of the earlier code carried).
 */
import {
  parseCampaignRequest,
  checkConcurrencyChange,
  type CampaignRequest,
} from '../../../src/shared/campaign-request';
import type { HarvestReport, ItemReport } from '../../../src/shared/harvest-report';
import {
  CampaignBook,
  type CampaignCarry,
  type CarriedState,
  campaignOrderId,
  initialCarry,
  orderSizeOf,
} from '../../../src/workflows/campaign-book';

const NOW = new Date('2026-03-14T12:00:00Z');
const RUN = { workflowId: 'camp', firstExecutionRunId: 'run-1' };
const SINK = 'file:///data/sink/';
const ids = (n: number) => Array.from({ length: n }, (_, i) => `P${i + 1}`);

function request(fields: Record<string, unknown> = {}): CampaignRequest {
  const parsed = parseCampaignRequest({
    name: 'c',
    collection: 'EO.ESA.DAT.SENTINEL-2.MSI.L1C',
    identifiers: ['P1'],
    output: { storage: 'TEMPORARY', sink: SINK },
    account: { name: 'acct', maxItemsInFlight: 100, monthlyOrders: 1000 },
    ...fields,
  });
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return parsed.request;
}

/** A book of a first run with `pending` resolved. */
function book(fields: Record<string, unknown> = {}, pending = ids(5), skipped: string[] = []): CampaignBook {
  const b = CampaignBook.forRun(request(fields), RUN, undefined, NOW);
  b.resolved('hash', pending, skipped);
  return b;
}

function report(items: Partial<ItemReport>[]): HarvestReport {
  return { items: items as ItemReport[] } as HarvestReport;
}

const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

describe('order size and order ids', () => {
  it('takes the smallest of the order size, the campaign’s and the account’s items in flight', () => {
    expect(orderSizeOf({ maxOrdersInFlight: 1, orderSize: 10 }, 100)).toBe(10);
    expect(orderSizeOf({ maxOrdersInFlight: 1, orderSize: 10, maxItemsInFlight: 4 }, 100)).toBe(4);
    expect(orderSizeOf({ maxOrdersInFlight: 1, orderSize: 10, maxItemsInFlight: 4 }, 3)).toBe(3);
  });

  it('names an order after the campaign, its sequence number and the chain of runs', () => {
    expect(campaignOrderId('camp', 7, 'abc123')).toBe('camp/order-0007-abc123');
    const b = book();
    const lane = b.launch();
    expect(lane.key).toMatch(/^camp\/order-0001-[0-9a-z]{6}$/);
    expect(b.orderId(1)).toBe(lane.key);
    // Another chain (a campaign started again under the same id) gets other order ids.
    const other = CampaignBook.forRun(request(), { ...RUN, firstExecutionRunId: 'run-2' }, undefined, NOW);
    expect(other.orderId(1)).not.toBe(lane.key);
  });
});

describe('CampaignBook queue and lanes', () => {
  it('cuts orders of the order size from the head of the queue while lanes are free', () => {
    const b = book({ orderSize: 2, maxOrdersInFlight: 2 });
    expect(b.canLaunch()).toBe(true);
    const first = b.launch();
    const second = b.launch();
    expect([first.seq, first.identifiers, first.phase]).toEqual([1, ['P1', 'P2'], 'waiting']);
    expect([second.seq, second.identifiers]).toEqual([2, ['P3', 'P4']]);
    expect(b.queued).toBe(1);
    // Both lanes are taken.
    expect(b.canLaunch()).toBe(false);
    b.closeLane(first.key);
    expect(b.canLaunch()).toBe(true);
    expect(b.launch().identifiers).toEqual(['P5']);
    expect(b.canLaunch()).toBe(false); // nothing queued
  });

  it('keeps the campaign’s items in flight under its limit', () => {
    const b = book({ orderSize: 3, maxOrdersInFlight: 5, maxItemsInFlight: 4 });
    expect(b.launch().identifiers).toEqual(['P1', 'P2', 'P3']);
    // The next order of 3 (min of order size and limit 4) would make 6 in flight.
    expect(b.canLaunch()).toBe(false);
  });

  it('launches nothing while paused', () => {
    const b = book({ paused: true });
    expect(b.paused).toBe(true);
    expect(b.canLaunch()).toBe(false);
    b.setPaused(false);
    expect(b.canLaunch()).toBe(true);
  });

  it('gives a withdrawn order’s products back to the head of the queue', () => {
    const b = book({ orderSize: 2 });
    const lane = b.launch();
    b.withdraw(lane);
    expect(b.lane(lane.key)).toBeUndefined();
    expect(b.queued).toBe(5);
    // The next order takes them first, under a new sequence number.
    expect(b.launch()).toMatchObject({ seq: 2, identifiers: ['P1', 'P2'] });
  });

  it('orders with as many products as the permit allows and queues the rest first', () => {
    const b = book({ orderSize: 3 });
    const lane = b.launch();
    b.ordered(lane, 2, at(5));
    expect(lane).toMatchObject({ phase: 'ordered', identifiers: ['P1', 'P2'] });
    expect(b.launch().identifiers).toEqual(['P3', 'P4', 'P5']);
    const progress = b.progress({ name: 'c', phase: 'running' }, at(5));
    expect(progress.orders).toMatchObject({ created: 1, inFlight: 1, waitingForPermit: 1 });
  });

  it('moves the account view forward only within a month', () => {
    const b = book();
    const limits = { maxItemsInFlight: 5, monthlyOrders: 25 };
    b.noteGrant(limits, 4, '2026-03');
    b.noteGrant(limits, 3, '2026-03'); // an earlier grant arriving late
    expect(b.report(request(), false, NOW).account).toEqual({
      name: 'acct',
      maxItemsInFlight: 5,
      monthlyOrders: 25,
      ordersThisMonth: 4,
      ordersLeftThisMonth: 21,
    });
    b.noteGrant(limits, 1, '2026-04'); // a new month starts over
    expect(b.report(request(), false, NOW).account).toMatchObject({ ordersThisMonth: 1, ordersLeftThisMonth: 24 });
  });
});

describe('CampaignBook outcomes', () => {
  it('records skipped products at resolution', () => {
    const b = book({}, ['P1'], ['S1', 'S2']);
    expect(b.items()).toEqual([
      { identifier: 'S1', state: 'skipped' },
      { identifier: 'S2', state: 'skipped' },
    ]);
    expect(b.optionsHash).toBe('hash');
  });

  it('reads an order’s report: delivered, failed, timed out, cancelled, undelivered and missing products', () => {
    const b = book({ orderSize: 6 }, ids(6));
    const lane = b.launch();
    b.ordered(lane, 6, NOW);
    b.applyReport(
      lane,
      report([
        { identifier: 'P1', state: 'delivered', bytes: 10, location: `${SINK}P1.zip` },
        { identifier: 'P2', state: 'delivered', bytes: 20, location: 's3://elsewhere/P2.zip' },
        { identifier: 'P3', state: 'failed', error: 'the Hook failed it' },
        { identifier: 'P4', state: 'timed_out' },
        { identifier: 'P5', state: 'undelivered', error: 'SinkFull: no space' },
      ]),
    );
    const order = b.orderId(1);
    expect(b.items()).toEqual([
      // The default location is not carried (the ledger gives it back with the sha256).
      { identifier: 'P1', state: 'delivered', bytes: 10, order },
      { identifier: 'P2', state: 'delivered', bytes: 20, location: 's3://elsewhere/P2.zip', order },
      { identifier: 'P3', state: 'failed', error: 'the Hook failed it', order },
      { identifier: 'P4', state: 'timed_out', error: 'ended timed_out', order },
      { identifier: 'P5', state: 'failed', error: 'SinkFull: no space', order },
      { identifier: 'P6', state: 'failed', error: 'not in the report of its order', order },
    ]);
    expect(b.report(request(), false, NOW)).toMatchObject({ bytes: 30, orders: 1 });
  });

  it('fails every product of an order whose child failed, and keeps the message', () => {
    const b = book({ orderSize: 2 });
    const lane = b.launch();
    b.ordered(lane, 2, NOW);
    b.orderFailed(lane, 'HookAuthError: bad password');
    expect(b.items().map((i) => [i.identifier, i.state, i.error])).toEqual([
      ['P1', 'failed', 'HookAuthError: bad password'],
      ['P2', 'failed', 'HookAuthError: bad password'],
    ]);
    expect(b.progress({ name: 'c', phase: 'running' }, NOW).lastError).toBe('order 1: HookAuthError: bad password');
    b.noteError('ledger: unwritable');
    expect(b.progress({ name: 'c', phase: 'running' }, NOW).lastError).toBe('ledger: unwritable');
  });

  it('cancels orders waiting (no order id) or under way, then the queue', () => {
    const b = book({ orderSize: 1, maxOrdersInFlight: 2 });
    const waiting = b.launch();
    const running = b.launch();
    b.ordered(running, 1, NOW);
    b.orderCancelled(waiting, false);
    b.orderCancelled(running, true);
    b.cancelQueue();
    expect(b.queued).toBe(0);
    expect(b.items()).toEqual([
      { identifier: 'P1', state: 'cancelled', error: 'the campaign was cancelled' },
      { identifier: 'P2', state: 'cancelled', error: 'the campaign was cancelled', order: b.orderId(2) },
      ...['P3', 'P4', 'P5'].map((identifier) => ({
        identifier,
        state: 'cancelled',
        error: 'the campaign was cancelled before ordering it',
      })),
    ]);
    expect(b.report(request(), true, NOW).outcome).toBe('cancelled');
  });
});

describe('CampaignBook controls', () => {
  it('changes only the limits given', () => {
    const b = book({ orderSize: 5, maxOrdersInFlight: 2 });
    b.setLimits({ orderSize: 2 });
    expect(b.progress({ name: 'c', phase: 'running' }, NOW).limits).toEqual({
      maxOrdersInFlight: 2,
      maxItemsInFlight: 100, // the account's, when the campaign sets none
      orderSize: 2,
    });
    b.setLimits({ maxItemsInFlight: 1, maxOrdersInFlight: 3 });
    expect(b.launch().identifiers).toEqual(['P1']);
  });

  it('checks a change against the request’s own bounds, naming the field', () => {
    expect(() => checkConcurrencyChange({ orderSize: 2, maxOrdersInFlight: 100 })).not.toThrow();
    expect(() => checkConcurrencyChange({ orderSize: 101 })).toThrow(/^orderSize: /);
    expect(() => checkConcurrencyChange({ maxOrdersInFlight: 0 })).toThrow(/^maxOrdersInFlight: /);
    expect(() => checkConcurrencyChange({ maxItemsInFlight: 1.5 })).toThrow(/^maxItemsInFlight: /);
  });

  it('puts failed products (and timed-out ones when asked) back at the end of the queue', () => {
    const b = book({ orderSize: 3 }, ids(4));
    const lane = b.launch();
    b.ordered(lane, 3, NOW);
    b.applyReport(
      lane,
      report([
        { identifier: 'P1', state: 'delivered', bytes: 1 },
        { identifier: 'P2', state: 'failed' },
        { identifier: 'P3', state: 'timed_out' },
      ]),
    );
    b.closeLane(lane.key);
    expect(b.retryFailed(false)).toEqual(['P2']);
    expect(b.retryFailed(true)).toEqual(['P3']);
    expect(b.retryFailed(true)).toEqual([]);
    expect(b.queued).toBe(3);
    expect(b.launch().identifiers).toEqual(['P4', 'P2', 'P3']);
    expect(b.items().map((i) => i.identifier)).toEqual(['P1']);
  });
});

describe('CampaignBook progress and report', () => {
  it('counts every product where it stands, with the orders needed for the rest', () => {
    const b = book({ orderSize: 2, maxOrdersInFlight: 3 }, ids(9), ['S1']);
    const ordered = b.launch();
    b.ordered(ordered, 2, NOW);
    b.launch(); // waiting for its permit
    const progress = b.progress({ name: 'c', phase: 'running' }, NOW);
    expect(progress.counts).toMatchObject({ items: 10, skipped: 1, ordered: 2, waiting: 2, pending: 5 });
    // 5 pending and 2 waiting, 2 per order.
    expect(progress.orders).toEqual({ created: 1, inFlight: 1, waitingForPermit: 1, neededForRest: 4 });
    expect(progress).toMatchObject({ workflowId: 'camp', phase: 'running', paused: false, runs: 1 });
    expect(progress.rate).toBeUndefined();
  });

  it('says paused while running paused, and other phases as they are', () => {
    const b = book({ paused: true });
    expect(b.progress({ name: 'c', phase: 'running' }, NOW).phase).toBe('paused');
    expect(b.progress({ name: 'c', phase: 'continuing' }, NOW).phase).toBe('continuing');
  });

  it('reckons the rate from the first order and the ETA of what is left', () => {
    const b = book({ orderSize: 2 }, ids(6));
    const lane = b.launch();
    b.ordered(lane, 2, NOW);
    b.applyReport(lane, report(['P1', 'P2'].map((identifier) => ({ identifier, state: 'delivered', bytes: 100 }))));
    b.closeLane(lane.key);
    const progress = b.progress({ name: 'c', phase: 'running' }, at(10));
    expect(progress.rate).toEqual({ productsPerSecond: 0.2, bytesPerSecond: 20 });
    expect(progress.etaSeconds).toBe(20); // 4 left at 0.2 per second
  });

  it('reports the finished products', () => {
    const b = book({ orderSize: 2 }, ids(2), ['S1']);
    const lane = b.launch();
    b.ordered(lane, 2, NOW);
    b.applyReport(lane, report([{ identifier: 'P1', state: 'delivered', bytes: 7 }]));
    expect(b.report(request(), false, at(60))).toEqual({
      name: 'c',
      workflowId: 'camp',
      collection: 'EO.ESA.DAT.SENTINEL-2.MSI.L1C',
      storage: 'TEMPORARY',
      outcome: 'partial',
      counts: expect.objectContaining({ items: 3, delivered: 1, skipped: 1, failed: 1 }),
      bytes: 7,
      orders: 1,
      runs: 1,
      account: { name: 'acct', maxItemsInFlight: 100, monthlyOrders: 1000 },
      startedAt: NOW.toISOString(),
      finishedAt: at(60).toISOString(),
    });
  });
});

describe('CampaignBook across continue-as-new', () => {
  it('hands the next run everything it needs, and that run carries on', () => {
    const b = book({ orderSize: 2, paused: true }, ids(5), ['S1']);
    b.setPaused(false);
    const lane = b.launch();
    b.ordered(lane, 2, NOW);
    b.applyReport(lane, report([{ identifier: 'P1', state: 'delivered', bytes: 5, location: 's3://b/P1.zip' }]));
    b.closeLane(lane.key);
    b.setLimits({ orderSize: 1 });
    const carry = b.carry();
    expect(carry).toMatchObject({
      optionsHash: 'hash',
      pending: ['P3', 'P4', 'P5'],
      outcomes: {
        S1: { state: 'skipped' },
        P1: { state: 'delivered', bytes: 5, location: 's3://b/P1.zip', order: 1 },
        P2: { state: 'failed', error: 'not in the report of its order', order: 1 },
      },
      nextSeq: 2,
      orders: 1,
      bytes: 5,
      delivered: 1,
      paused: false,
      limits: { orderSize: 1 },
      firstOrderAt: NOW.toISOString(),
      runs: 1,
    });
    // A plain JSON value (it is a workflow argument), and the book does not share it.
    const json = JSON.parse(JSON.stringify(carry)) as CampaignCarry;
    expect(json).toEqual(carry);
    b.cancelQueue();
    expect(carry.pending).toHaveLength(3);

    const next = CampaignBook.forRun(request(), RUN, json, at(30));
    expect(next.items()).toEqual(b.items().filter((i) => i.state !== 'cancelled'));
    expect(next.launch()).toMatchObject({ seq: 2, identifiers: ['P3'] });
    expect(next.report(request(), false, NOW)).toMatchObject({
      runs: 2,
      orders: 1,
      bytes: 5,
      startedAt: NOW.toISOString(),
    });
  });

  it('reads the one-letter outcomes that runs of the earlier code carried', () => {
    // As the earlier code wrote it (a recorded one: test/fixtures/histories/harvest-campaign-continued-one-letter-first-run.json).
    const carried = {
      ...initialCarry(request(), NOW),
      pending: ['P4'],
      outcomes: {
        P1: { s: 'delivered', b: 4096, o: 1 },
        P2: { s: 'delivered', b: 10, l: 's3://b/P2.zip', o: 2 },
        P3: { s: 'failed', e: 'boom', o: 3 },
        S1: { s: 'skipped' },
      },
      nextSeq: 4,
      orders: 3,
      bytes: 4106,
      delivered: 2,
      runs: 1,
    } as CarriedState;
    const b = CampaignBook.forRun(request(), RUN, carried, NOW);
    expect(b.items()).toEqual([
      { identifier: 'P1', state: 'delivered', bytes: 4096, order: b.orderId(1) },
      { identifier: 'P2', state: 'delivered', bytes: 10, location: 's3://b/P2.zip', order: b.orderId(2) },
      { identifier: 'P3', state: 'failed', error: 'boom', order: b.orderId(3) },
      { identifier: 'S1', state: 'skipped' },
    ]);
    expect(b.retryFailed(false)).toEqual(['P3']);
    // Carried on in the readable form.
    expect(b.carry().outcomes).toEqual({
      P1: { state: 'delivered', bytes: 4096, order: 1 },
      P2: { state: 'delivered', bytes: 10, location: 's3://b/P2.zip', order: 2 },
      S1: { state: 'skipped' },
    });
    expect(b.report(request(), false, NOW).counts).toMatchObject({ delivered: 2, skipped: 1, items: 3 });
  });
});
