/**
 * Link shaping of product downloads, measured over real HTTP: the bounds come from the token
 * buckets (a body of n bytes cannot arrive before (n − burst) / rate), never from how fast this
 * machine happens to be, so they hold on a loaded CI runner.
 */
import { request } from 'undici';
import { type EmulatorHandle } from '../../src/emulator';
import { bucketBurst, parseRate } from '../../src/emulator/shaping';
import { S2_EXAMPLE, dedlToken, http, odp, startTestEmulator, temporaryOrder, waitFor, waitForItems } from './helpers';

const SIZE = 512 * 1024;

const setFaults = (emu: EmulatorHandle, body: unknown) =>
  http(`${emu.adminUrl}/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** GETs `url` to the end; the time to the headers and to the last byte, in ms. */
async function timedGet(url: string): Promise<{ status: number; bytes: number; headersMs: number; totalMs: number }> {
  const started = performance.now();
  const res = await request(url);
  const headersMs = performance.now() - started;
  let bytes = 0;
  for await (const chunk of res.body) bytes += (chunk as Buffer).length;
  return { status: res.statusCode, bytes, headersMs, totalMs: performance.now() - started };
}

describe('emulator link shaping', () => {
  let emu: EmulatorHandle;
  let link: string;

  beforeAll(async () => {
    emu = await startTestEmulator({ productSize: SIZE });
    const token = await dedlToken(emu.url);
    const api = odp(emu, token);
    const id = (await api.post('BatchOrder/OData.CSC.Order', temporaryOrder('shaped', [S2_EXAMPLE]))).json.value.Id;
    link = (await waitForItems(emu, token, id, ['completed']))[0].DownloadLink;
  });
  afterAll(() => emu.close());
  beforeEach(() => setFaults(emu, {}));

  it('reads rates as bytes per second', () => {
    expect(parseRate('20Mbit')).toBe(2_500_000);
    expect(parseRate('2.5MB/s')).toBe(2_500_000);
    expect(parseRate('512KiB')).toBe(524_288);
    expect(parseRate(1000)).toBe(1000);
    expect(parseRate('fast')).toBeUndefined();
    expect(parseRate('0Mbit')).toBeUndefined();
  });

  it('is off by default and refuses a rate it cannot read, naming the field', async () => {
    expect((await http(`${emu.adminUrl}/faults`)).json.shaping).toEqual({
      perConnectionRate: null,
      totalRate: null,
      firstByteMs: 0,
      maxConnectionsPerClient: null,
      overLimitStatus: 429,
      overLimitRetryAfterSec: 1,
    });
    const bad = await setFaults(emu, { shaping: { perConnectionRate: 'fast' } });
    expect(bad.status).toBe(400);
    expect(bad.json.detail[0].loc).toEqual(['shaping', 'perConnectionRate']);
  });

  it('paces one connection to its rate', async () => {
    const rate = parseRate('4Mbit')!;
    await setFaults(emu, { shaping: { perConnectionRate: '4Mbit' } });
    const got = await timedGet(link);
    expect(got).toMatchObject({ status: 200, bytes: SIZE });
    expect(got.totalMs).toBeGreaterThanOrEqual(((SIZE - bucketBurst(rate)) / rate) * 1000);
  });

  it('holds all connections together to the total cap', async () => {
    // Two connections of 4 Mbit/s each under a total of 2 Mbit/s: 2 × SIZE through one bucket.
    const total = parseRate('2Mbit')!;
    await setFaults(emu, { shaping: { perConnectionRate: '4Mbit', totalRate: '2Mbit' } });
    const started = performance.now();
    const capped = await Promise.all([timedGet(link), timedGet(link)]);
    const elapsed = performance.now() - started;
    for (const got of capped) expect(got.bytes).toBe(SIZE);
    expect(elapsed).toBeGreaterThanOrEqual(((2 * SIZE - bucketBurst(total)) / total) * 1000);
  });

  it('adds the time to first byte before the answer', async () => {
    await setFaults(emu, { shaping: { firstByteMs: 300 } });
    const got = await timedGet(link);
    expect(got.status).toBe(200);
    expect(got.headersMs).toBeGreaterThanOrEqual(300);
  });

  it('refuses downloads over the per-client cap with Retry-After, and admits again once one closes', async () => {
    await setFaults(emu, {
      shaping: {
        perConnectionRate: '1Mbit',
        maxConnectionsPerClient: 1,
        overLimitStatus: 503,
        overLimitRetryAfterSec: 2,
      },
    });
    const first = await request(link);
    expect(first.statusCode).toBe(200);
    const refused = await request(link);
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('2');
    await refused.body.dump();
    first.body.destroy(); // the client goes away: its slot frees when the server sees the close
    // Polled with one-byte reads until the server has seen the close and admits again.
    const again = await waitFor(async () => {
      const res = await request(link, { headers: { range: 'bytes=0-0' } });
      await res.body.dump();
      return res.statusCode === 503 ? undefined : res.statusCode;
    }, 'a download admitted again');
    expect(again).toBe(206);
    expect((await http(`${emu.adminUrl}/stats`)).json.faultsInjected.overConnectionLimit).toBeGreaterThanOrEqual(1);
  });
});
