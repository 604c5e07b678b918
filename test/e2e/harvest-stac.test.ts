/**
 * Harvests ready for analysis, end to end (real Temporal, real S3, the emulator over HTTP): each
 * product lands where `output.layout` puts it, with a STAC Item beside it (geometry from the
 * catalogue, an asset whose size and sha256 are the file's own) and a `catalog.json` linking the
 * items by relative paths; all validated offline against the STAC 1.0.0 and file extension schemas.
 * The report, manifest and a campaign's ledger record the final locations. Unpacking (a folder, or
 * one S3 object per entry) removes what a killed attempt left and delivers the selected entries whole.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import {
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { productEntries } from '../../src/emulator/product';
import type { HarvestReport } from '../../src/shared/harvest-report';
import { type HarvestEnv, catalogueIdentifiers, request, startHarvestEnv } from '../helpers/harvest-env';
import { emulatorStats } from '../helpers/hook';
import { createTestBucket, s3CredentialEnv, stackS3Client } from '../helpers/s3';
import { stacCatalogProblems, stacItemProblems } from '../helpers/stac-validate';

const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';
const SIZE = 200_000;
const LAYOUT = '{collection}/{yyyy}/{mm}/{dd}/{identifier}.zip';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('STAC beside every product, in the layout asked for', () => {
  let env: HarvestEnv;
  let s3: S3Client;

  beforeAll(async () => {
    s3 = stackS3Client();
    env = await startHarvestEnv(
      { timing: { queuedMs: 20, processingMs: 50 }, productSize: SIZE },
      s3CredentialEnv('local'),
    );
  });
  afterAll(async () => {
    await env?.close();
    s3?.destroy();
  });

  /** Where the layout puts a product of the catalogue: collection and sensing date from its item. */
  const expectedPath = (identifier: string) => {
    const item = env.emulator.catalogue.getItem(COLLECTION, identifier)!;
    const [yyyy, mm, dd] = item.properties.datetime.slice(0, 10).split('-');
    return `${COLLECTION}/${yyyy}/${mm}/${dd}/${identifier}.zip`;
  };

  it('into a folder: files at the layout paths, valid sidecars and catalog, locations recorded', async () => {
    const identifiers = catalogueIdentifiers(env.emulator, COLLECTION, 3);
    const report: HarvestReport = await env.client.workflow.execute('harvest', {
      taskQueue: env.taskQueue,
      workflowId: `e2e-stac-local-${Date.now()}`,
      args: [request({ identifiers, output: { storage: 'TEMPORARY', sink: env.sinkUrl, layout: LAYOUT } })],
    });
    expect(report.outcome).toBe('delivered');

    const files = (await readdir(env.sinkDir, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => path.relative(env.sinkDir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
      .sort();
    const expected = identifiers.flatMap((id) => [expectedPath(id), expectedPath(id).replace(/\.zip$/, '.stac.json')]);
    expect(files).toEqual([...expected, 'catalog.json', 'manifest.json'].sort());

    const manifest = JSON.parse(await readFile(path.join(env.sinkDir, 'manifest.json'), 'utf8')) as HarvestReport;
    for (const identifier of identifiers) {
      const location = `${env.sinkUrl}/${expectedPath(identifier)}`;
      expect(report.items.find((i) => i.identifier === identifier)!.location).toBe(location);
      expect(manifest.items.find((i) => i.identifier === identifier)!.location).toBe(location);

      const productFile = fileURLToPath(location);
      const bytes = await readFile(productFile);
      const sidecar = JSON.parse(await readFile(productFile.replace(/\.zip$/, '.stac.json'), 'utf8')) as Json;
      expect(stacItemProblems(sidecar)).toEqual([]);
      const catalogueItem = env.emulator.catalogue.getItem(COLLECTION, identifier)!;
      expect(sidecar).toMatchObject({
        id: identifier,
        collection: COLLECTION,
        geometry: catalogueItem.geometry,
        bbox: catalogueItem.bbox,
        properties: { datetime: catalogueItem.properties.datetime },
      });
      expect(sidecar.assets).toEqual({
        product: {
          href: `./${identifier}.zip`,
          type: 'application/zip',
          roles: ['data'],
          'file:size': bytes.length,
          'file:checksum': `1220${createHash('sha256').update(bytes).digest('hex')}`,
        },
      });
    }

    const catalog = JSON.parse(await readFile(path.join(env.sinkDir, 'catalog.json'), 'utf8')) as Json;
    expect(stacCatalogProblems(catalog)).toEqual([]);
    const itemLinks = (catalog.links as Json[]).filter((l) => l.rel === 'item').map((l) => l.href as string);
    // Relative links that resolve to the sidecars written.
    expect(itemLinks.sort()).toEqual(
      identifiers.map((id) => `./${expectedPath(id).replace(/\.zip$/, '.stac.json')}`).sort(),
    );
  });

  it('into an S3 prefix: objects at the layout keys, a valid sidecar beside each, a catalog', async () => {
    const bucket = await createTestBucket(s3, 'stac-layout');
    const identifiers = catalogueIdentifiers(env.emulator, COLLECTION, 5).slice(3);
    const sink = `s3://${bucket}/harvests`;
    const report: HarvestReport = await env.client.workflow.execute('harvest', {
      taskQueue: env.taskQueue,
      workflowId: `e2e-stac-s3-${Date.now()}`,
      args: [
        request({ identifiers, output: { storage: 'TEMPORARY', sink, sinkCredentials: 'local', layout: LAYOUT } }),
      ],
    });
    expect(report.outcome).toBe('delivered');
    const object = async (key: string) => {
      const body = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!;
      return Buffer.from(await body.transformToByteArray());
    };
    for (const identifier of identifiers) {
      const key = `harvests/${expectedPath(identifier)}`;
      expect(report.items.find((i) => i.identifier === identifier)!.location).toBe(`s3://${bucket}/${key}`);
      const bytes = await object(key);
      const sidecar = JSON.parse((await object(key.replace(/\.zip$/, '.stac.json'))).toString('utf8')) as Json;
      expect(stacItemProblems(sidecar)).toEqual([]);
      expect(sidecar.assets.product).toMatchObject({
        href: `./${identifier}.zip`,
        'file:size': bytes.length,
        'file:checksum': `1220${createHash('sha256').update(bytes).digest('hex')}`,
      });
    }
    const catalog = JSON.parse((await object('harvests/catalog.json')).toString('utf8')) as Json;
    expect(stacCatalogProblems(catalog)).toEqual([]);
    expect((catalog.links as Json[]).filter((l) => l.rel === 'item')).toHaveLength(identifiers.length);
  });

  it('unpacks the verified product into its folder, keeping only the entries asked for, after a crash leftover', async () => {
    const [identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 7).slice(6);
    const sinkDir = path.join(env.sinkDir, 'unpacked');
    // What a worker killed mid-unpack leaves: a hidden temporary folder with a truncated entry.
    // The delivery removes it and unpacks whole; nothing half-made is ever under the final name.
    const stale = path.join(sinkDir, `.${identifier}.unpack-0badc0ffee00`);
    await mkdir(stale, { recursive: true });
    await writeFile(path.join(stale, 'MTD_MSIL1C.xml'), '<half');
    const report: HarvestReport = await env.client.workflow.execute('harvest', {
      taskQueue: env.taskQueue,
      workflowId: `e2e-stac-unpack-${Date.now()}`,
      args: [
        request({
          identifiers: [identifier!],
          output: { storage: 'TEMPORARY', sink: `${env.sinkUrl}/unpacked`, entries: ['*.xml', '*.safe'] },
        }),
      ],
    });
    expect(report.outcome).toBe('delivered');
    expect(report.items[0]!.location).toBe(`${env.sinkUrl}/unpacked/${identifier}/`);
    // The zip is gone (not kept), no temporary folder is left, the folder holds the selected entries only.
    expect((await readdir(sinkDir)).sort()).toEqual(
      [identifier!, `${identifier}.stac.json`, 'catalog.json', 'manifest.json'].sort(),
    );
    const wanted = productEntries({ identifier: identifier!, size: SIZE }).filter((e) => /\.(xml|safe)$/.test(e.name));
    const sidecar = JSON.parse(await readFile(path.join(sinkDir, `${identifier}.stac.json`), 'utf8')) as Json;
    expect(stacItemProblems(sidecar)).toEqual([]);
    expect(Object.keys(sidecar.assets as Json)).toHaveLength(wanted.length);
    for (const entry of wanted) {
      const inside = entry.name.slice(entry.name.indexOf('/') + 1);
      const bytes = await readFile(path.join(sinkDir, identifier!, inside));
      expect(crc32(bytes) >>> 0).toBe(entry.crc32 >>> 0);
      expect(sidecar.assets[inside]).toMatchObject({
        href: `./${identifier}/${inside}`,
        'file:size': bytes.length,
        'file:checksum': `1220${createHash('sha256').update(bytes).digest('hex')}`,
      });
    }
  });

  it('unpacks into an S3 prefix: one object per selected entry, staging leftovers gone, the sidecar beside it', async () => {
    const bucket = await createTestBucket(s3, 'stac-unpack');
    const [identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 8).slice(7);
    // What a worker killed mid-unpack leaves: a staged object and an unfinished upload.
    const stale = `unpacked/.${identifier}.unpacking-0badc0ffee00/`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${stale}MTD_MSIL1C.xml`, Body: '<half' }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `${stale}x_B04.jp2` }));
    const report: HarvestReport = await env.client.workflow.execute('harvest', {
      taskQueue: env.taskQueue,
      workflowId: `e2e-stac-unpack-s3-${Date.now()}`,
      args: [
        request({
          identifiers: [identifier!],
          output: {
            storage: 'TEMPORARY',
            sink: `s3://${bucket}/unpacked`,
            sinkCredentials: 'local',
            entries: ['*.xml', '*_B0?.jp2'],
            keepZip: true,
          },
        }),
      ],
    });
    expect(report.outcome).toBe('delivered');
    expect(report.items[0]!.location).toBe(`s3://${bucket}/unpacked/${identifier}/`);
    const object = async (key: string) => {
      const body = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!;
      return Buffer.from(await body.transformToByteArray());
    };
    const wanted = productEntries({ identifier: identifier!, size: SIZE }).filter((e) =>
      /(\.xml|_B0.\.jp2)$/.test(e.name),
    );
    expect(wanted.some((e) => e.name.endsWith('.jp2'))).toBe(true);
    const inside = (name: string) => name.slice(name.indexOf('/') + 1);
    // The kept zip, its folder's objects, the sidecar, catalog and manifest: no staging object, no upload.
    const keys = ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key);
    expect(keys.sort()).toEqual(
      [
        `unpacked/${identifier}.zip`,
        `unpacked/${identifier}.stac.json`,
        'unpacked/catalog.json',
        'unpacked/manifest.json',
        ...wanted.map((e) => `unpacked/${identifier}/${inside(e.name)}`),
      ].sort(),
    );
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual([]);
    const sidecar = JSON.parse((await object(`unpacked/${identifier}.stac.json`)).toString('utf8')) as Json;
    expect(stacItemProblems(sidecar)).toEqual([]);
    expect(Object.keys(sidecar.assets as Json)).toHaveLength(wanted.length + 1); // + the kept zip
    for (const entry of wanted) {
      const bytes = await object(`unpacked/${identifier}/${inside(entry.name)}`);
      expect(bytes.length).toBe(entry.size);
      expect(crc32(bytes) >>> 0).toBe(entry.crc32 >>> 0);
      const asset = Object.values(sidecar.assets as Json).find(
        (a: Json) => a.href === `./${identifier}/${inside(entry.name)}`,
      );
      expect(asset).toMatchObject({
        'file:size': bytes.length,
        'file:checksum': `1220${createHash('sha256').update(bytes).digest('hex')}`,
      });
    }
    expect(sidecar.assets.product).toMatchObject({ href: `./${identifier}.zip`, 'file:size': SIZE });
  });

  it('an invalid layout is refused before anything is ordered, naming the field', async () => {
    const ordersBefore = (await emulatorStats(env.emulator)).ordersCreated;
    const run = env.client.workflow.execute('harvest', {
      taskQueue: env.taskQueue,
      workflowId: `e2e-stac-bad-layout-${Date.now()}`,
      args: [
        request({
          identifiers: catalogueIdentifiers(env.emulator, COLLECTION, 1),
          output: { storage: 'TEMPORARY', sink: env.sinkUrl, layout: '../{date}/{identifier}.zip' },
        }),
      ],
    });
    await expect(run).rejects.toMatchObject({
      cause: { message: expect.stringMatching(/output\.layout: .*\{date\}/) },
    });
    expect((await emulatorStats(env.emulator)).ordersCreated).toBe(ordersBefore);
  });
});
