/**
 * A campaign end to end: 300 identifiers split into orders (child harvests), crossing several
 * runs through continue-as-new, every product verified by sha256, each identifier ordered exactly
 * once; the manifest and the STAC ItemCollection next to the products; and a re-run of the same
 * campaign, which the ledger turns into zero new orders.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { productDigest } from '../../src/emulator/product';
import type { CampaignReport } from '../../src/shared/campaign-report';
import {
  type CampaignEnv,
  campaignRequest,
  catalogueIds,
  orderCounts,
  startCampaignEnv,
  until,
} from '../helpers/campaign-env';
import { expectedProducts, productsNotAsGenerated } from '../helpers/sink-audit';

const SIZE = 8192;
// Budget: the test took 19.5 s with the whole stack pinned to one core (`taskset -c 0 npx jest
// test/e2e/campaign.test.ts --runInBand`, 2026-12-06); three times that is jest's default 60 s.
jest.setTimeout(60_000);

describe('harvestCampaign', () => {
  let env: CampaignEnv;

  beforeAll(async () => {
    env = await startCampaignEnv({ timing: { queuedMs: 5, processingMs: 20 }, productSize: SIZE });
  });
  afterAll(() => env?.close());

  it('harvests 300 products over several runs, each ordered once, and a re-run orders nothing', async () => {
    const identifiers = catalogueIds(env.emulator, 300);
    const sink = env.freshSink('c300');
    const input = campaignRequest({
      name: 'c300',
      identifiers,
      orderSize: 20,
      maxOrdersInFlight: 3,
      continueAsNewAfterEvents: 50,
      output: { storage: 'TEMPORARY', sink: sink.url },
    });
    const workflowId = `e2e-campaign-300-${Date.now()}`;
    const report: CampaignReport = await env.client.workflow.execute('harvestCampaign', {
      taskQueue: env.taskQueue,
      workflowId,
      args: [input],
      workflowExecutionTimeout: '2m',
    });

    expect(report.outcome).toBe('delivered');
    expect(report.counts).toMatchObject({ items: 300, delivered: 300, failed: 0, skipped: 0 });
    expect(report.bytes).toBe(300 * SIZE);
    expect(report.orders).toBe(15);
    expect(report.runs).toBeGreaterThanOrEqual(3);

    // Every product verified: the emulator's digest, recorded with the right size, and the bytes in
    // the sink re-hashed against the emulator's generator.
    const expected = await productDigest({ identifier: identifiers[0]!, size: SIZE });
    const digests = new Map((await expectedProducts(identifiers, () => SIZE)).map((p) => [p.identifier, p.sha256]));
    const byId = new Map(report.items!.map((item) => [item.identifier, item]));
    expect(byId.size).toBe(300);
    for (const identifier of identifiers) {
      const item = byId.get(identifier)!;
      expect(item).toMatchObject({
        state: 'delivered',
        bytes: SIZE,
        location: `${sink.url}/${identifier}.zip`,
        sha256: digests.get(identifier),
      });
    }
    expect(await productsNotAsGenerated({ dir: sink.dir }, identifiers, SIZE)).toEqual([]);
    const files = await readdir(sink.dir);
    expect(files.filter((f) => f.endsWith('.zip')).sort()).toEqual(identifiers.map((id) => `${id}.zip`).sort());
    expect(files.some((f) => f.endsWith('.part'))).toBe(false);

    // Ordered exactly once each, in 15 orders.
    const orders = await env.hookOrders();
    const counts = orderCounts(orders);
    expect(orders).toHaveLength(15);
    expect(counts.size).toBe(300);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);

    // Runs as the server sees them: the chain continued as new at least twice.
    const runs = await until(
      async () => {
        const statuses: string[] = [];
        for await (const run of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
          statuses.push(run.status.name);
        }
        return statuses;
      },
      (statuses) => statuses.length === report.runs,
    );
    expect(runs.filter((s) => s === 'CONTINUED_AS_NEW').length).toBe(report.runs - 1);

    // The manifest and the ItemCollection next to the products.
    const manifest = JSON.parse(await readFile(path.join(sink.dir, 'manifest.json'), 'utf8')) as CampaignReport;
    expect(manifest.workflowId).toBe(workflowId);
    expect(manifest.items).toHaveLength(300);
    const collection = JSON.parse(await readFile(path.join(sink.dir, 'items.json'), 'utf8')) as {
      type: string;
      features: { id: string; geometry: unknown; assets: { product: Record<string, unknown> } }[];
    };
    expect(collection.type).toBe('FeatureCollection');
    expect(collection.features).toHaveLength(300);
    const first = collection.features.find((f) => f.id === identifiers[0])!;
    expect(first.geometry).toMatchObject({ type: 'Polygon' });
    expect(first.assets.product).toMatchObject({
      href: `${sink.url}/${identifiers[0]}.zip`,
      'file:size': SIZE,
      'file:checksum': `1220${expected.sha256}`,
    });

    // The same campaign again: everything is in the ledger, nothing is ordered.
    const again: CampaignReport = await env.client.workflow.execute('harvestCampaign', {
      taskQueue: env.taskQueue,
      workflowId,
      args: [input],
    });
    expect(again.counts).toMatchObject({ items: 300, skipped: 300, delivered: 0 });
    expect(again.orders).toBe(0);
    expect(again.outcome).toBe('delivered');
    expect(again.items!.find((i) => i.identifier === identifiers[5])).toMatchObject({
      state: 'skipped',
      location: `${sink.url}/${identifiers[5]}.zip`,
      bytes: SIZE,
    });
    expect(await env.hookOrders()).toHaveLength(15);
  });
});
