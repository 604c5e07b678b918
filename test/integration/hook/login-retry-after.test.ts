/**
 * Retry-After on the login path (issue #21): when an identity endpoint answers 429, nothing more
 * is sent to it before the time is up — not by a second activity asking for a token at the same
 * moment, not by a renewal, not by a Hook or STAC call that needs a bearer — and once the time has
 * passed, concurrent demands share one login.
 *
 * Deterministic: the emulator, the worker's gate and the token cache read one manual clock, so
 * "before the time is up" and "after it" are moments the test chooses, not races under load. The
 * emulator is the judge: it counts every request per route and every one that came back early.
 */
import { type EmulatorHandle, type ManualClock, createManualClock, startEmulator } from '../../../src/emulator';
import { despTokenSource } from '../../../src/hook/desp-login';
import { endpointsAt } from '../../../src/hook/endpoints';
import { HookRateLimitError } from '../../../src/hook/errors';
import { HookClient } from '../../../src/hook/client';
import { createHttpAgent } from '../../../src/hook/http';
import { RetryAfterGate } from '../../../src/hook/retry-after-gate';
import { StacClient } from '../../../src/hook/stac';
import type { TokenSource } from '../../../src/hook/tokens';
import { emulatorStats, replaceFaults } from '../../chaos/fault-storm-audit';

const RETRY_AFTER_SEC = 30;
const TOKEN_LIFETIME_SEC = 300;
const LOGIN_PAGE = 'GET /realms/desp/protocol/openid-connect/auth';
const DESP_TOKEN = 'POST /realms/desp/protocol/openid-connect/token';
const DEDL_EXCHANGE = 'POST /auth/realms/dedl/protocol/openid-connect/token';

/** What one worker holds: one gate, one token source, and the clients that share them. */
interface Worker {
  tokens: TokenSource;
  hook: HookClient;
  stac: StacClient;
}

describe('Retry-After at the identity provider', () => {
  const agent = createHttpAgent();
  let clock: ManualClock;
  let emulator: EmulatorHandle;
  let worker: Worker;

  beforeEach(async () => {
    clock = createManualClock(Date.now());
    emulator = await startEmulator({ clock, tokenLifetimeSec: TOKEN_LIFETIME_SEC });
    const endpoints = endpointsAt(emulator.url);
    const gate = new RetryAfterGate(() => clock.now());
    const tokens = despTokenSource(
      agent,
      { username: 'demo', password: 'demo' },
      { endpoints, gate },
      { now: () => clock.now() },
    );
    worker = {
      tokens,
      hook: new HookClient({ endpoints, dispatcher: agent, tokens, gate }),
      stac: new StacClient({ stacUrl: endpoints.stac, dispatcher: agent, tokens, gate }),
    };
  });
  afterEach(() => emulator?.close());
  afterAll(() => agent.close());

  /** Requests the emulator received per login route, and how many came back before a 429's time. */
  async function loginTraffic() {
    const stats = await emulatorStats(emulator);
    const on = (route: string) => stats.requestsByRoute[route] ?? 0;
    return {
      loginPage: on(LOGIN_PAGE),
      despToken: on(DESP_TOKEN),
      exchange: on(DEDL_EXCHANGE),
      rateLimited: stats.rateLimited.length,
      earlyReturns: stats.earlyReturns,
    };
  }

  const rateLimitLogins = () =>
    replaceFaults(emulator, { rateLimitRate: 1, retryAfterSec: RETRY_AFTER_SEC, scopes: ['auth'] });

  it('holds every token demand after a 429 on the first login, then serves concurrent demands with one login', async () => {
    await rateLimitLogins();
    // Two activities start at once and both need a token: one login attempt, refused with 429.
    const first = await Promise.allSettled([worker.tokens.token(), worker.tokens.token()]);
    expect(first.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    for (const r of first) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(HookRateLimitError);
    expect(await loginTraffic()).toEqual({ loginPage: 1, despToken: 0, exchange: 0, rateLimited: 1, earlyReturns: 0 });

    // Before the time is up: a token demand, a Hook call and a STAC search all fail at once with the
    // time left, and none of them sends anything (the emulator would answer 429 again and count it).
    clock.advance((RETRY_AFTER_SEC - 1) * 1000);
    const held = await Promise.allSettled([
      worker.tokens.token(),
      worker.hook.listWorkflows(),
      worker.stac.searchAll({ collections: ['EO.ESA.DAT.SENTINEL-2.MSI.L1C'] }, { maxItems: 1 }),
    ]);
    for (const r of held) {
      expect(r.status).toBe('rejected');
      const reason = (r as PromiseRejectedResult).reason as HookRateLimitError;
      expect(reason).toBeInstanceOf(HookRateLimitError);
      expect(reason.retryAfterMs).toBeGreaterThan(0);
      expect(reason.retryAfterMs).toBeLessThanOrEqual(1000);
    }
    expect(await loginTraffic()).toEqual({ loginPage: 1, despToken: 0, exchange: 0, rateLimited: 1, earlyReturns: 0 });

    // The time is up and the identity provider answers again: a Hook call and a token demand at
    // the same moment share one login (one page, one code redeemed, one exchange).
    await replaceFaults(emulator, {});
    clock.advance(1000);
    const [workflows, token] = await Promise.all([worker.hook.listWorkflows(), worker.tokens.token()]);
    expect(workflows.length).toBeGreaterThan(0);
    expect(token).toEqual(expect.any(String));
    expect(await loginTraffic()).toEqual({ loginPage: 2, despToken: 1, exchange: 1, rateLimited: 1, earlyReturns: 0 });
  });

  it('keeps using a valid token when its renewal is answered 429, and renews once after the Retry-After', async () => {
    const before = await worker.tokens.token();
    expect(await loginTraffic()).toMatchObject({ loginPage: 1, despToken: 1, exchange: 1 });

    // Past the renewal point (60 s before expiry), the token still valid: the renewal (a refresh
    // token redeemed at the DESP token endpoint) meets a 429.
    clock.advance((TOKEN_LIFETIME_SEC - 50) * 1000);
    await rateLimitLogins();
    expect(await Promise.all([worker.tokens.token(), worker.tokens.token()])).toEqual([before, before]);
    expect(await loginTraffic()).toEqual({ loginPage: 1, despToken: 2, exchange: 1, rateLimited: 1, earlyReturns: 0 });

    // Every later demand inside the Retry-After is served the current token without a request.
    clock.advance(10_000);
    expect(await worker.tokens.token()).toBe(before);
    expect(await loginTraffic()).toEqual({ loginPage: 1, despToken: 2, exchange: 1, rateLimited: 1, earlyReturns: 0 });

    // After it: one renewal through the refresh token (no login page), one exchange.
    await replaceFaults(emulator, {});
    clock.advance(RETRY_AFTER_SEC * 1000);
    const [a, b] = await Promise.all([worker.tokens.token(), worker.tokens.token()]);
    expect(a).toBe(b);
    expect(a).not.toBe(before);
    expect(await loginTraffic()).toEqual({ loginPage: 1, despToken: 3, exchange: 2, rateLimited: 1, earlyReturns: 0 });
  });

  it('fails a demand with the time left when the token has expired and the identity provider still asks to wait', async () => {
    await worker.tokens.token();
    clock.advance((TOKEN_LIFETIME_SEC - 10) * 1000);
    await rateLimitLogins();
    await worker.tokens.token(); // the renewal meets the 429 (30 s to wait); the old token still serves
    clock.advance(11_000); // the old token has expired; 19 s of the Retry-After remain
    const refused = await worker.tokens.token().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(HookRateLimitError);
    expect((refused as HookRateLimitError).retryAfterMs).toBe((RETRY_AFTER_SEC - 11) * 1000);
    expect(await loginTraffic()).toEqual({ loginPage: 1, despToken: 2, exchange: 1, rateLimited: 1, earlyReturns: 0 });
  });
});
