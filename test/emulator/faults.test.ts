/**
 * Fault injection: each fault happens when configured (at start or through the admin API) and is
 * reported by `GET /_emulator/stats`.
 */
import { types } from 'node:util';
import { request } from 'undici';
import { type EmulatorHandle } from '../../src/emulator';
import {
  S2_EXAMPLE,
  bytes,
  dedlToken,
  despLogin,
  http,
  odp,
  startTestEmulator,
  temporaryOrder,
  waitForItems,
} from './helpers';

const put = (emu: EmulatorHandle, body: unknown, method: 'PUT' | 'PATCH' = 'PUT') =>
  http(`${emu.adminUrl}/faults`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const stats = async (emu: EmulatorHandle) => (await http(`${emu.adminUrl}/stats`)).json;

describe('emulator faults', () => {
  let emu: EmulatorHandle;
  let token: string;
  let api: ReturnType<typeof odp>;

  beforeAll(async () => {
    emu = await startTestEmulator({ productSize: 64 * 1024 });
    token = await dedlToken(emu.url);
    api = odp(emu, token);
  });
  afterAll(() => emu.close());
  beforeEach(async () => {
    await put(emu, {});
    await http(`${emu.adminUrl}/stats/reset`, { method: 'POST' });
  });

  /** A completed TEMPORARY item's download link. */
  async function completedLink(): Promise<string> {
    const id = (await api.post('BatchOrder/OData.CSC.Order', temporaryOrder('for link', [S2_EXAMPLE]))).json.value.Id;
    const [item] = await waitForItems(emu, token, id, ['completed']);
    return item.DownloadLink;
  }

  it('reads, replaces and patches the fault settings, refusing invalid ones', async () => {
    expect((await http(`${emu.adminUrl}/faults`)).json).toMatchObject({
      errorRate: 0,
      scopes: ['odata', 'stac', 'storage'],
    });
    expect((await put(emu, { latencyMs: 5 })).json.latencyMs).toBe(5);
    const patched = await put(emu, { retryAfterSec: 7 }, 'PATCH');
    expect(patched.json).toMatchObject({ latencyMs: 5, retryAfterSec: 7 });
    expect((await put(emu, { latencyMs: 5 })).json.retryAfterSec).toBe(1);
    const bad = await put(emu, { errorRate: 2 });
    expect(bad.status).toBe(400);
    expect(bad.json.detail[0].loc).toEqual(['errorRate']);
    expect((await put(emu, { nonsense: true })).status).toBe(400);
  });

  it('answers 5xx at the configured rate, never on the admin API or auth by default', async () => {
    await put(emu, { errorRate: 1, errorStatus: 502 });
    const res = await api.get('Workflows');
    expect(res.status).toBe(502);
    expect(res.json).toEqual({ detail: 'Bad Gateway' });
    expect((await http(`${emu.url}/realms/desp/.well-known/openid-configuration`)).status).toBe(200);
    expect(typeof (await despLogin(emu.url)).access_token).toBe('string');
    const s = await stats(emu);
    expect(s.faultsInjected.error).toBe(1);
    expect(s.requestsByRoute['GET /odata/v1/Workflows']).toBe(1);
    await put(emu, { errorRate: 1, scopes: ['auth'] });
    expect((await http(`${emu.url}/realms/desp/.well-known/openid-configuration`)).status).toBe(503);
    expect((await api.get('Workflows')).status).toBe(200);
  });

  it('answers 5xx for a fraction of requests, deterministically from the seed', async () => {
    /** 40 requests to an emulator started with `seed` and a 50 % error rate: their status codes. */
    const run = async (seed: number) => {
      const other = await startTestEmulator({ productSize: 64 * 1024, seed, faults: { errorRate: 0.5 } });
      try {
        const odata = odp(other, await dedlToken(other.url));
        const codes: number[] = [];
        for (let i = 0; i < 40; i++) codes.push((await odata.get('Workflows')).status);
        return { codes, injected: (await stats(other)).faultsInjected.error as number };
      } finally {
        await other.close();
      }
    };
    const first = await run(7);
    const errors = first.codes.filter((c) => c === 503).length;
    expect(errors).toBeGreaterThan(8);
    expect(errors).toBeLessThan(32);
    expect(first.injected).toBe(errors);
    // The same seed gives the same answers, request by request; another seed does not.
    expect((await run(7)).codes).toEqual(first.codes);
    expect((await run(8)).codes).not.toEqual(first.codes);
  });

  it('answers 429 with Retry-After and reports who came back early', async () => {
    await put(emu, { rateLimitRate: 1, retryAfterSec: 30 });
    const res = await api.get('ProductionOrders');
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('30');
    let s = await stats(emu);
    expect(s.rateLimited).toHaveLength(1);
    const record = s.rateLimited[0];
    expect(record).toMatchObject({ route: 'GET /odata/v1/ProductionOrders', retryAfterSec: 30, cameBackEarly: false });
    expect(record.client).toMatch(/^sub:/);
    expect(Date.parse(record.notBefore) - Date.parse(record.at)).toBe(30_000);
    expect(s.anyEarlyReturn).toBe(false);
    await put(emu, {});
    expect((await api.get('ProductionOrders')).status).toBe(200);
    s = await stats(emu);
    expect(s.rateLimited[0]).toMatchObject({ cameBackEarly: true, earlyRequests: 1 });
    expect(s.earlyReturns).toBe(1);
    expect(s.anyEarlyReturn).toBe(true);
  });

  it('identifies signed-link clients by object path and counts requests per route template', async () => {
    const link = await completedLink();
    await put(emu, { rateLimitRate: 1, retryAfterSec: 60, scopes: ['storage'] });
    const res = await bytes(link);
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('60');
    const s = await stats(emu);
    expect(s.rateLimited[0].client).toBe(`object:${new URL(link).pathname}`);
    expect(s.rateLimited[0].route).toBe('GET /swift/v1/tmp-storage/{object}');
    expect(s.requestsByRoute['GET /odata/v1/BatchOrder({id})/Products']).toBeGreaterThanOrEqual(1);
    expect(s.requestsByRoute['POST /odata/v1/BatchOrder/OData.CSC.Order']).toBe(1);
  });

  it('does not count a client that waits out Retry-After as early', async () => {
    await put(emu, { rateLimitRate: 1, retryAfterSec: 0 });
    expect((await api.get('Workflows')).status).toBe(429);
    await put(emu, {});
    expect((await api.get('Workflows')).status).toBe(200);
    const s = await stats(emu);
    expect(s.rateLimited[0].cameBackEarly).toBe(false);
    expect(s.anyEarlyReturn).toBe(false);
  });

  it('adds latency', async () => {
    await put(emu, { latencyMs: 150 });
    const t0 = Date.now();
    expect((await api.get('Workflows')).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect((await stats(emu)).faultsInjected.latency).toBe(1);
  });

  it('resets the connection part-way through a product body', async () => {
    const link = await completedLink();
    await put(emu, { resetRate: 1, resetAfterBytes: 1000 });
    let received = 0;
    const res = await request(link);
    const failure = await (async () => {
      for await (const chunk of res.body) received += (chunk as Buffer).length;
      return undefined;
    })().catch((err: unknown) => err);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe(String(64 * 1024));
    // An error of any realm: on Node 24 the body stream's error is made by Node's own stream code.
    expect(types.isNativeError(failure)).toBe(true);
    expect(received).toBeLessThanOrEqual(1000);
    expect((await stats(emu)).faultsInjected.reset).toBe(1);
  });

  it('truncates a product body and resumes it with a Range request', async () => {
    const link = await completedLink();
    await put(emu, { truncateRate: 1, truncateAfterBytes: 5000 });
    let received = 0;
    const failure = await (async () => {
      const res = await request(link);
      for await (const chunk of res.body) received += (chunk as Buffer).length;
      return undefined;
    })().catch((err: unknown) => err);
    // An error of any realm: on Node 24 the body stream's error is made by Node's own stream code.
    expect(types.isNativeError(failure)).toBe(true);
    expect(received).toBe(5000);
    expect((await stats(emu)).faultsInjected.truncate).toBe(1);
    await put(emu, {});
    const rest = await bytes(link, { range: 'bytes=5000-' });
    expect(rest.status).toBe(206);
    expect(rest.body.length).toBe(64 * 1024 - 5000);
  });

  it('fails items and leaves items in_progress forever at the configured rates', async () => {
    await put(emu, { itemFailureRate: 1 });
    const failed = (await api.post('BatchOrder/OData.CSC.Order', temporaryOrder('fail me', [S2_EXAMPLE]))).json.value
      .Id;
    const [item] = await waitForItems(emu, token, failed, ['failed']);
    expect(item.StatusMessage).toMatch(/emulated fault/);
    await put(emu, { itemStuckRate: 1 });
    const stuck = (await api.post('BatchOrder/OData.CSC.Order', temporaryOrder('stuck', [S2_EXAMPLE]))).json.value.Id;
    await waitForItems(emu, token, stuck, ['in_progress']);
    const s = await stats(emu);
    expect(s.faultsInjected).toMatchObject({ itemFailure: 1, itemStuck: 1 });
    expect(s.itemsByState.in_progress).toBeGreaterThanOrEqual(1);
    await put(emu, {});
    await api.post(`BatchOrder(${stuck})/OData.CSC.Cancel`);
    await waitForItems(emu, token, stuck, ['cancelled']);
  });

  it('refuses links early, and refuses tampered links', async () => {
    const link = await completedLink();
    expect((await bytes(link)).status).toBe(200);
    const tampered = link.replace(/temp_url_expires=(\d+)/, (_m, n: string) => `temp_url_expires=${Number(n) + 1}`);
    expect((await bytes(tampered)).status).toBe(401);
    await put(emu, { linksExpireAfterMs: 0 });
    expect((await bytes(link)).status).toBe(401);
    expect((await stats(emu)).faultsInjected.linkExpiredEarly).toBe(1);
    await put(emu, {});
    expect((await bytes(link)).status).toBe(200);
  });

  it('shortens the lifetime of tokens issued from then on', async () => {
    await put(emu, { tokenLifetimeSec: 2 });
    const desp = await despLogin(emu.url);
    const claims = JSON.parse(Buffer.from(desp.access_token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    expect(claims.exp - claims.iat).toBe(2);
  });

  it('loses the response of an order it did create (502), which a client finds by Name', async () => {
    await put(emu, { lostOrderResponseRate: 1 });
    const res = await api.post('BatchOrder/OData.CSC.Order', temporaryOrder('lost-response-123', [S2_EXAMPLE]));
    expect(res.status).toBe(502);
    await put(emu, {});
    const found = await api.get(`ProductionOrders?$filter=${encodeURIComponent("endswith(Name,'lost-response-123')")}`);
    expect(found.json.value).toHaveLength(1);
    const s = await stats(emu);
    expect(s.faultsInjected.lostOrderResponse).toBe(1);
    expect(s.ordersByName['lost-response-123']).toBe(1);
  });
});
