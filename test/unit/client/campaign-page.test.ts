/** The campaign page (client/report/campaign-page.ts): states to colours, a footprint per product found, nothing fetched at view time. */
import { MAP_STATES, mapStateOf, renderCampaignPage } from '../../../src/client/report/campaign-page';
import { type CampaignItem, type CampaignReport, countStates } from '../../../src/shared/campaign-report';

const square = (lon: number, lat: number): [number, number][] => [
  [lon, lat],
  [lon + 1, lat],
  [lon + 1, lat + 1],
  [lon, lat + 1],
  [lon, lat],
];

describe('campaign page', () => {
  const items: CampaignItem[] = [
    { identifier: 'A', state: 'delivered', verifiedAt: '2026-12-01T10:00:00Z' },
    { identifier: 'B', state: 'skipped', verifiedAt: '2026-11-30T10:00:00Z' },
    { identifier: 'C', state: 'failed', error: 'bad <zip>' },
    { identifier: 'D', state: 'quarantined' as CampaignItem['state'], error: 'checksum' },
    { identifier: 'E', state: 'pending' },
    { identifier: 'F', state: 'timed_out' },
  ];
  const report = {
    name: 'p',
    workflowId: 'campaign/p',
    collection: 'C',
    storage: 'TEMPORARY',
    outcome: 'partial',
    counts: countStates(['delivered', 'skipped', 'failed', 'pending', 'timed_out']),
    bytes: 10,
    orders: 1,
    runs: 1,
    account: { name: 'default', maxItemsInFlight: 5, monthlyOrders: 1000 },
    startedAt: '2026-11-30T09:00:00Z',
  } satisfies CampaignReport;
  const footprints = { A: square(6, 45), B: square(7, 45), C: square(8, 46), D: square(9, 46), E: square(10, 47) };
  const html = renderCampaignPage({
    report,
    items,
    footprints,
    land: [square(5.5, 44.2), square(170, 60)],
    generatedAt: new Date('2026-12-06T00:00:00Z'),
  });

  it('maps every state to one of four colours', () => {
    expect(items.map((i) => mapStateOf(i.state))).toEqual([
      'delivered',
      'delivered',
      'failed',
      'quarantined',
      'pending',
      'failed',
    ]);
    expect(MAP_STATES).toEqual(['delivered', 'failed', 'quarantined', 'pending']);
  });

  it('draws one footprint per product the catalogue placed, says how many it could not, escapes text', () => {
    const drawn = [...html.matchAll(/<path class="footprint (\w+)" data-id="(\w)"/g)].map((m) => `${m[2]}:${m[1]}`);
    expect(drawn).toEqual(['A:delivered', 'B:delivered', 'C:failed', 'D:quarantined', 'E:pending']);
    expect(html).toContain('5 of 6 products drawn (1 without a footprint in the catalogue)');
    expect(html).toContain('bad &#60;zip&#62;');
    expect(html).not.toContain('bad <zip>');
    // The land far from the footprints is culled.
    expect(html.match(/<path class="land" d="([^"]*)"/)![1]!.match(/M/g)).toHaveLength(1);
  });

  it('loads nothing from elsewhere', () => {
    expect(html).not.toMatch(/<script[^>]+src=|<link|<img|url\(|@import/i);
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toMatch(/https?:/);
  });
});
