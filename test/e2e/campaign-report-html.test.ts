/**
 * `campaign report --html` end to end (issue 17, item 6): a campaign over Europe runs twice on
 * the emulator (the second time its new products fail), the page is written through the CLI,
 * then opened in headless Chromium with every request outside the file refused: the footprints in
 * the DOM match the campaign's products and states, and a screenshot of the map is drawn in the
 * states' colours over the land. Set DEDL_REPORT_SCREENSHOT=<png> to keep the page's screenshot
 * (docs/campaign-report.png is made so).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { startCampaign } from '../../src/client/campaign-api';
import { MAP_STATES, mapStateOf } from '../../src/client/report/campaign-page';
import type { CampaignReport } from '../../src/shared/campaign-report';
import type { FaultsInput } from '../../src/emulator/faults';
import {
  type CampaignEnv,
  COLLECTION,
  campaignRequest,
  catalogueSearch,
  patchFaults,
  startCampaignEnv,
} from '../helpers/campaign-env';
import { launchChromium } from '../helpers/chromium';
import { countColour, decodePng, distinctColours } from '../helpers/png';
import { testStack } from '../helpers/stack';
import { cli, scratchDir } from './cli-helpers';

/** Europe: the emulator's catalogue has 26 Sentinel-2 tiles here. */
const EUROPE: [number, number, number, number] = [-12, 34, 32, 62];

describe('campaign report --html', () => {
  let env: CampaignEnv;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let browser: Browser;

  beforeAll(async () => {
    // Chromium is installed with apt-get when missing (the first run on a fresh machine).
    browser = await launchChromium();
    env = await startCampaignEnv({ timing: { queuedMs: 0, processingMs: 10 }, productSize: 4096 });
    scratch = await scratchDir('report-html');
  }, 600_000);
  afterAll(async () => {
    await browser?.close();
    await scratch?.cleanup();
    await env?.close();
  });

  const setFaults = (faults: FaultsInput) => patchFaults(env.emulator, faults);

  it('draws every product of the campaign, coloured by state, on a page that needs no network', async () => {
    // One product per tile (products of a tile share its footprint), so none hides another.
    const byTile = new Map<string, string>();
    for (const item of catalogueSearch(env.emulator, { collections: [COLLECTION], bbox: EUROPE }))
      if (!byTile.has(JSON.stringify(item.geometry.coordinates[0]![0])))
        byTile.set(JSON.stringify(item.geometry.coordinates[0]![0]), item.id);
    const ids = [...byTile.values()].slice(0, 24);
    expect(ids).toHaveLength(24);
    const sink = env.freshSink('europe');
    const request = (identifiers: string[]) =>
      campaignRequest({
        name: 'europe map',
        identifiers,
        orderSize: 6,
        output: { storage: 'TEMPORARY', sink: sink.url },
      });
    const workflowId = `europe-map-${Date.now()}`;
    const first: CampaignReport = await (
      await startCampaign(env.client, request(ids.slice(0, 18)), { taskQueue: env.taskQueue, workflowId })
    ).result();
    expect(first.counts.delivered).toBe(18);
    await setFaults({ itemFailureRate: 1 });
    let second: CampaignReport;
    try {
      second = await (await startCampaign(env.client, request(ids), { taskQueue: env.taskQueue, workflowId })).result();
    } finally {
      await setFaults({ itemFailureRate: 0 });
    }
    expect(second.counts).toMatchObject({ items: 24, skipped: 18, failed: 6 });

    const { address, namespace } = testStack().temporal;
    const cliEnv = { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, DEDL_TASK_QUEUE: env.taskQueue };
    const written = await cli(['campaign', 'report', workflowId, '--html', 'europe.html'], cliEnv, scratch.dir);
    expect(written.stderr).toBe('');
    expect(written.code).toBe(3); // some failed, as the report without --html says
    expect(written.stdout).toContain(
      `Wrote ${path.join(scratch.dir, 'europe.html')}: 24 products, 24 footprints on the map`,
    );

    const file = path.join(scratch.dir, 'europe.html');
    const html = await readFile(file, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link|<img|url\(/i);
    expect(html.length).toBeLessThan(200_000);

    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const outside: string[] = [];
    await page.route('**/*', (route) => {
      if (route.request().url().startsWith('file:')) return route.continue();
      outside.push(route.request().url());
      return route.abort();
    });
    await page.goto(pathToFileURL(file).toString());
    const keep = process.env.DEDL_REPORT_SCREENSHOT;
    if (keep) await writeFile(keep, await page.screenshot({ fullPage: true }));
    const drawn = await page.$$eval('svg.map path.footprint', (paths) =>
      paths.map((p) => ({ id: p.getAttribute('data-id'), state: p.getAttribute('data-state') })),
    );
    const expected = second.items!.map((item) => ({ id: item.identifier, state: mapStateOf(item.state) }));
    expect(drawn).toHaveLength(24);
    expect(new Set(drawn.map((d) => `${d.id} ${d.state}`))).toEqual(new Set(expected.map((e) => `${e.id} ${e.state}`)));
    expect(await page.locator('svg.map path.land').getAttribute('d')).toMatch(/^M[-\d.,LZM]+Z$/);
    expect(await page.locator('svg.timeline rect.delivery-bar').count()).toBeGreaterThan(0);
    expect(await page.locator('table.problems tr').count()).toBe(1 + 6);
    expect(await page.locator('.legend li').allTextContents()).toEqual(
      MAP_STATES.map((s) => `${s} ${s === 'delivered' ? 18 : s === 'failed' ? 6 : 0}`),
    );

    const map = decodePng(await page.locator('svg.map').screenshot());
    expect(map.width).toBeGreaterThan(500);
    expect(distinctColours(map)).toBeGreaterThan(20);
    // The states' colours (strokes drawn at full strength), the land's and the sea's.
    for (const colour of ['#1a9850', '#d73027', '#f4f1e8', '#dbe9f4']) {
      const pixels = countColour(map, colour, 24);
      expect(`${colour}: ${pixels > 50 ? 'drawn' : `${pixels} pixels`}`).toBe(`${colour}: drawn`);
    }
    expect(outside).toEqual([]);

    await page.close();
  });
});
