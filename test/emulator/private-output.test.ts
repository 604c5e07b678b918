/**
 * PRIVATE output against the test stack's real S3 server: the product lands in the order's bucket
 * under the configured key layout (single PUT and multipart), and S3 errors fail the item with
 * the S3 error in its message.
 */
import { createHash } from 'node:crypto';
import { type EmulatorHandle } from '../../src/emulator';
import { productDigest } from '../../src/emulator/product';
import { S2_EXAMPLE, dedlToken, odp, startTestEmulator, waitForItems } from './helpers';
import { freshBucket, listKeys, objectBytes, stackS3 } from './s3-helpers';

const MiB = 1024 * 1024;

function privateOrder(
  name: string,
  o: { bucket: string; prefix: string; endpoint: string; accessKey: string; secretKey: string },
) {
  return {
    Name: name,
    WorkflowName: 'data-harvest',
    IdentifierList: [S2_EXAMPLE],
    WorkflowOptions: [
      { Name: 'output_storage', Value: 'PRIVATE' },
      { Name: 'output_s3_access_key', Value: o.accessKey },
      { Name: 'output_s3_secret_key', Value: o.secretKey },
      { Name: 'output_s3_path', Value: `s3://${o.bucket}/${o.prefix}` },
      { Name: 'output_s3_endpoint_url', Value: o.endpoint },
      { Name: 'source_type', Value: 'DESP' },
      { Name: 'desp_source_username', Value: 'demo' },
      { Name: 'desp_source_password', Value: 'demo' },
      { Name: 'desp_source_collection', Value: 'EO.ESA.DAT.SENTINEL-2.MSI.L1C' },
    ],
  };
}

describe('emulator PRIVATE output', () => {
  const s3 = stackS3();
  let bucket: string;
  const started: EmulatorHandle[] = [];
  const start = async (options: Parameters<typeof startTestEmulator>[0]) => {
    const emu = await startTestEmulator({ s3Region: s3.region, ...options });
    started.push(emu);
    return emu;
  };
  const target = (prefix: string, more: Partial<Parameters<typeof privateOrder>[1]> = {}) => ({
    bucket,
    prefix,
    endpoint: s3.endpoint,
    accessKey: s3.accessKeyId,
    secretKey: s3.secretAccessKey,
    ...more,
  });

  beforeAll(async () => {
    bucket = await freshBucket(s3.client, 'private-output');
  });
  afterAll(async () => {
    await Promise.all(started.map((e) => e.close()));
    s3.client.destroy();
  });

  it('writes the product under <prefix>/<identifier>.zip with the exact bytes', async () => {
    const emu = await start({ productSize: 300_000 });
    const token = await dedlToken(emu.url);
    const res = await odp(emu, token).post(
      'BatchOrder/OData.CSC.Order',
      privateOrder('private put', target('runs/one')),
    );
    expect(res.status).toBe(201);
    const [item] = await waitForItems(emu, token, res.json.value.Id, ['completed']);
    expect(item).toMatchObject({ ProcessedName: S2_EXAMPLE, ProcessedSize: 300_000, DownloadLink: null });
    const key = `runs/one/${S2_EXAMPLE}.zip`;
    expect(await listKeys(s3.client, bucket, 'runs/one/')).toEqual([key]);
    const body = await objectBytes(s3.client, bucket, key);
    expect(createHash('sha256').update(body).digest('hex')).toBe(
      (await productDigest({ identifier: S2_EXAMPLE, size: 300_000 })).sha256,
    );
  });

  it('uses the configured key layout and multipart uploads for large products', async () => {
    const size = 11 * MiB + 123;
    const emu = await start({
      productSize: size,
      privateKeyTemplate: '{prefix}/{orderId}/{itemId}-{identifier}.zip',
      multipartThresholdBytes: 5 * MiB,
      multipartPartBytes: 5 * MiB,
    });
    const token = await dedlToken(emu.url);
    const res = await odp(emu, token).post(
      'BatchOrder/OData.CSC.Order',
      privateOrder('private multipart', target('big')),
    );
    const orderId = res.json.value.Id;
    const [item] = await waitForItems(emu, token, orderId, ['completed', 'failed'], 60_000);
    expect(item.Status).toBe('completed');
    const key = `big/${orderId}/${item.Id}-${S2_EXAMPLE}.zip`;
    expect(await listKeys(s3.client, bucket, 'big/')).toEqual([key]);
    const body = await objectBytes(s3.client, bucket, key);
    expect(body.length).toBe(size);
    expect(createHash('sha256').update(body).digest('hex')).toBe(
      (await productDigest({ identifier: S2_EXAMPLE, size })).sha256,
    );
  });

  it('maps a real DEDL endpoint to the local S3 with s3EndpointMap', async () => {
    const real = 'https://s3.central.data.destination-earth.eu';
    const emu = await start({ s3EndpointMap: { [real]: s3.endpoint } });
    const token = await dedlToken(emu.url);
    const res = await odp(emu, token).post(
      'BatchOrder/OData.CSC.Order',
      privateOrder('mapped', target('mapped', { endpoint: real })),
    );
    const [item] = await waitForItems(emu, token, res.json.value.Id, ['completed', 'failed']);
    expect(item.Status).toBe('completed');
    expect(await listKeys(s3.client, bucket, 'mapped/')).toHaveLength(1);
  });

  it.each([
    ['a wrong secret key', { secretKey: 'not-the-secret' }, /SignatureDoesNotMatch/],
    ['a missing bucket', { bucket: 'no-such-bucket-for-emulator' }, /NoSuchBucket/],
  ])('fails the item with the S3 error for %s', async (_label, more, pattern) => {
    const emu = await start({});
    const token = await dedlToken(emu.url);
    const api = odp(emu, token);
    const res = await api.post('BatchOrder/OData.CSC.Order', privateOrder('private failure', target('fail', more)));
    const [item] = await waitForItems(emu, token, res.json.value.Id, ['completed', 'failed']);
    expect(item.Status).toBe('failed');
    expect(item.StatusMessage).toMatch(pattern);
    expect(item.StatusMessage).toMatch(/^Failed to write output to s3:\/\//);
    expect(item.StatusMessage).not.toContain('not-the-secret');
    const order = (await api.get(`ProductionOrders(${res.json.value.Id})`)).json;
    expect(order).toMatchObject({ Status: 'failed', StatusMessage: item.StatusMessage });
  });
});
