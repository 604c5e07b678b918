/**
 * Order lifecycle, driven by an injected manual clock: quota-limited starts, derived order status,
 * failures with messages, cancel, monthly order quota, and a restart from the state file.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EmulatorHandle, type ManualClock, createManualClock } from '../../src/emulator';
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
  waitFor,
} from './helpers';

type Api = ReturnType<typeof odp>;

async function statuses(api: Api, orderId: string): Promise<string[]> {
  return ((await api.get(`BatchOrder(${orderId})/Products`)).json.value as { Status: string }[]).map((i) => i.Status);
}

/** Waits until the items of each order have the expected statuses (processing settles asynchronously). */
async function expectStatuses(api: Api, expected: Record<string, string[]>): Promise<void> {
  const seen: Record<string, string[]> = {};
  await waitFor(
    async () => {
      for (const id of Object.keys(expected)) seen[id] = await statuses(api, id);
      return JSON.stringify(seen) === JSON.stringify(expected) ? true : undefined;
    },
    () => `statuses ${JSON.stringify(expected)} (last seen ${JSON.stringify(seen)})`,
    5_000,
  );
  expect(seen).toEqual(expected);
}

async function orderStatus(
  api: Api,
  id: string,
): Promise<{ Status: string; StatusMessage: string; EstimatedDate: string }> {
  return (await api.get(`ProductionOrders(${id})`)).json;
}

describe('emulator order lifecycle', () => {
  let clock: ManualClock;
  let emu: EmulatorHandle;
  let low: Api;
  let high: Api;
  let ids: string[];

  beforeAll(async () => {
    clock = createManualClock(Date.UTC(2025, 0, 31, 20, 0, 0));
    emu = await startTestEmulator({
      clock,
      timing: { queuedMs: 100, processingMs: 1000 },
      accounts: [
        { username: 'low', password: 'low', roles: ['hook-workflows', 'hook-low'] },
        { username: 'capped', password: 'capped', roles: ['hook-workflows', 'hook-medium'], monthlyOrders: 2 },
        { username: 'noquota', password: 'noquota', roles: ['hook-workflows'] },
      ],
    });
    const token = await dedlToken(emu.url);
    high = odp(emu, token);
    low = odp(emu, await dedlToken(emu.url, 'low', 'low'));
    ids = (await stacIds(emu.url, token, S2_L1C, 6)).filter((id) => id !== S2_EXAMPLE).slice(0, 5);
  });
  afterAll(() => emu.close());

  it('keeps extra items queued under the parallel-items quota, across orders', async () => {
    const a = (await low.post('BatchOrder/OData.CSC.Order', temporaryOrder('quota a', ids.slice(0, 2)))).json.value.Id;
    const b = (await low.post('BatchOrder/OData.CSC.Order', temporaryOrder('quota b', ids.slice(2, 3)))).json.value.Id;
    await expectStatuses(low, { [a]: ['queued', 'queued'], [b]: ['queued'] });
    expect((await orderStatus(low, a)).Status).toBe('queued');
    clock.advance(100);
    await expectStatuses(low, { [a]: ['in_progress', 'queued'], [b]: ['queued'] });
    expect((await orderStatus(low, a)).StatusMessage).toBe('request is under processing');
    expect((await orderStatus(low, b)).Status).toBe('queued');
    clock.advance(1000);
    await expectStatuses(low, { [a]: ['completed', 'in_progress'], [b]: ['queued'] });
    clock.advance(1000);
    await expectStatuses(low, { [a]: ['completed', 'completed'], [b]: ['in_progress'] });
    const done = await orderStatus(low, a);
    expect(done).toMatchObject({ Status: 'completed', StatusMessage: 'requested output product is available' });
    expect(done.EstimatedDate).toBe(new Date(clock.now()).toISOString());
    clock.advance(1000);
    await expectStatuses(low, { [b]: ['completed'] });
  });

  it('lets hook-high run five items at once', async () => {
    const id = (await high.post('BatchOrder/OData.CSC.Order', temporaryOrder('five', [...ids, S2_EXAMPLE]))).json.value
      .Id;
    clock.advance(100);
    await expectStatuses(high, {
      [id]: ['in_progress', 'in_progress', 'in_progress', 'in_progress', 'in_progress', 'queued'],
    });
    // The sixth starts when a slot frees, i.e. once the first five have been processed.
    clock.advance(1000);
    await expectStatuses(high, { [id]: [...Array(5).fill('completed'), 'in_progress'] });
    clock.advance(1000);
    await expectStatuses(high, { [id]: Array(6).fill('completed') });
  });

  it('harvests any well-formed real product id, as the real service does', async () => {
    // Not in the generated sample: ids from the notebooks, the README or a user's own search work too.
    const real = 'S2B_MSIL1C_20250412T101559_N0511_R065_T32TQM_20250412T121741.SAFE';
    const id = (await high.post('BatchOrder/OData.CSC.Order', temporaryOrder('real-id', [real]))).json.value.Id;
    clock.advance(100);
    clock.advance(1000);
    await expectStatuses(high, { [id]: ['completed'] });
    const item = (await high.get(`BatchOrder(${id})/Products`)).json.value[0];
    expect(item.Status).toBe('completed');
    expect(item.DownloadLink).toEqual(expect.any(String));
  });

  it('fails an item whose identifier is not in the source collection, with a message', async () => {
    const missing = 'S2B_MSIL1C_20991231T000000_N0509_R000_T00XXX_20991231T000000.SAFE';
    const mixed = (await high.post('BatchOrder/OData.CSC.Order', temporaryOrder('mixed', [ids[0] ?? '', missing]))).json
      .value.Id;
    const alone = (await high.post('BatchOrder/OData.CSC.Order', temporaryOrder('alone', [missing]))).json.value.Id;
    clock.advance(100);
    clock.advance(1000);
    await expectStatuses(high, { [mixed]: ['completed', 'failed'], [alone]: ['failed'] });
    const item = (await high.get(`BatchOrder(${mixed})/Products`)).json.value[1];
    expect(item.StatusMessage).toBe(
      `Item '${missing}' not found in collection '${S2_L1C}' of https://hda.data.destination-earth.eu/stac`,
    );
    expect(item.DownloadLink).toBeNull();
    expect(await orderStatus(high, mixed)).toMatchObject({
      Status: 'completed',
      StatusMessage: 'requested output product is available (1 of 2 items failed)',
    });
    expect(await orderStatus(high, alone)).toMatchObject({ Status: 'failed', StatusMessage: item.StatusMessage });
  });

  it('fails items when the desp_source credentials or collection are wrong', async () => {
    const badPw = (
      await high.post('BatchOrder/OData.CSC.Order', temporaryOrder('bad pw', [S2_EXAMPLE], { password: 'hunter2' }))
    ).json.value.Id;
    const badColl = (
      await high.post('BatchOrder/OData.CSC.Order', temporaryOrder('bad coll', [S2_EXAMPLE], { collection: 'EO.NOPE' }))
    ).json.value.Id;
    clock.advance(1100);
    await expectStatuses(high, { [badPw]: ['failed'], [badColl]: ['failed'] });
    const pw = await orderStatus(high, badPw);
    expect(pw.StatusMessage).toBe("Failed to authenticate to DESP as 'demo': Invalid username or password.");
    expect(JSON.stringify(pw)).not.toContain('hunter2');
    expect((await orderStatus(high, badColl)).StatusMessage).toMatch(/Collection 'EO.NOPE' not found/);
  });

  it('cancels queued and running items and frees the quota slot', async () => {
    const first = (await low.post('BatchOrder/OData.CSC.Order', temporaryOrder('to cancel', ids.slice(0, 2)))).json
      .value.Id;
    const second = (await low.post('BatchOrder/OData.CSC.Order', temporaryOrder('after cancel', ids.slice(2, 3)))).json
      .value.Id;
    clock.advance(100);
    await expectStatuses(low, { [first]: ['in_progress', 'queued'], [second]: ['queued'] });
    const res = await low.post(`BatchOrder(${first})/OData.CSC.Cancel`);
    expect(res.json.value.Status).toBe('cancelled');
    await expectStatuses(low, { [first]: ['cancelled', 'cancelled'], [second]: ['in_progress'] });
    clock.advance(1000);
    await expectStatuses(low, { [first]: ['cancelled', 'cancelled'], [second]: ['completed'] });
    expect((await orderStatus(low, first)).Status).toBe('cancelled');
  });

  it('refuses orders past the monthly quota (403) until the month changes, and without a quota role', async () => {
    const capped = odp(emu, await dedlToken(emu.url, 'capped', 'capped'));
    for (const n of [1, 2])
      expect((await capped.post('BatchOrder/OData.CSC.Order', temporaryOrder(`m${n}`, [S2_EXAMPLE]))).status).toBe(201);
    const third = await capped.post('BatchOrder/OData.CSC.Order', temporaryOrder('m3', [S2_EXAMPLE]));
    expect(third.status).toBe(403);
    expect(third.json.detail).toBe('Monthly order quota exceeded: 2 orders per month allowed for role hook-medium');
    clock.advance(5 * 3600_000); // 2025-01-31T20:00Z + 5 h: February
    const fresh = odp(emu, await dedlToken(emu.url, 'capped', 'capped'));
    expect((await fresh.post('BatchOrder/OData.CSC.Order', temporaryOrder('m4', [S2_EXAMPLE]))).status).toBe(201);
    const none = odp(emu, await dedlToken(emu.url, 'noquota', 'noquota'));
    const refused = await none.post('BatchOrder/OData.CSC.Order', temporaryOrder('nq', [S2_EXAMPLE]));
    expect(refused.status).toBe(403);
    expect(refused.json.detail).toMatch(/quota role/);
  });

  it('reports item counts per state in the admin API', async () => {
    const stats = (await http(`${emu.adminUrl}/stats`)).json;
    const counts = stats.itemsByState as Record<string, number>;
    expect(Object.keys(counts).sort()).toEqual(['cancelled', 'completed', 'failed', 'in_progress', 'queued']);
    expect(counts['cancelled']).toBe(2);
    expect(counts['failed']).toBeGreaterThanOrEqual(4);
    expect(stats.ordersByName['quota a']).toBe(1);
  });
});

describe('emulator state file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'emu-state-'));
  const stateFile = join(dir, 'state.json');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps orders, links, tokens and counters across a restart, and resumes queued items', async () => {
    const clock = createManualClock(Date.UTC(2025, 5, 1, 8, 0, 0));
    const first = await startTestEmulator({ clock, stateFile, timing: { queuedMs: 100, processingMs: 1000 } });
    const token = await dedlToken(first.url);
    let api = odp(first, token);
    const done = (await api.post('BatchOrder/OData.CSC.Order', temporaryOrder('before restart', [S2_EXAMPLE]))).json
      .value.Id;
    clock.advance(1100);
    await expectStatuses(api, { [done]: ['completed'] });
    const pending = (await api.post('BatchOrder/OData.CSC.Order', temporaryOrder('pending', [S2_EXAMPLE]))).json.value
      .Id;
    const link = (await api.get(`BatchOrder(${done})/Products`)).json.value[0].DownloadLink as string;
    await first.close();
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);

    const port = Number(new URL(first.url).port);
    const second = await startTestEmulator({ clock, stateFile, port, timing: { queuedMs: 100, processingMs: 1000 } });
    try {
      expect(second.url).toBe(first.url);
      api = odp(second, token);
      const before = (await api.get(`BatchOrder(${done})/Products`)).json.value[0];
      expect(before).toMatchObject({ Status: 'completed', DownloadLink: link });
      expect((await bytes(link)).status).toBe(200);
      expect((await orderStatus(api, pending)).Status).toBe('queued');
      clock.advance(1100);
      await expectStatuses(api, { [pending]: ['completed'] });
      const next = (await api.post('BatchOrder/OData.CSC.Order', temporaryOrder('after restart', [S2_EXAMPLE]))).json
        .value.Id;
      expect(Number(next)).toBe(Number(pending) + 1);
    } finally {
      await second.close();
    }
  });
});

describe('emulator TEMPORARY link lifetime', () => {
  it('signs links for completion + linkLifetimeSec and refuses them afterwards', async () => {
    const clock = createManualClock(Date.UTC(2025, 3, 1, 0, 0, 0));
    const emu = await startTestEmulator({ clock, linkLifetimeSec: 60, timing: { queuedMs: 0, processingMs: 0 } });
    try {
      const token = await dedlToken(emu.url);
      const api = odp(emu, token);
      const id = (await api.post('BatchOrder/OData.CSC.Order', temporaryOrder('short link', [S2_EXAMPLE]))).json.value
        .Id;
      clock.advance(0);
      await expectStatuses(api, { [id]: ['completed'] });
      const link = new URL((await api.get(`BatchOrder(${id})/Products`)).json.value[0].DownloadLink);
      expect(Number(link.searchParams.get('temp_url_expires'))).toBe(clock.now() / 1000 + 60);
      expect((await bytes(link.href)).status).toBe(200);
      clock.advance(60_000);
      expect((await bytes(link.href)).status).toBe(200);
      clock.advance(1_000);
      expect((await bytes(link.href)).status).toBe(401);
    } finally {
      await emu.close();
    }
  });
});

describe('emulator throughput', () => {
  it('runs 2,000 small items through their lifecycle in seconds', async () => {
    const emu = await startTestEmulator({
      timing: { queuedMs: 0, processingMs: 0 },
      accounts: [{ username: 'bulk', password: 'bulk', maxParallelItems: 200 }],
    });
    try {
      const api = odp(emu, await dedlToken(emu.url, 'bulk', 'bulk'));
      const identifiers = Array.from({ length: 2000 }, (_, i) => `Custom Hook ${i}`);
      const started = Date.now();
      const created = await api.post('BatchOrder/OData.CSC.Order', {
        Name: 'bulk',
        WorkflowName: 'dedl_hello_world',
        IdentifierList: identifiers,
        WorkflowOptions: [{ Name: 'output_storage', Value: 'TEMPORARY' }],
      });
      expect(created.status).toBe(201);
      const id = created.json.value.Id;
      await waitFor(
        async () => ((await orderStatus(api, id)).Status === 'completed' ? true : undefined),
        'bulk order',
        20_000,
      );
      const elapsed = Date.now() - started;
      const items = (
        await api.get(
          `BatchOrder(${id})/Products?$filter=${encodeURIComponent("Status eq 'completed'")}&$count=true&$top=1`,
        )
      ).json;
      expect(items['@odata.count']).toBe(2000);
      expect(elapsed).toBeLessThan(10_000);
    } finally {
      await emu.close();
    }
  });
});
