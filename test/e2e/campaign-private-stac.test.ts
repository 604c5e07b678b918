/**
 * A PRIVATE campaign (the Hook writes each product into the user's bucket on the real S3 server)
 * ends with the campaign's STAC Collection in that bucket: `collection.json` at the output target
 * links every delivered product's sidecar by a relative href, with the extent of their items, and
 * `catalog.json` leads to it — validated offline against the vendored STAC 1.0.0 schemas.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startCampaign } from '../../src/client/campaign-api';
import type { CampaignReport } from '../../src/shared/campaign-report';
import { type CampaignEnv, campaignRequest, catalogueIds, startCampaignEnv } from '../helpers/campaign-env';
import { createTestBucket, stackS3Client } from '../helpers/s3';
import { testStack } from '../helpers/stack';
import { stacCatalogProblems, stacCollectionProblems, stacItemProblems } from '../helpers/stac-validate';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('a PRIVATE campaign', () => {
  let env: CampaignEnv;
  let s3: S3Client;
  let bucket: string;

  beforeAll(async () => {
    const { s3: stackS3 } = testStack();
    s3 = stackS3Client();
    bucket = await createTestBucket(s3, 'private-campaign');
    env = await startCampaignEnv(
      { timing: { queuedMs: 0, processingMs: 10 }, productSize: 4096 },
      {
        DEDL_CREDENTIALS_LOCAL_ACCESS_KEY_ID: stackS3.accessKeyId,
        DEDL_CREDENTIALS_LOCAL_SECRET_ACCESS_KEY: stackS3.secretAccessKey,
        DEDL_CREDENTIALS_LOCAL_REGION: stackS3.region,
      },
    );
  });
  afterAll(async () => {
    await env?.close();
    s3?.destroy();
  });

  const json = async (key: string) =>
    JSON.parse(
      await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString(),
    ) as Json;

  it('writes the campaign collection beside the products in the bucket, linking every sidecar', async () => {
    const identifiers = catalogueIds(env.emulator, 7);
    const prefix = 'campaign-a';
    // A sidecar of a product from another harvest in the same prefix: not one of this campaign's.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/STRANGER.stac.json`, Body: '{}' }));
    const input = campaignRequest({
      name: 'private-stac',
      identifiers,
      orderSize: 3,
      output: {
        storage: 'PRIVATE',
        target: `s3://${bucket}/${prefix}`,
        endpoint: testStack().s3.endpoint,
        credentials: 'local',
      },
    });
    const handle = await startCampaign(env.client, input, {
      taskQueue: env.taskQueue,
      workflowId: `e2e-private-stac-${Date.now()}`,
    });
    const report: CampaignReport = await handle.result();
    expect(report.counts).toMatchObject({ items: identifiers.length, delivered: identifiers.length });
    expect(report.orders).toBe(3);

    const collection = await json(`${prefix}/collection.json`);
    expect(stacCollectionProblems(collection)).toEqual([]);
    expect(collection.id).toBe('private-stac');
    const hrefs = (collection.links as Json[]).filter((l) => l.rel === 'item').map((l) => l.href as string);
    expect(hrefs.sort()).toEqual(identifiers.map((id) => `./${id}.stac.json`).sort());

    // Every link resolves to a valid sidecar of its product; the extent covers them all.
    const times: number[] = [];
    const boxes: number[][] = [];
    for (const href of hrefs) {
      const item = await json(`${prefix}/${href.slice(2)}`);
      expect(stacItemProblems(item)).toEqual([]);
      expect(identifiers).toContain(item.id);
      expect(item.assets.product.href).toBe(`s3://${bucket}/${prefix}/${item.id}.zip`);
      times.push(Date.parse(item.properties.datetime as string));
      boxes.push(item.bbox as number[]);
    }
    expect(collection.extent.temporal.interval).toEqual([
      [new Date(Math.min(...times)).toISOString(), new Date(Math.max(...times)).toISOString()],
    ]);
    expect(collection.extent.spatial.bbox).toEqual([
      [
        Math.min(...boxes.map((b) => b[0]!)),
        Math.min(...boxes.map((b) => b[1]!)),
        Math.max(...boxes.map((b) => b[2]!)),
        Math.max(...boxes.map((b) => b[3]!)),
      ],
    ]);

    // catalog.json at the target is the campaign's now (not the last order's), leading to the collection.
    const catalog = await json(`${prefix}/catalog.json`);
    expect(stacCatalogProblems(catalog)).toEqual([]);
    expect(catalog.id).toBe(report.workflowId);
    expect((catalog.links as Json[]).map((l) => [l.rel, l.href])).toEqual([
      ['root', './catalog.json'],
      ['child', './collection.json'],
    ]);
  });
});
