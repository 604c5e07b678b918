/**
 * The official notebooks' call sequences (DestinE-DataLake-Lab `HOOK/`), replayed unchanged over
 * HTTP: the raw requests Python `requests` sends for each cell — URLs concatenated as the notebook
 * does (double slash after `auth.destine.eu/`, unencoded `$filter` text with spaces sent as %20 and
 * `+` kept), form scraping with `forms[0]`, orders posted as a JSON string without Content-Type,
 * downloads with redirects followed. One test per notebook.
 */
import { type EmulatorHandle } from '../../src/emulator';
import {
  CookieJar,
  EXCHANGE_FIELDS,
  HOOK_REDIRECT,
  type HttpResult,
  S2_EXAMPLE,
  bytes,
  form,
  formAction,
  http,
  startTestEmulator,
  waitFor,
} from './helpers';

/** What `requests` does to a URL before sending it (`requote_uri`): spaces become %20, quotes and parentheses stay. */
const requote = (url: string) => url.replaceAll(' ', '%20');

/** `requests.Session()`: one cookie jar across calls, redirects not followed unless asked. */
class Session {
  readonly jar = new CookieJar();
  async get(url: string, params?: Record<string, string>): Promise<HttpResult> {
    const res = await http(requote(params ? `${url}?${new URLSearchParams(params).toString()}` : url), {
      headers: { cookie: this.jar.header() },
    });
    this.jar.take(res.headers);
    return res;
  }
  async post(url: string, data: Record<string, string>): Promise<HttpResult> {
    const f = form(data);
    const res = await http(requote(url), {
      method: 'POST',
      headers: { ...f.headers, cookie: this.jar.header() },
      body: f.body,
    });
    this.jar.take(res.headers);
    return res;
  }
}

/**
 * `DESPAuth(...).get_token()` then `DEDLAuth(...).get_token()` of DEDL-Hook_access.ipynb and
 * DEDL-Hook_data_harvest.ipynb (2025): client `dedl-hook`, the ODP root as redirect, `IAM_URL`
 * with a trailing slash followed by `"/realms/"`.
 */
async function notebookLogin(emu: EmulatorHandle, username: string, password: string): Promise<string> {
  const IAM_URL = `${emu.url}/`;
  const CLIENT_ID = 'dedl-hook';
  const REALM = 'desp';
  const SERVICE_URL = HOOK_REDIRECT;
  const s = new Session();
  const page = await s.get(IAM_URL + '/realms/' + REALM + '/protocol/openid-connect/auth', {
    client_id: CLIENT_ID,
    redirect_uri: SERVICE_URL,
    scope: 'openid',
    response_type: 'code',
  });
  expect(page.status).toBe(200);
  const auth_url = formAction(page.text); // html.fromstring(...).forms[0].action
  const login = await s.post(auth_url, { username, password }); // allow_redirects=False
  expect(login.status).toBe(302);
  const auth_code = new URL(String(login.headers['location'])).searchParams.get('code')!;
  const response = await new Session().post(IAM_URL + '/realms/' + REALM + '/protocol/openid-connect/token', {
    client_id: CLIENT_ID,
    redirect_uri: SERVICE_URL,
    code: auth_code,
    grant_type: 'authorization_code',
    scope: '',
  });
  expect(response.status).toBe(200);
  const DEDL_TOKEN_URL = `${emu.url}/auth/realms/dedl/protocol/openid-connect/token`;
  const dedl = await new Session().post(DEDL_TOKEN_URL, {
    ...EXCHANGE_FIELDS,
    subject_token: response.json.access_token,
  });
  expect(dedl.status).toBe(200);
  return dedl.json.access_token as string;
}

/** `requests.get(url, headers=api_headers)`. */
const get = (url: string, api_headers: Record<string, string>) => http(requote(url), { headers: api_headers });

/** `requests.post(url, json.dumps(body), headers=api_headers)`: a JSON string, no Content-Type. */
const postJsonString = (url: string, body: unknown, api_headers: Record<string, string>) =>
  http(requote(url), { method: 'POST', headers: api_headers, body: JSON.stringify(body) });

/** `requests.get(url, headers=api_headers, allow_redirects=True)`. */
async function getFollowing(url: string, api_headers: Record<string, string>) {
  let next = url;
  for (let hop = 0; hop < 5; hop++) {
    const res = await bytes(requote(next), api_headers);
    const location = res.headers['location'];
    if (res.status < 300 || res.status >= 400 || typeof location !== 'string') return res;
    next = new URL(location, next).toString();
  }
  throw new Error('too many redirects');
}

const DESP_TEMPORARY = (username: string, password: string, collection: string) => [
  { Name: 'output_storage', Value: 'TEMPORARY' },
  { Name: 'source_type', Value: 'DESP' },
  { Name: 'desp_source_collection', Value: collection },
  { Name: 'desp_source_username', Value: username },
  { Name: 'desp_source_password', Value: password },
];

describe('the official Hook notebooks, replayed unchanged against the emulator', () => {
  let emu: EmulatorHandle;
  beforeAll(async () => {
    emu = await startTestEmulator();
  });
  afterAll(() => emu.close());

  it('DEDL-Hook_data_harvest.ipynb (2025): login, options by Name+eq+, order, items, DownloadLink', async () => {
    const access_token = await notebookLogin(emu, 'demo', 'demo');
    const api_headers = { Authorization: 'Bearer ' + access_token };
    const SERVICE_URL = emu.odataUrl;

    const workflow_options_url = SERVICE_URL + "Workflows?$filter=Name+eq+'data-harvest'&$expand=WorkflowOptions";
    const result = await get(workflow_options_url, api_headers);
    expect(result.status).toBe(200);
    expect(result.json.value.map((w: { Name: string }) => w.Name)).toEqual(['data-harvest']);

    const workflow = 'data-harvest';
    const order_body_custom_bucket = {
      Name: 'DEDL - Hook introduction support ' + workflow + ' - ' + '004',
      WorkflowName: workflow,
      IdentifierList: [S2_EXAMPLE],
      WorkflowOptions: DESP_TEMPORARY('demo', 'demo', 'EO.ESA.DAT.SENTINEL-2.MSI.L1C'),
    };
    const request = await postJsonString(
      SERVICE_URL + 'BatchOrder/OData.CSC.Order',
      order_body_custom_bucket,
      api_headers,
    );
    expect(request.status).toBe(201);
    const order_id = request.json['value']['Id'];

    // The user re-runs the items cell until batch_order_items['value'][0]['Status'] says completed.
    const batch_order_items = await waitFor(async () => {
      const res = await get(SERVICE_URL + 'BatchOrder(' + String(order_id) + ')/Products', api_headers);
      return res.json['value'][0]['Status'] === 'completed' ? res.json : undefined;
    }, 'the item to complete');
    const link = batch_order_items['value'][0]['DownloadLink'] as string;
    const zip = await bytes(link);
    expect(zip.status).toBe(200);
    expect(zip.body.subarray(0, 2).toString()).toBe('PK');
  });

  it('DEDL-Hook_access.ipynb: login with dedl-hook, list every workflow, orders by endswith(Name), their Products', async () => {
    const access_token = await notebookLogin(emu, 'demo', 'demo');
    const api_headers = { Authorization: 'Bearer ' + access_token };
    const service_root_url = emu.odataUrl;

    const result = await get(service_root_url + 'Workflows', api_headers);
    expect(result.status).toBe(200);
    for (const item of result.json['value']) expect(Object.keys(item)).toContain('WorkflowVersion');

    // The notebook's order cell uses the May-2024 option names (input_catalogue_*); its readers
    // order with today's names before listing (src/emulator/README.md: guesses).
    const test_run_id = 'test_hook';
    const created = await postJsonString(
      service_root_url + 'BatchOrder/OData.CSC.Order',
      {
        Name: 'DEDL - Hook tutorial - temporary storage - data-harvest - ' + test_run_id,
        WorkflowName: 'data-harvest',
        IdentifierList: [S2_EXAMPLE],
        WorkflowOptions: DESP_TEMPORARY('demo', 'demo', 'EO.ESA.DAT.SENTINEL-2.MSI.L1C'),
      },
      api_headers,
    );
    expect(created.status).toBe(201);
    const orders = await get(
      service_root_url + "ProductionOrders?$filter=(endswith(Name,'" + test_run_id + "'))",
      api_headers,
    );
    expect(orders.json['@odata.context']).toBe('$metadata#ProductionOrder/$entity');
    expect(orders.json.value.map((o: { Id: string }) => o.Id)).toEqual([String(created.json.value.Id)]);
    const response = await get(service_root_url + 'BatchOrder(' + orders.json.value[0].Id + ')/Products', api_headers);
    expect(response.json['@odata.context']).toBe('#metadata/OData.CSC.BatchorderItem');
    expect(response.json.value[0].InputProductReference).toBe(S2_EXAMPLE);
  });

  it('Tutorial.ipynb (2024-09): Id asc, (Name eq ...), Id desc with endswith, Products when completed, $value with redirects', async () => {
    const api_headers = { Authorization: 'Bearer ' + (await notebookLogin(emu, 'demo', 'demo')) };
    const hook_service_root_url = emu.odataUrl;

    const list = await get(hook_service_root_url + 'Workflows?$orderby=Id asc', api_headers);
    expect(list.json.value.map((w: { Name: string }) => w.Name)).toContain('data-harvest');
    // The Tutorial's text gives this URL to open, without quotes around the name.
    const documented = await get(
      hook_service_root_url + 'Workflows?$expand=WorkflowOptions&$filter=(Name eq data-harvest)',
      api_headers,
    );
    expect(documented.status).toBe(200);
    expect(documented.json.value.map((w: { Name: string }) => w.Name)).toEqual(['data-harvest']);
    const workflow = 'data-harvest';
    const details = await get(
      `${hook_service_root_url}Workflows?$expand=WorkflowOptions&$filter=(Name eq '${workflow}')`,
      api_headers,
    );
    expect(details.json.value[0].WorkflowOptions.length).toBe(19);

    const order_name = 'run-' + Date.now();
    const order_request = await postJsonString(
      hook_service_root_url + 'BatchOrder/OData.CSC.Order',
      {
        Name: 'Tutorial ' + workflow + ' - ' + order_name,
        WorkflowName: workflow,
        IdentifierList: [S2_EXAMPLE],
        WorkflowOptions: DESP_TEMPORARY('demo', 'demo', 'EO.ESA.DAT.SENTINEL-2.MSI.L1C'),
      },
      api_headers,
    );
    expect(order_request.status).toBe(201);

    const statusUrl =
      hook_service_root_url + "ProductionOrders?$orderby=Id desc&$filter=(endswith(Name,'" + order_name + "'))";
    const requests_status = await waitFor(async () => {
      const res = await get(statusUrl, api_headers);
      return res.json['value'][0]['Status'] === 'completed' ? res.json : undefined;
    }, 'the order to complete');
    const order_id = requests_status['value'][0]['Id'] as string;
    expect(order_id).toBe(String(order_request.json.value.Id));
    const response = await get(hook_service_root_url + 'BatchOrder(' + order_id + ')/Products', api_headers);
    const product_id = response.json['value'][0]['Id'];
    expect(response.json['value'][0]['StatusMessage']).toBe('Processing finished successfully');

    const url_product = `${hook_service_root_url}BatchOrder(${order_id})/Product(${product_id})/$value`;
    const r = await getFollowing(url_product, api_headers);
    expect(r.status).toBe(200);
    expect(r.body.subarray(0, 2).toString()).toBe('PK');
  });
});
