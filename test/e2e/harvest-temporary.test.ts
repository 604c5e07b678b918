/**
 * The main job end to end: a harvest workflow on the real dev server, a real worker, the emulator
 * over HTTP, products streamed into a local folder and proven by sha256.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { productDigest } from '../../src/emulator/product';
import type { HarvestReport } from '../../src/shared/harvest-report';
import { type HarvestEnv, catalogueIdentifiers, request, startHarvestEnv } from '../helpers/harvest-env';
import { productsNotAsGenerated, harvestFiles } from '../helpers/sink-audit';

const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';
const SIZE = 300_000;

describe('harvest into a local folder (TEMPORARY)', () => {
  let env: HarvestEnv;

  beforeAll(async () => {
    env = await startHarvestEnv({ timing: { queuedMs: 50, processingMs: 150 }, productSize: SIZE });
  });
  afterAll(() => env?.close());

  it('delivers every product with the emulator sha256, writes a manifest, leaves no partial file', async () => {
    const identifiers = catalogueIdentifiers(env.emulator, COLLECTION, 3);
    const report: HarvestReport = await env.client.workflow.execute('harvest', {
      taskQueue: env.taskQueue,
      workflowId: `e2e-temporary-${Date.now()}`,
      args: [request({ identifiers, output: { storage: 'TEMPORARY', sink: env.sinkUrl } })],
    });

    expect(report.outcome).toBe('delivered');
    expect(report.totals).toMatchObject({ items: 3, delivered: 3, failed: 0, bytes: 3 * SIZE });
    for (const identifier of identifiers) {
      const item = report.items.find((i) => i.identifier === identifier)!;
      const expected = await productDigest({ identifier, size: SIZE });
      expect(item).toMatchObject({ state: 'delivered', bytes: SIZE, sha256: expected.sha256, hookStatus: 'completed' });
      expect(item.location).toBe(`${env.sinkUrl}/${identifier}.zip`);
    }
    // The files themselves, re-hashed, hold the emulator's bytes (not only the report says so).
    expect(await productsNotAsGenerated({ dir: env.sinkDir }, identifiers, SIZE)).toEqual([]);
    const files = (await readdir(env.sinkDir)).sort();
    expect(files).toEqual(harvestFiles(identifiers));
    const manifest = JSON.parse(await readFile(path.join(env.sinkDir, 'manifest.json'), 'utf8')) as HarvestReport;
    expect(manifest.orderId).toBe(report.orderId);
    expect(manifest.outcome).toBe('delivered');
  });
});
