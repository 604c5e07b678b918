import { ledgerOf, manifestTargetOf, orderRequest, parseCampaignRequest } from '../../../src/shared/campaign-request';
import { parseHarvestRequest } from '../../../src/shared/harvest-request';
import { compactTime, parseScheduledHarvest, windowOf } from '../../../src/shared/scheduled-harvest';

const base = {
  name: 's2 alps',
  collection: 'EO.ESA.DAT.SENTINEL-2.MSI.L1C',
  output: { storage: 'TEMPORARY', sink: 'file:///data/harvest' },
};

describe('parseCampaignRequest', () => {
  it('takes identifiers, drops repeats and fills in defaults', () => {
    const parsed = parseCampaignRequest({ ...base, identifiers: ['A1', 'B2', 'A1'] });
    expect(parsed.ok && parsed.request).toMatchObject({
      identifiers: ['A1', 'B2'],
      orderSize: 100,
      maxOrdersInFlight: 4,
      account: { name: 'default', maxItemsInFlight: 5, monthlyOrders: 1000 },
      paused: false,
    });
  });

  it('takes a STAC query instead, and refuses both or neither', () => {
    const query = { bbox: [5, 45, 11, 48], datetime: '2023-09-01T00:00:00Z/2023-09-30T23:59:59Z' };
    expect(parseCampaignRequest({ ...base, query }).ok).toBe(true);
    for (const wrong of [{ ...base }, { ...base, query, identifiers: ['A1'] }]) {
      expect(parseCampaignRequest(wrong)).toEqual({
        ok: false,
        problems: ['identifiers: give either "identifiers" or "query", not both'],
      });
    }
    const bad = parseCampaignRequest({ ...base, query: { bbox: [5, 50, 11, 48] } });
    expect(bad.ok || bad.problems).toEqual([
      'query.bbox: must be [west, south, east, north] in degrees, south <= north',
    ]);
  });

  it('names every bad field', () => {
    const parsed = parseCampaignRequest({
      ...base,
      identifiers: ['ok'],
      orderSize: 500,
      account: { name: 'Bad Name' },
    });
    expect(parsed.ok || parsed.problems.map((p) => p.split(':')[0])).toEqual(['orderSize', 'account.name']);
  });

  it('builds order requests a harvest accepts, and finds the ledger and manifest next to the products', () => {
    const parsed = parseCampaignRequest({ ...base, identifiers: ['A1', 'B2'] });
    if (!parsed.ok) throw new Error(parsed.problems.join());
    const order = orderRequest(parsed.request, 12, ['A1']);
    expect(order.name).toBe('s2 alps o12');
    expect(parseHarvestRequest(order).ok).toBe(true);
    expect(order).not.toHaveProperty('downloadTaskQueue');
    const routed = parseCampaignRequest({ ...base, identifiers: ['A1'], downloadTaskQueue: 'dedl-downloads' });
    if (!routed.ok) throw new Error(routed.problems.join());
    expect(orderRequest(routed.request, 1, ['A1']).downloadTaskQueue).toBe('dedl-downloads');
    expect(ledgerOf(parsed.request)).toEqual({ url: 'file:///data/harvest/.dedl-ledger', credentials: undefined });
    expect(manifestTargetOf(parsed.request)).toEqual({ url: 'file:///data/harvest', credentials: undefined });
    const privateOut = {
      storage: 'PRIVATE' as const,
      target: 's3://bucket/prefix',
      endpoint: 'https://s3.example.org',
      credentials: 'islet',
      listingWait: '1m',
    };
    expect(ledgerOf({ output: privateOut })).toBeUndefined();
    expect(manifestTargetOf({ output: privateOut })).toEqual({
      url: 's3://bucket/prefix',
      credentials: 'islet',
      endpoint: 'https://s3.example.org',
    });
  });
});

describe('scheduled harvest windows', () => {
  it('ends at the scheduled time minus the delay and reaches back every + overlap', () => {
    const at = new Date('2023-01-04T02:00:00Z');
    expect(windowOf(at, { every: '1d', overlap: '6h', delay: '2h' })).toEqual({
      start: '2023-01-02T18:00:00.000Z',
      end: '2023-01-04T00:00:00.000Z',
    });
    expect(compactTime('2023-01-04T00:00:00.000Z')).toBe('20230104T0000Z');
  });

  it('validates the input, with defaults for overlap and delay', () => {
    const parsed = parseScheduledHarvest({ ...base, every: '1d' });
    expect(parsed.ok && parsed.request).toMatchObject({ every: '1d', overlap: '1h', delay: '0s' });
    const bad = parseScheduledHarvest({ ...base, every: 'daily', identifiers: ['A1'] });
    expect(bad.ok || bad.problems.map((p) => p.split(':')[0]).sort()).toEqual(['(request)', 'every']);
  });
});
