/**
 * A campaign defined by a STAC query (collection, bbox, datetime) instead of identifiers: the dry
 * run finds the matching items (through the search's paging) and orders nothing; the campaign
 * harvests exactly those items (into a dated layout, with a STAC Collection of their sidecars,
 * validated offline); the dry run afterwards finds them all verified in the ledger.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { planCampaign, startCampaign } from '../../src/client/campaign-api';
import type { CampaignPlan, CampaignReport } from '../../src/shared/campaign-report';
import {
  COLLECTION,
  type CampaignEnv,
  campaignRequest,
  catalogueSearch,
  orderCounts,
  startCampaignEnv,
} from '../helpers/campaign-env';
import { stacCatalogProblems, stacCollectionProblems, stacItemProblems } from '../helpers/stac-validate';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('a campaign from a STAC query', () => {
  let env: CampaignEnv;

  beforeAll(async () => {
    env = await startCampaignEnv({ timing: { queuedMs: 0, processingMs: 10 }, productSize: 4096 });
  });
  afterAll(() => env?.close());

  it('plans, then harvests exactly the matching items', async () => {
    const bbox: [number, number, number, number] = [0, 40, 20, 55];
    const expected = catalogueSearch(env.emulator, {
      collections: [COLLECTION],
      bbox,
      datetime: { start: Date.UTC(2023, 0, 1), end: Date.UTC(2023, 5, 30, 23, 59, 59) },
    }).map((item) => item.id);
    // A real selection: some items, not the whole collection.
    expect(expected.length).toBeGreaterThan(10);
    expect(expected.length).toBeLessThan(catalogueSearch(env.emulator, { collections: [COLLECTION] }).length);

    const sink = env.freshSink('stac');
    const input = campaignRequest({
      name: 'stac-query',
      query: { bbox, datetime: '2023-01-01T00:00:00Z/2023-06-30T23:59:59Z' },
      orderSize: 10,
      output: { storage: 'TEMPORARY', sink: sink.url, layout: '{yyyy}/{mm}/{identifier}.zip' },
    });

    const plan: CampaignPlan = await planCampaign(env.client, input, { taskQueue: env.taskQueue });
    expect(plan).toMatchObject({
      found: expected.length,
      alreadyVerified: 0,
      toOrder: expected.length,
      orderSize: 10,
      ordersNeeded: Math.ceil(expected.length / 10),
      fitsMonthlyBudget: true,
    });
    expect(await env.hookOrders()).toHaveLength(0);

    const handle = await startCampaign(env.client, input, { taskQueue: env.taskQueue, workflowId: 'e2e-stac-query' });
    const report: CampaignReport = await handle.result();
    expect(report.counts).toMatchObject({ items: expected.length, delivered: expected.length });
    expect(report.items!.map((i) => i.identifier).sort()).toEqual([...expected].sort());

    const ordered = orderCounts(await env.hookOrders());
    expect([...ordered.keys()].sort()).toEqual([...expected].sort());
    expect([...ordered.values()].every((n) => n === 1)).toBe(true);

    // The campaign's STAC Collection links every product's sidecar (in the layout's folders), with
    // the extent of the items; catalog.json leads to it. Both valid against the STAC 1.0.0 schemas.
    const read = async (name: string) => JSON.parse(await readFile(path.join(sink.dir, name), 'utf8')) as Json;
    const collection = await read('collection.json');
    expect(stacCollectionProblems(collection)).toEqual([]);
    const itemHrefs = (collection.links as Json[]).filter((l) => l.rel === 'item').map((l) => l.href as string);
    expect(itemHrefs).toHaveLength(expected.length);
    const times: number[] = [];
    for (const href of itemHrefs) {
      expect(href).toMatch(/^\.\/\d{4}\/\d{2}\/[^/]+\.stac\.json$/);
      const item = await read(href);
      expect(stacItemProblems(item)).toEqual([]);
      expect(expected).toContain(item.id);
      times.push(Date.parse(item.properties.datetime as string));
    }
    const [start, end] = (collection.extent as Json).temporal.interval[0] as string[];
    expect([Date.parse(start!), Date.parse(end!)]).toEqual([Math.min(...times), Math.max(...times)]);
    const [west, south, east, north] = (collection.extent as Json).spatial.bbox[0] as number[];
    // The items were searched inside the bbox: their union overlaps it.
    expect(west!).toBeLessThan(bbox[2]);
    expect(east!).toBeGreaterThan(bbox[0]);
    expect(south!).toBeLessThan(bbox[3]);
    expect(north!).toBeGreaterThan(bbox[1]);
    // The report and the ledger hold the final locations, in the layout's folders.
    for (const item of report.items!)
      expect(item.location).toMatch(new RegExp(`^${sink.url}/\\d{4}/\\d{2}/[^/]+\\.zip$`));
    const ledgerDir = path.join(sink.dir, '.dedl-ledger');
    const records: Json[] = [];
    for (const entry of await readdir(ledgerDir, { recursive: true, withFileTypes: true })) {
      if (entry.isFile())
        records.push(JSON.parse(await readFile(path.join(entry.parentPath, entry.name), 'utf8')) as Json);
    }
    expect(records).toHaveLength(expected.length);
    for (const record of records) {
      expect(record.location).toBe(
        fileURLToPath(report.items!.find((i) => i.identifier === record.identifier)!.location!),
      );
    }
    const catalog = await read('catalog.json');
    expect(stacCatalogProblems(catalog)).toEqual([]);
    expect(catalog.links).toContainEqual({ rel: 'child', href: './collection.json', type: 'application/json' });

    const after: CampaignPlan = await planCampaign(env.client, input, { taskQueue: env.taskQueue });
    expect(after).toMatchObject({
      found: expected.length,
      alreadyVerified: expected.length,
      toOrder: 0,
      ordersNeeded: 0,
    });
    expect(after.account.ordersThisMonth).toBe(Math.ceil(expected.length / 10));
  });
});
