/**
 * Replays, over HTTP, the exact call sequence of the official Hook tutorial
 * (shared/seed/hook-tutorial-data-harvest.txt): destinelab login (client dedl-hda), list workflows,
 * expand data-harvest, order with TEMPORARY and with PRIVATE storage, ProductionOrders by id,
 * Products, `$value` downloads, then list the private bucket with the list_objects_v2 paginator.
 * Needs the test stack's S3 server.
 */
import { createHash } from 'node:crypto';
import { type S3Client } from '@aws-sdk/client-s3';
import { type EmulatorHandle } from '../../src/emulator';
import { productDigest } from '../../src/emulator/product';
import {
  HDA_REDIRECT,
  S2_EXAMPLE,
  bytes,
  codeOf,
  despTokenFromCode,
  exchange,
  http,
  openLogin,
  postForm,
  startTestEmulator,
  waitForItems,
} from './helpers';
import { freshBucket, listKeys, stackS3 } from './s3-helpers';

describe('the Hook tutorial, replayed against the emulator', () => {
  let emu: EmulatorHandle;
  let s3: ReturnType<typeof stackS3>;
  let bucket: string;
  let client: S3Client;

  beforeAll(async () => {
    s3 = stackS3();
    client = s3.client;
    bucket = await freshBucket(client, 'tutorial');
    emu = await startTestEmulator({ productSize: 200_000, s3Region: s3.region });
  });
  afterAll(async () => {
    await emu.close();
    client.destroy();
  });

  it('runs every step of the notebook', async () => {
    const root = emu.odataUrl;
    const DESP_USERNAME = 'demo';
    const DESP_PASSWORD = 'demo';

    // destinelab.AuthHandler(DESP_USERNAME, DESP_PASSWORD).get_token(): DESP login with dedl-hda, then exchange.
    const login = await openLogin(emu.url, 'dedl-hda', HDA_REDIRECT);
    const code = codeOf(await postForm(login.action, login.jar, { username: DESP_USERNAME, password: DESP_PASSWORD }));
    const desp = await despTokenFromCode(emu.url, code, 'dedl-hda', HDA_REDIRECT);
    const dedl = await exchange(emu.url, desp.json.access_token);
    const access_token = dedl.json.access_token as string;
    expect(typeof access_token).toBe('string');
    const api_headers = { Authorization: 'Bearer ' + access_token };

    // List available workflows
    let result = (await http(`${root}Workflows?$orderby=Id%20asc`, { headers: api_headers })).json;
    const names = (result.value as { Name: string; DisplayName: string }[]).map((w) => w.Name);
    expect(names).toContain('data-harvest');

    // Select a workflow and see parameters
    const workflow = 'data-harvest';
    result = (
      await http(`${root}Workflows?$expand=WorkflowOptions&$filter=(Name%20eq%20'${workflow}')`, {
        headers: api_headers,
      })
    ).json;
    expect(result.value).toHaveLength(1);
    expect(result.value[0].Name).toBe(workflow);
    expect(result.value[0].WorkflowOptions.length).toBeGreaterThan(10);

    const order_name = 'tutorial-run-001';
    const output_bucket = bucket;
    const output_storage_url = s3.endpoint;
    const output_prefix = `dedl-${workflow}-${order_name}`;
    const collection_id = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';
    const identifier_list = [S2_EXAMPLE];

    const orderBody = (isPrivate: boolean) => {
      const body = {
        Name: 'Tutorial ' + workflow + ' - ' + order_name,
        WorkflowName: workflow,
        IdentifierList: identifier_list,
        WorkflowOptions: [] as { Name: string; Value: string }[],
      };
      if (isPrivate) {
        body.WorkflowOptions.push(
          { Name: 'output_storage', Value: 'PRIVATE' },
          { Name: 'output_s3_access_key', Value: s3.accessKeyId },
          { Name: 'output_s3_secret_key', Value: s3.secretAccessKey },
          { Name: 'output_s3_path', Value: `s3://${output_bucket}/${output_prefix}` },
          { Name: 'output_s3_endpoint_url', Value: output_storage_url },
        );
      } else {
        body.WorkflowOptions.push({ Name: 'output_storage', Value: 'TEMPORARY' });
      }
      body.WorkflowOptions.push(
        { Name: 'source_type', Value: 'DESP' },
        { Name: 'desp_source_username', Value: DESP_USERNAME },
        { Name: 'desp_source_password', Value: DESP_PASSWORD },
        { Name: 'desp_source_collection', Value: collection_id },
      );
      return body;
    };

    /** Send order, then the status cells: ProductionOrders by id, then Products until completed. */
    const orderAndWait = async (is_private_storage: boolean) => {
      // requests.post(url, json.dumps(body), headers=api_headers): no Content-Type header.
      const order_request = await http(root + 'BatchOrder/OData.CSC.Order', {
        method: 'POST',
        headers: api_headers,
        body: JSON.stringify(orderBody(is_private_storage)),
      });
      expect(order_request.status).toBe(201);
      // The created order's Id is a number (recorded 2024-09-02); the notebook formats it into URLs.
      const order_id = String(order_request.json['value']['Id']);
      const echoed = order_request.json.value.WorkflowOptions as { Name: string; Value: string }[];
      expect(echoed.slice(0, 2).map((o) => o.Name)).toEqual(['platform', 'version']);
      // Secrets come back encrypted (a Fernet token), never in clear.
      expect(echoed.find((o) => o.Name === 'desp_source_password')?.Value).toMatch(/^gAAAAA/);
      expect(JSON.stringify(order_request.json)).not.toContain(s3.secretAccessKey);

      // len(identifier_list) == 1: ProductionOrders with params={"$filter": f"id eq {order_id}"},
      // which requests encodes form-style (%24filter=id+eq+…).
      const byId = await http(
        `${root}ProductionOrders?${new URLSearchParams({ $filter: `id eq ${order_id}` }).toString()}`,
        {
          headers: api_headers,
        },
      );
      expect(byId.status).toBe(200);
      expect(byId.json.value).toHaveLength(1);
      expect(byId.json.value[0].Id).toBe(order_id);
      expect(['queued', 'in_progress', 'completed']).toContain(byId.json.value[0].Status);

      // BatchOrder(id)/Products, re-run until every item is completed (as a user re-runs the cell).
      const items = await waitForItems(emu, access_token, order_id, ['completed']);
      expect(items).toHaveLength(1);
      return { order_id, items };
    };

    // TEMPORARY: download each product through $value (requests follows the redirect).
    const temporary = await orderAndWait(false);
    const product = temporary.items[0];
    const url_product = `${root}BatchOrder(${temporary.order_id})/Product(${product.Id})/$value`;
    const redirect = await http(url_product, { headers: api_headers });
    expect(redirect.status).toBe(302);
    const r = await bytes(String(redirect.headers['location']));
    expect(r.status).toBe(200);
    const expected = await productDigest({ identifier: S2_EXAMPLE, size: 200_000 });
    expect(createHash('sha256').update(r.body).digest('hex')).toBe(expected.sha256);
    expect(product.ProcessedSize).toBe(200_000);

    // PRIVATE: the item has no link; list the bucket under <prefix>/ with the list_objects_v2 paginator.
    const privateRun = await orderAndWait(true);
    expect(privateRun.items[0].DownloadLink).toBeNull();
    const keys = await listKeys(client, output_bucket, output_prefix + '/');
    expect(keys).toEqual([`${output_prefix}/${S2_EXAMPLE}.zip`]);
  });
});
