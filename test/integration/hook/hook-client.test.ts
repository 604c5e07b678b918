/**
 * The Hook client against the emulator over real HTTP: the DESP → DEDL login, the order API,
 * product streams with ranges and redirects, and error classification without secrets.
 */
import { createHash } from 'node:crypto';
import { request } from 'undici';
import { type EmulatorHandle, createManualClock, startEmulator, totp } from '../../../src/emulator';
import { productDigest } from '../../../src/emulator/product';
import { HookClient } from '../../../src/hook/client';
import { despTokenSource } from '../../../src/hook/desp-login';
import { dedlTokenUrl, endpointsAt } from '../../../src/hook/endpoints';
import { HookAuthError, HookForbiddenError, HookRequestError, LinkExpiredError } from '../../../src/hook/errors';
import { clientCredentialsTokenSource } from '../../../src/hook/tokens';
import { createHttpAgent } from '../../../src/hook/http';
import { emulatorHookClient, eventually } from '../../helpers/hook';

const ID = 'S2A_MSIL1C_20230910T050701_N0509_R019_T47VLH_20230910T074321.SAFE';
const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';
const OTP_SECRET = 'JBSWY3DPEHPK3PXP';
const temporaryOptions = [
  { Name: 'output_storage', Value: 'TEMPORARY' },
  { Name: 'source_type', Value: 'DESP' },
  { Name: 'desp_source_username', Value: 'demo' },
  { Name: 'desp_source_password', Value: 'demo' },
  { Name: 'desp_source_collection', Value: COLLECTION },
];

async function sha256(stream: AsyncIterable<Uint8Array>): Promise<{ hex: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    bytes += chunk.byteLength;
  }
  return { hex: hash.digest('hex'), bytes };
}

/** Requests the emulator received on the routes whose label contains `fragment`. */
async function requestsTo(emulator: EmulatorHandle, fragment: string): Promise<number> {
  const stats = (await (await request(`${emulator.adminUrl}/stats`)).body.json()) as {
    requestsByRoute: Record<string, number>;
  };
  return Object.entries(stats.requestsByRoute)
    .filter(([route]) => route.includes(fragment))
    .reduce((sum, [, n]) => sum + n, 0);
}

describe('HookClient against the emulator', () => {
  let emulator: EmulatorHandle;
  const agent = createHttpAgent();

  beforeAll(async () => {
    emulator = await startEmulator({
      timing: { queuedMs: 20, processingMs: 50 },
      productSize: 200_000,
      accounts: [{ username: 'otp-user', password: 'pw-otp-123', otpSecret: OTP_SECRET }],
      serviceAccounts: [{ clientId: 'svc-harvester', clientSecret: 'svc-secret-123' }],
    });
  });
  afterAll(async () => {
    await emulator?.close();
    await agent.close();
  });

  it('logs in through DESP and the DEDL exchange, then lists workflows with their options', async () => {
    const hook = emulatorHookClient(emulator.url, undefined, agent);
    const workflows = await hook.listWorkflows();
    expect(workflows.map((w) => w.Name)).toContain('data-harvest');
    const dataHarvest = await hook.getWorkflow('data-harvest');
    const outputStorage = dataHarvest?.WorkflowOptions?.find((o) => o.Name === 'output_storage');
    expect(outputStorage?.Value).toEqual(expect.arrayContaining(['PRIVATE', 'TEMPORARY']));
    expect(await hook.getWorkflow('no-such-workflow')).toBeUndefined();
  });

  it('reports a wrong password with the login page message, without the password', async () => {
    const hook = emulatorHookClient(emulator.url, { username: 'demo', password: 'wrong-password-42' }, agent);
    const failure = hook.listWorkflows();
    await expect(failure).rejects.toBeInstanceOf(HookAuthError);
    await expect(failure).rejects.toThrow(/Invalid username or password/);
    await expect(failure).rejects.not.toThrow(/wrong-password-42/);
  });

  it('passes the one-time code step for an account with 2FA', async () => {
    const withOtp = emulatorHookClient(
      emulator.url,
      { username: 'otp-user', password: 'pw-otp-123', otp: () => totp(OTP_SECRET, Date.now()) },
      agent,
    );
    expect((await withOtp.listWorkflows()).length).toBeGreaterThan(0);

    const withoutOtp = emulatorHookClient(emulator.url, { username: 'otp-user', password: 'pw-otp-123' }, agent);
    await expect(withoutOtp.listWorkflows()).rejects.toThrow(/one-time code/);

    const wrongOtp = emulatorHookClient(
      emulator.url,
      { username: 'otp-user', password: 'pw-otp-123', otp: () => '000000' },
      agent,
    );
    await expect(wrongOtp.listWorkflows()).rejects.toThrow(/one-time code refused/);
  });

  it('authenticates a service account with client credentials, and refuses a wrong secret', async () => {
    const endpoints = endpointsAt(emulator.url);
    const client = (clientSecret: string) =>
      new HookClient({
        endpoints,
        dispatcher: agent,
        tokens: clientCredentialsTokenSource(agent, {
          tokenUrl: dedlTokenUrl(endpoints),
          clientId: 'svc-harvester',
          clientSecret,
        }),
      });
    expect((await client('svc-secret-123').listWorkflows()).length).toBeGreaterThan(0);
    const refused = client('not-the-secret').listWorkflows();
    await expect(refused).rejects.toBeInstanceOf(HookAuthError);
    await expect(refused).rejects.not.toThrow(/not-the-secret/);
  });

  it('renews a token the server no longer accepts (401) once, and the call succeeds', async () => {
    const clock = createManualClock(Date.now());
    const strict = await startEmulator({ clock, tokenLifetimeSec: 300 });
    try {
      const hook = emulatorHookClient(strict.url, undefined, agent);
      await hook.listWorkflows();
      clock.advance(301_000); // the emulator's token has expired; the client's cache does not know yet
      expect((await hook.listWorkflows()).length).toBeGreaterThan(0);
      // Two calls, three requests: the second was refused once and sent again with a new token.
      expect(await requestsTo(strict, 'Workflows')).toBe(3);
      expect(await requestsTo(strict, 'realms/dedl/protocol/openid-connect/token')).toBe(2);
    } finally {
      await strict.close();
    }
  });

  it('renews through the DESP refresh token (no second login form), and logs in again once it is refused', async () => {
    const clock = createManualClock(Date.now());
    const idp = await startEmulator({ clock, tokenLifetimeSec: 300, refreshTokenLifetimeSec: 600 });
    try {
      const endpoints = endpointsAt(idp.url);
      const tokens = despTokenSource(agent, { username: 'demo', password: 'demo' }, { endpoints });
      const loginForms = () => requestsTo(idp, '/realms/desp/protocol/openid-connect/auth');
      const despTokens = () => requestsTo(idp, '/realms/desp/protocol/openid-connect/token');

      const first = await tokens.token();
      expect([await loginForms(), await despTokens()]).toEqual([1, 1]);
      tokens.invalidate(first); // as after a 401
      const second = await tokens.token();
      expect(second).not.toBe(first);
      // Renewed with the refresh token: one more DESP token request, no login page.
      expect([await loginForms(), await despTokens()]).toEqual([1, 2]);

      clock.advance(601_000); // the refresh token has expired at the identity provider
      tokens.invalidate(second);
      const third = await tokens.token();
      // Refused, so a full login: the login page again, the refused refresh and the new code.
      expect([await loginForms(), await despTokens()]).toEqual([2, 4]);
      const hook = new HookClient({ endpoints, dispatcher: agent, tokens });
      expect((await hook.listWorkflows()).length).toBeGreaterThan(0);
      expect(third).not.toBe(second);
    } finally {
      await idp.close();
    }
  });

  it('answers a 403 with one renewed token, then reports it as forbidden (not retryable)', async () => {
    const idp = await startEmulator({
      accounts: [{ username: 'no-hook', password: 'pw-no-hook', roles: ['hook-high'] }],
    });
    try {
      const hook = emulatorHookClient(idp.url, { username: 'no-hook', password: 'pw-no-hook' }, agent);
      const refused = await hook.listWorkflows().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(HookForbiddenError);
      expect((refused as HookForbiddenError).retryable).toBe(false);
      // Sent twice: once with the first token, once with a renewed one.
      expect(await requestsTo(idp, 'GET /odata/v1/Workflows')).toBe(2);
      expect(await requestsTo(idp, 'POST /auth/realms/dedl/protocol/openid-connect/token')).toBe(2);
    } finally {
      await idp.close();
    }
  });

  it('creates an order, finds it by name, follows it to completion and downloads the product', async () => {
    const hook = emulatorHookClient(emulator.url, undefined, agent);
    const name = `client-test-${Date.now()} [dh-abc]`;
    const order = await hook.createBatchOrder({
      Name: name,
      WorkflowName: 'data-harvest',
      IdentifierList: [ID],
      WorkflowOptions: temporaryOptions,
    });
    expect(order.Id).toMatch(/^\d+$/);
    expect((await hook.findOrdersByName(name)).map((o) => o.Id)).toEqual([order.Id]);
    expect(await hook.findOrdersByName(`${name} (other)`)).toEqual([]);

    const items = await eventually(
      () => hook.getOrderItems(order.Id),
      (list) => list.every((i) => i.Status === 'completed'),
    );
    const item = items[0]!;
    expect(item.InputProductReference).toBe(ID);
    expect(item.ProcessedSize).toBe(200_000);
    expect(item.DownloadLink).toContain('temp_url_sig=');

    const expected = await productDigest({ identifier: ID, size: 200_000 });
    const whole = await hook.openProduct({ url: item.DownloadLink! });
    expect(whole).toMatchObject({ offset: 0, totalSize: 200_000 });
    expect((await sha256(whole.body)).hex).toBe(expected.sha256);

    // Through `$value` (bearer on the ODP origin, then the signed link) and from an offset.
    const resumed = await hook.openProduct({
      url: hook.productValueUrl(order.Id, item.Id),
      offset: 150_000,
      ifRange: whole.etag,
    });
    expect(resumed).toMatchObject({ offset: 150_000, totalSize: 200_000 });
    expect((await sha256(resumed.body)).bytes).toBe(50_000);
  });

  it('classifies a tampered link as expired/invalid and keeps its signature out of the message', async () => {
    const hook = emulatorHookClient(emulator.url, undefined, agent);
    const order = await hook.createBatchOrder({
      Name: `tamper-${Date.now()}`,
      WorkflowName: 'data-harvest',
      IdentifierList: [ID],
      WorkflowOptions: temporaryOptions,
    });
    const [item] = await eventually(
      () => hook.getOrderItems(order.Id),
      (list) => list.every((i) => i.Status === 'completed'),
    );
    const link = new URL(item!.DownloadLink!);
    const sig = link.searchParams.get('temp_url_sig')!;
    link.searchParams.set('temp_url_sig', sig.replace(/.$/, sig.endsWith('0') ? '1' : '0'));
    const failure = hook.openProduct({ url: link.toString() });
    await expect(failure).rejects.toBeInstanceOf(LinkExpiredError);
    await expect(failure).rejects.not.toThrow(sig.slice(0, 20));
  });

  it('refuses an order for an unknown workflow as a non-retryable request error', async () => {
    const hook = emulatorHookClient(emulator.url, undefined, agent);
    const failure = hook.createBatchOrder({
      Name: 'x',
      WorkflowName: 'no-such-workflow',
      IdentifierList: [ID],
      WorkflowOptions: [],
    });
    await expect(failure).rejects.toBeInstanceOf(HookRequestError);
    await expect(failure).rejects.toMatchObject({ retryable: false });
    // The Hook's own message is kept, for the harvest's failure.
    await expect(failure).rejects.toThrow(/HTTP 400.*Workflow 'no-such-workflow' does not exist/);
  });

  it('cancels an order: unfinished items end cancelled', async () => {
    const slow = await startEmulator({ timing: { queuedMs: 60_000, processingMs: 60_000 } });
    try {
      const hook = emulatorHookClient(slow.url, undefined, agent);
      const order = await hook.createBatchOrder({
        Name: 'to-cancel',
        WorkflowName: 'data-harvest',
        IdentifierList: [ID],
        WorkflowOptions: temporaryOptions,
      });
      await hook.cancelOrder(order.Id);
      const items = await hook.getOrderItems(order.Id);
      expect(items.map((i) => i.Status)).toEqual(['cancelled']);
    } finally {
      await slow.close();
    }
  });
});
