/** Contract tests of the ODP OData API: shapes, field names, id types, contexts, status codes. */
import { createHash } from 'node:crypto';
import { type EmulatorHandle } from '../../src/emulator';
import { productDigest } from '../../src/emulator/product';
import {
  S2_EXAMPLE,
  S2_L1C,
  bytes,
  dedlToken,
  http,
  odp,
  stacIds,
  startTestEmulator,
  temporaryOrder,
  waitForItems,
} from './helpers';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('emulator OData API', () => {
  let emu: EmulatorHandle;
  let api: ReturnType<typeof odp>;
  let other: ReturnType<typeof odp>;
  let ids: string[];

  beforeAll(async () => {
    emu = await startTestEmulator({ accounts: [{ username: 'bob', password: 'bob' }] });
    const token = await dedlToken(emu.url);
    api = odp(emu, token);
    other = odp(emu, await dedlToken(emu.url, 'bob', 'bob'));
    ids = (await stacIds(emu.url, token, S2_L1C, 5)).filter((id) => id !== S2_EXAMPLE).slice(0, 3);
  });
  afterAll(() => emu.close());

  describe('Workflows', () => {
    it('lists workflows ordered by Id with string ids and no options', async () => {
      const res = await api.get('Workflows?$orderby=Id%20asc');
      expect(res.status).toBe(200);
      expect(res.json['@odata.context']).toBe('$metadata#Workflows/$entity');
      const list = res.json.value as Record<string, unknown>[];
      expect(list.map((w) => Number(w['Id']))).toEqual([...list.map((w) => Number(w['Id']))].sort((a, b) => a - b));
      const dh = list.find((w) => w['Name'] === 'data-harvest');
      expect(dh).toMatchObject({
        Id: '11',
        Uuid: null,
        DisplayName: 'Data harvest',
        WorkflowVersion: '0.0.1',
        CustomInputSource: false,
      });
      expect(Object.keys(dh ?? {})).toEqual([
        'Id',
        'Uuid',
        'Name',
        'DisplayName',
        'Documentation',
        'Description',
        'InputProductType',
        'InputProductTypes',
        'OutputProductType',
        'OutputProductTypes',
        'WorkflowVersion',
        'CustomInputSource',
        'InputProductStatusOffline',
      ]);
      const desc = await api.get('Workflows?$orderby=Id desc');
      expect(desc.json.value[0].Id).toBe('46');
    });

    it.each(["$filter=(Name eq 'data-harvest')", "$filter=Name eq 'data-harvest'"])(
      'expands options of data-harvest with %s',
      async (filter) => {
        const res = await api.get(`Workflows?$expand=WorkflowOptions&${encodeURI(filter)}`);
        expect(res.status).toBe(200);
        expect(res.json.value).toHaveLength(1);
        const options = res.json.value[0].WorkflowOptions as {
          Name: string;
          Type: string;
          Value: { value: string; condition: null }[] | null;
          Required: boolean;
          Default: unknown;
        }[];
        // As recorded on 2024-09-02: allowed values as objects, `Required` on nearly everything.
        expect(options.find((o) => o.Name === 'output_storage')).toEqual({
          Name: 'output_storage',
          Description: expect.any(String),
          Type: 'str',
          Default: null,
          Value: [
            { value: 'PRIVATE', condition: null },
            { value: 'TEMPORARY', condition: null },
          ],
          Required: true,
        });
        expect(options.find((o) => o.Name === 'source_type')).toMatchObject({
          Default: 'EXTERNAL',
          Value: [
            { value: 'DESP', condition: null },
            { value: 'EXTERNAL', condition: null },
          ],
          Required: true,
        });
        for (const name of [
          'output_s3_access_key',
          'output_s3_secret_key',
          'output_s3_path',
          'output_s3_endpoint_url',
          'desp_source_username',
          'desp_source_password',
          'desp_source_collection',
          'source_catalogue_api_url',
          'source_client_secret',
        ]) {
          expect(options.map((o) => o.Name)).toContain(name);
        }
      },
    );

    it('rejects malformed $filter with 400', async () => {
      const res = await api.get(`Workflows?$filter=${encodeURIComponent("Name eq 'x")}`);
      expect(res.status).toBe(400);
      expect(res.json.detail).toMatch(/\$filter/);
    });
  });

  describe('creating orders', () => {
    it('creates a batch order: 201, the recorded answer with platform/version added and secrets encrypted', async () => {
      const res = await api.post('BatchOrder/OData.CSC.Order', temporaryOrder('contract create', [S2_EXAMPLE]));
      expect(res.status).toBe(201);
      expect(res.json['@odata.context']).toBe('#metadata/Odata.CSC.BatchOrder');
      const v = res.json.value;
      expect(typeof v.Id).toBe('number');
      expect(v).toMatchObject({
        Status: 'queued',
        Name: 'contract create',
        WorkflowName: 'data-harvest',
        WorkflowId: 17,
        WorkflowDisplayName: 'Data harvest',
        WorkflowVersion: '0.0.1',
        Priority: 1,
        EstimatedDate: null,
      });
      expect(typeof v.KeycloakUUID).toBe('string');
      expect(v.SubmissionDate).toMatch(ISO_MS);
      expect(v.WorkflowOptions.slice(0, 2)).toEqual([
        { Name: 'platform', Value: 'dedl' },
        { Name: 'version', Value: '0.0.1' },
      ]);
      const password = v.WorkflowOptions.find((o: { Name: string }) => o.Name === 'desp_source_password');
      expect(password.Value).toMatch(/^gAAAAAB[A-Za-z0-9_-]+=*$/);
      expect(v.WorkflowOptions).toContainEqual({ Name: 'desp_source_username', Value: 'demo' });
    });

    it('accepts a JSON body with a Content-Type header too', async () => {
      const res = await http(`${emu.odataUrl}BatchOrder/OData.CSC.Order`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await dedlToken(emu.url)}`, 'content-type': 'application/json' },
        body: JSON.stringify(temporaryOrder('with content type', [S2_EXAMPLE])),
      });
      expect(res.status).toBe(201);
    });

    it('answers 422 with FastAPI details for missing fields', async () => {
      const res = await api.post('BatchOrder/OData.CSC.Order', { Name: 'x', IdentifierList: [S2_EXAMPLE] });
      expect(res.status).toBe(422);
      expect(res.json).toEqual({
        detail: [{ loc: ['body', 'WorkflowName'], msg: 'field required', type: 'value_error.missing' }],
      });
      const notJson = await http(`${emu.odataUrl}BatchOrder/OData.CSC.Order`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await dedlToken(emu.url)}` },
        body: '{nope',
      });
      expect(notJson.status).toBe(422);
      expect(notJson.json.detail[0].type).toBe('value_error.jsondecode');
      const empty = await api.post('BatchOrder/OData.CSC.Order', { ...temporaryOrder('x', []) });
      expect(empty.status).toBe(422);
      expect(empty.json.detail[0].type).toBe('value_error.list.min_items');
    });

    const withOptions = (options: { Name: string; Value: unknown }[]) => ({
      ...temporaryOrder('bad', [S2_EXAMPLE]),
      WorkflowOptions: options,
    });
    const desp = [
      { Name: 'source_type', Value: 'DESP' },
      { Name: 'desp_source_username', Value: 'demo' },
      { Name: 'desp_source_password', Value: 'demo' },
      { Name: 'desp_source_collection', Value: 'EO.ESA.DAT.SENTINEL-2.MSI.L1C' },
    ];
    it.each([
      [
        'an unknown workflow',
        { ...temporaryOrder('bad', [S2_EXAMPLE]), WorkflowName: 'no-such-hook' },
        /Workflow 'no-such-hook' does not exist/,
      ],
      [
        'an unknown option',
        withOptions([{ Name: 'output_storage', Value: 'TEMPORARY' }, ...desp, { Name: 'colour', Value: 'red' }]),
        /Unknown option 'colour'/,
      ],
      [
        'a value outside Value',
        withOptions([{ Name: 'output_storage', Value: 'DISK' }, ...desp]),
        /'output_storage'.*PRIVATE, TEMPORARY/,
      ],
      [
        'PRIVATE without s3 options',
        withOptions([{ Name: 'output_storage', Value: 'PRIVATE' }, ...desp]),
        /output_s3_access_key/,
      ],
      [
        'DESP without its options',
        withOptions([
          { Name: 'output_storage', Value: 'TEMPORARY' },
          { Name: 'source_type', Value: 'DESP' },
        ]),
        /desp_source_username/,
      ],
      [
        'S3 options with TEMPORARY',
        withOptions([
          { Name: 'output_storage', Value: 'TEMPORARY' },
          ...desp,
          { Name: 'output_s3_path', Value: 's3://b/p' },
        ]),
        /output_s3_path/,
      ],
    ])('answers 400 with a detail naming the problem for %s', async (_label, body, pattern) => {
      const res = await api.post('BatchOrder/OData.CSC.Order', body);
      expect(res.status).toBe(400);
      expect(res.json.detail).toMatch(pattern);
    });

    it('creates a single-input production order', async () => {
      const { IdentifierList: _ids, ...rest } = temporaryOrder('single', [S2_EXAMPLE]);
      const res = await api.post('ProductionOrder/OData.CSC.Order', {
        ...rest,
        InputProductReference: { Reference: S2_EXAMPLE, ContentDate: null },
      });
      expect(res.status).toBe(201);
      expect(res.json['@odata.context']).toBe('$metadata#OData.CSC.Order');
      expect(res.json.value.InputProductReference).toEqual({ Reference: S2_EXAMPLE, ContentDate: null });
    });
  });

  describe('orders, items and downloads', () => {
    let orderId: string;
    beforeAll(async () => {
      const res = await api.post('BatchOrder/OData.CSC.Order', temporaryOrder('contract items-run', ids));
      orderId = String(res.json.value.Id);
    });

    it('lists items with numeric ids and the observed context', async () => {
      const res = await api.get(`BatchOrder(${orderId})/Products`);
      expect(res.status).toBe(200);
      expect(res.json['@odata.context']).toBe('#metadata/OData.CSC.BatchorderItem');
      expect(res.json.value).toHaveLength(ids.length);
      const item = res.json.value[0];
      expect(Object.keys(item)).toEqual([
        'Id',
        'BatchOrderId',
        'InputProductReference',
        'SubmissionDate',
        'Status',
        'ProcessedName',
        'ProcessedSize',
        'OutputUUID',
        'StatusMessage',
        'CompletedDate',
        'DownloadLink',
        'NotificationStatus',
      ]);
      expect(typeof item.Id).toBe('number');
      expect(item.BatchOrderId).toBe(Number(orderId));
      expect(item.InputProductReference).toBe(ids[0]);
    });

    it('completes items with ProcessedSize, a signed DownloadLink, the recorded message and a CompletedDate', async () => {
      const items = await waitForItems(emu, await dedlToken(emu.url), orderId);
      for (const item of items) {
        expect(item).toMatchObject({
          Status: 'completed',
          StatusMessage: 'Processing finished successfully',
          ProcessedSize: 8192,
          OutputUUID: null,
        });
        expect(item.CompletedDate).toMatch(ISO_MS);
        expect(item.ProcessedName).toBe(item.InputProductReference);
        const link = new URL(item.DownloadLink);
        expect(link.origin).toBe(emu.url);
        expect(link.pathname).toMatch(new RegExp(`^/swift/v1/tmp-storage/\\d{8}_${item.Id}_[A-Za-z0-9]{8}\\.zip$`));
        expect(link.searchParams.get('temp_url_sig')).toMatch(/^[0-9a-f]{40}$/);
        const expires = Number(link.searchParams.get('temp_url_expires'));
        expect(expires - Date.now() / 1000).toBeGreaterThan(14 * 86400 - 60);
        expect(expires - Date.now() / 1000).toBeLessThanOrEqual(14 * 86400);
      }
    });

    it('gets the order as a bare entity from BatchOrder(id) and ProductionOrders(id)', async () => {
      const b = await api.get(`BatchOrder(${orderId})`);
      expect(b.status).toBe(200);
      expect(b.json).toMatchObject({
        '@odata.context': '$metadata#BatchOrder/$entity',
        Id: orderId,
        Status: 'completed',
      });
      const p = await api.get(`ProductionOrders(${orderId})`);
      expect(p.json['@odata.context']).toBe('$metadata#ProductionOrder/$entity');
      expect(Object.keys(p.json).slice(1)).toEqual([
        'Id',
        'Status',
        'StatusMessage',
        'SubmissionDate',
        'Name',
        'EstimatedDate',
        'InputProductReference',
        'WorkflowOptions',
        'WorkflowName',
        'WorkflowId',
        'Priority',
        'NotificationEndpoint',
        'NotificationEpUsername',
        'NotificationStatus',
      ]);
      expect(p.json).toMatchObject({
        Id: orderId,
        Status: 'completed',
        StatusMessage: 'requested output product is available',
        WorkflowId: 11,
      });
    });

    it('gets one item and downloads it through $value (302 to the signed link)', async () => {
      const items = (await api.get(`BatchOrder(${orderId})/Products`)).json.value;
      const one = await api.get(`BatchOrder(${orderId})/Product(${items[0].Id})`);
      expect(one.status).toBe(200);
      expect(one.json.Id).toBe(items[0].Id);
      const redirect = await api.get(`BatchOrder(${orderId})/Product(${items[0].Id})/$value`);
      expect(redirect.status).toBe(302);
      expect(redirect.headers['location']).toBe(items[0].DownloadLink);
      const head = await http(String(redirect.headers['location']), { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers['content-length']).toBe('8192');
      expect(head.headers['accept-ranges']).toBe('bytes');
      const body = await bytes(String(redirect.headers['location']));
      expect(body.status).toBe(200);
      expect(body.headers['content-type']).toBe('application/zip');
      const digest = await productDigest({ identifier: items[0].InputProductReference, size: 8192 });
      expect(body.body.length).toBe(digest.size);
      expect(createHash('sha256').update(body.body).digest('hex')).toBe(digest.sha256);
    });

    it('filters, pages and counts ProductionOrders and BatchOrder', async () => {
      const byId = await api.get(`ProductionOrders?$filter=${encodeURIComponent(`id eq ${orderId}`)}`);
      expect(byId.json.value.map((o: { Id: string }) => o.Id)).toEqual([orderId]);
      const byIdCaps = await api.get(`ProductionOrders?$filter=${encodeURIComponent(`Id eq '${orderId}'`)}`);
      expect(byIdCaps.json.value).toHaveLength(1);
      const suffix = await api.get(`ProductionOrders?$filter=${encodeURIComponent("(endswith(Name,'items-run'))")}`);
      expect(suffix.json.value.map((o: { Id: string }) => o.Id)).toEqual([orderId]);
      const both = await api.get(
        `BatchOrder?$filter=${encodeURIComponent("contains(Name,'contract') and Status eq 'completed' and WorkflowName eq 'data-harvest'")}`,
      );
      expect(both.json['@odata.context']).toBe('$metadata#BatchOrder');
      expect(both.json.value.map((o: { Id: string }) => o.Id)).toContain(orderId);
      const all = await api.get('ProductionOrders?$count=true');
      const total = all.json['@odata.count'] as number;
      expect(total).toBeGreaterThanOrEqual(4);
      const page = await api.get('ProductionOrders?$top=2&$skip=1&$count=true');
      expect(page.json.value).toHaveLength(2);
      expect(page.json['@odata.count']).toBe(total);
      expect(page.json.value[0].Id).toBe(all.json.value[1].Id);
      expect(new URL(page.json['@odata.nextLink']).searchParams.get('$skip')).toBe('3');
      const completedItems = await api.get(
        `BatchOrder(${orderId})/Products?$filter=${encodeURIComponent("Status eq 'completed'")}&$top=1`,
      );
      expect(completedItems.json.value).toHaveLength(1);
    });

    it("hides other users' orders (404)", async () => {
      expect((await other.get(`BatchOrder(${orderId})`)).status).toBe(404);
      expect((await other.get(`ProductionOrders(${orderId})`)).status).toBe(404);
      expect((await other.get('ProductionOrders')).json.value).toEqual([]);
      expect((await other.post(`BatchOrder(${orderId})/OData.CSC.Cancel`)).status).toBe(404);
    });

    it('answers 404 for unknown orders and items, 405 for wrong methods', async () => {
      expect((await api.get('BatchOrder(999999999)')).status).toBe(404);
      expect((await api.get(`BatchOrder(${orderId})/Product(1)`)).status).toBe(404);
      expect((await api.post('Workflows')).status).toBe(405);
      expect((await api.get('NoSuchSet')).status).toBe(404);
    });
  });

  describe('$value before completion and cancel actions', () => {
    it('answers 409 while the item is not completed, then cancel makes it cancelled (and 404)', async () => {
      const slow = await startTestEmulator({ timing: { queuedMs: 60_000, processingMs: 60_000 } });
      try {
        const s = odp(slow, await dedlToken(slow.url));
        const created = await s.post('BatchOrder/OData.CSC.Order', temporaryOrder('slow', [S2_EXAMPLE]));
        const id = String(created.json.value.Id);
        const item = (await s.get(`BatchOrder(${id})/Products`)).json.value[0];
        const early = await s.get(`BatchOrder(${id})/Product(${item.Id})/$value`);
        expect(early.status).toBe(409);
        expect(early.json.detail).toContain('queued');
        const cancelled = await s.post(`BatchOrder(${id})/OData.CSC.Cancel`);
        expect(cancelled.status).toBe(200);
        expect(cancelled.json.value).toMatchObject({ Id: id, Status: 'cancelled' });
        const items = (await s.get(`BatchOrder(${id})/Products`)).json.value;
        expect(items[0]).toMatchObject({ Status: 'cancelled', StatusMessage: 'request was cancelled by the user' });
        expect((await s.get(`BatchOrder(${id})/Product(${item.Id})/$value`)).status).toBe(404);
        const again = await s.post(`ProductionOrder(${id})/OData.CSC.Cancel`);
        expect(again.status).toBe(200);
        expect(again.json.value.Status).toBe('cancelled');
      } finally {
        await slow.close();
      }
    });
  });
});
