/**
 * Auth flows over real HTTP: the DESP login (HTML form scraping, cookies, OTP), the DESP token
 * endpoint, the DEDL token exchange with its parameter checks, client credentials, refresh, JWKS,
 * and ODP's 401/403 answers.
 */
import { createPublicKey, verify } from 'node:crypto';
import { type EmulatorHandle, createManualClock, totp } from '../../src/emulator';
import {
  EXCHANGE_FIELDS,
  HDA_REDIRECT,
  HOOK_REDIRECT,
  codeOf,
  dedlToken,
  despLogin,
  despTokenFromCode,
  exchange,
  type Json,
  formAction,
  http,
  inputError,
  odp,
  openLogin,
  postForm,
  startTestEmulator,
} from './helpers';

const OTP_SECRET = 'JBSWY3DPEHPK3PXP';

function claimsOf(jwt: string): Record<string, Json> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'));
}

describe('emulator auth', () => {
  const clock = createManualClock(Date.UTC(2025, 2, 3, 10, 0, 0));
  let emu: EmulatorHandle;

  beforeAll(async () => {
    emu = await startTestEmulator({
      clock,
      tokenLifetimeSec: 120,
      accounts: [
        { username: 'otp-fixed', password: 'pw1', otpCode: '123456' },
        { username: 'otp-totp', password: 'pw2', otpSecret: OTP_SECRET },
        { username: 'norole', password: 'pw3', roles: ['hook-high'] },
        { username: 'alice', password: 'secret', email: 'alice@example.com' },
      ],
      serviceAccounts: [{ clientId: 'svc-harvest', clientSecret: 's3cr3t' }],
    });
  });
  afterAll(() => emu.close());

  describe('DESP login page and credentials', () => {
    it('serves a kc-form-login form whose action is absolute on the emulator', async () => {
      const { page, jar, action } = await openLogin(emu.url);
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.text).toMatch(/<form id="kc-form-login"[^>]*action="/);
      expect(jar.has('AUTH_SESSION_ID')).toBe(true);
      const url = new URL(action);
      expect(`${url.origin}${url.pathname}`).toBe(`${emu.url}/realms/desp/login-actions/authenticate`);
      for (const p of ['session_code', 'execution', 'client_id', 'tab_id'])
        expect(url.searchParams.get(p)).toBeTruthy();
      expect(url.searchParams.get('client_id')).toBe('dedl-hook');
    });

    it('redirects with state, session_state and code for the right password', async () => {
      const { jar, action } = await openLogin(emu.url, 'dedl-hook', HOOK_REDIRECT, 'xyz-state');
      const res = await postForm(action, jar, { username: 'demo', password: 'demo' });
      expect(res.status).toBe(302);
      const location = new URL(String(res.headers['location']));
      expect(`${location.origin}${location.pathname}`).toBe(HOOK_REDIRECT);
      expect([...location.searchParams.keys()]).toEqual(['state', 'session_state', 'code']);
      expect(location.searchParams.get('state')).toBe('xyz-state');
    });

    it('accepts the e-mail address as login name', async () => {
      const { jar, action } = await openLogin(emu.url);
      const res = await postForm(action, jar, { username: 'alice@example.com', password: 'secret' });
      expect(res.status).toBe(302);
    });

    it('answers 200 with the input-error span for a wrong password, and a new form that still works', async () => {
      const { jar, action } = await openLogin(emu.url);
      const wrong = await postForm(action, jar, { username: 'demo', password: 'nope' });
      expect(wrong.status).toBe(200);
      expect(inputError(wrong.text)).toBe('Invalid username or password.');
      const retry = await postForm(formAction(wrong.text), jar, { username: 'demo', password: 'demo' });
      expect(retry.status).toBe(302);
    });

    it('refuses a credential POST without the session cookie', async () => {
      const { action } = await openLogin(emu.url);
      const res = await postForm(action, undefined, { username: 'demo', password: 'demo' });
      expect(res.status).toBe(400);
      expect(res.text).toContain('Cookie not found');
    });

    it('redirects with error= when the response_type is not code', async () => {
      const q = new URLSearchParams({
        client_id: 'dedl-hook',
        redirect_uri: HOOK_REDIRECT,
        response_type: 'token',
        state: 's1',
      });
      const res = await http(`${emu.url}/realms/desp/protocol/openid-connect/auth?${q.toString()}`);
      expect(res.status).toBe(302);
      const location = new URL(String(res.headers['location']));
      expect(location.searchParams.get('error')).toBe('unsupported_response_type');
      expect(location.searchParams.get('state')).toBe('s1');
    });

    it('refuses unknown clients and unregistered redirect URIs', async () => {
      const unknown = await openLogin(emu.url, 'someone-else', HOOK_REDIRECT);
      expect(unknown.page.status).toBe(400);
      expect(unknown.page.text).toContain('Client not found.');
      const badRedirect = await openLogin(emu.url, 'dedl-hook', 'https://evil.example/cb');
      expect(badRedirect.page.status).toBe(400);
      expect(badRedirect.page.text).toContain('Invalid parameter: redirect_uri');
      const hda = await openLogin(emu.url, 'dedl-hda', HDA_REDIRECT);
      expect(hda.page.status).toBe(200);
    });
  });

  describe('OTP step', () => {
    it('asks for an OTP, refuses a wrong one and accepts the fixed code', async () => {
      const { jar, action } = await openLogin(emu.url);
      const otpPage = await postForm(action, jar, { username: 'otp-fixed', password: 'pw1' });
      expect(otpPage.status).toBe(200);
      expect(otpPage.text).toMatch(/<input id="otp" name="otp"/);
      const wrong = await postForm(formAction(otpPage.text), jar, { otp: '000000', login: 'Sign In' });
      expect(wrong.status).toBe(200);
      expect(inputError(wrong.text)).toBe('Invalid authenticator code.');
      const right = await postForm(formAction(wrong.text), jar, { otp: '123456', login: 'Sign In' });
      const token = await despTokenFromCode(emu.url, codeOf(right));
      expect(token.status).toBe(200);
      expect(claimsOf(token.json.access_token).preferred_username).toBe('otp-fixed');
    });

    it('accepts the TOTP of the account secret at the emulator clock', async () => {
      const { jar, action } = await openLogin(emu.url);
      const otpPage = await postForm(action, jar, { username: 'otp-totp', password: 'pw2' });
      const wrong = await postForm(formAction(otpPage.text), jar, {
        otp: totp(OTP_SECRET, clock.now() + 10 * 60_000),
        login: 'Sign In',
      });
      expect(wrong.status).toBe(200);
      const right = await postForm(formAction(wrong.text), jar, {
        otp: totp(OTP_SECRET, clock.now()),
        login: 'Sign In',
      });
      expect(right.status).toBe(302);
    });
  });

  describe('DESP token endpoint', () => {
    it('returns Keycloak-style tokens whose claims carry roles and expiry', async () => {
      const { jar, action } = await openLogin(emu.url);
      const res = await despTokenFromCode(
        emu.url,
        codeOf(await postForm(action, jar, { username: 'demo', password: 'demo' })),
      );
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ token_type: 'Bearer', expires_in: 120, 'not-before-policy': 0 });
      expect(typeof res.json.refresh_token).toBe('string');
      expect(typeof res.json.session_state).toBe('string');
      const c = claimsOf(res.json.access_token);
      expect(c.iss).toBe(`${emu.url}/realms/desp`);
      expect(c.exp - c.iat).toBe(120);
      expect(c.preferred_username).toBe('demo');
      expect(c.realm_access.roles).toEqual(['hook-workflows', 'hook-high']);
    });

    it('accepts a code once, and only with the redirect_uri it was issued for', async () => {
      const { jar, action } = await openLogin(emu.url);
      const code = codeOf(await postForm(action, jar, { username: 'demo', password: 'demo' }));
      const wrongRedirect = await despTokenFromCode(emu.url, code, 'dedl-hook', `${emu.url}/odata/v1/`);
      expect(wrongRedirect.status).toBe(400);
      expect(wrongRedirect.json.error).toBe('invalid_grant');
      const { jar: jar2, action: action2 } = await openLogin(emu.url);
      const code2 = codeOf(await postForm(action2, jar2, { username: 'demo', password: 'demo' }));
      expect((await despTokenFromCode(emu.url, code2)).status).toBe(200);
      const again = await despTokenFromCode(emu.url, code2);
      expect(again.status).toBe(400);
      expect(again.json).toEqual({ error: 'invalid_grant', error_description: 'Code not valid' });
    });

    it('refreshes with the refresh_token grant', async () => {
      const desp = await despLogin(emu.url);
      const res = await postForm(`${emu.url}/realms/desp/protocol/openid-connect/token`, undefined, {
        client_id: 'dedl-hook',
        grant_type: 'refresh_token',
        refresh_token: desp.refresh_token,
      });
      expect(res.status).toBe(200);
      expect(claimsOf(res.json.access_token).sub).toBe(claimsOf(desp.access_token).sub);
      const bad = await postForm(`${emu.url}/realms/desp/protocol/openid-connect/token`, undefined, {
        client_id: 'dedl-hook',
        grant_type: 'refresh_token',
        refresh_token: desp.access_token,
      });
      expect(bad.status).toBe(400);
    });

    it('publishes discovery and a JWKS that verifies the tokens', async () => {
      const disc = await http(`${emu.url}/realms/desp/.well-known/openid-configuration`);
      expect(disc.json.issuer).toBe(`${emu.url}/realms/desp`);
      expect(disc.json.token_endpoint).toBe(`${emu.url}/realms/desp/protocol/openid-connect/token`);
      const dedlDisc = await http(`${emu.url}/auth/realms/dedl/.well-known/openid-configuration`);
      const certs = await http(dedlDisc.json.jwks_uri);
      const token = await dedlToken(emu.url);
      const [h, p, s] = token.split('.') as [string, string, string];
      const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
      expect(header.alg).toBe('RS256');
      const jwk = certs.json.keys.find((k: { kid: string }) => k.kid === header.kid);
      const key = createPublicKey({ key: jwk, format: 'jwk' });
      expect(verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'))).toBe(true);
    });
  });

  describe('DEDL token exchange', () => {
    it('exchanges a DESP token for a DEDL token with the user roles', async () => {
      const desp = await despLogin(emu.url);
      const res = await exchange(emu.url, desp.access_token);
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({
        token_type: 'Bearer',
        issued_token_type: EXCHANGE_FIELDS.subject_token_type,
        expires_in: 120,
      });
      const c = claimsOf(res.json.access_token);
      expect(c.iss).toBe(`${emu.url}/auth/realms/dedl`);
      expect(c.realm_access.roles).toContain('hook-workflows');
    });

    it.each([
      ['subject_issuer', 'dedl'],
      ['subject_token_type', 'urn:ietf:params:oauth:token-type:refresh_token'],
      ['client_id', 'hda-private'],
      ['audience', 'account'],
    ])('refuses a wrong %s with 400 invalid_request naming it', async (field, value) => {
      const desp = await despLogin(emu.url);
      const res = await exchange(emu.url, desp.access_token, { [field]: value });
      expect(res.status).toBe(400);
      expect(res.json.error).toBe('invalid_request');
      expect(res.json.error_description).toContain(field);
    });

    it('refuses another grant_type', async () => {
      const desp = await despLogin(emu.url);
      const res = await exchange(emu.url, desp.access_token, { grant_type: 'password' });
      expect(res.status).toBe(401);
      expect(res.json.error).toBe('invalid_grant');
      const unknown = await exchange(emu.url, desp.access_token, { grant_type: 'urn:nope' });
      expect(unknown.status).toBe(400);
      expect(unknown.json.error).toBe('unsupported_grant_type');
    });

    it('refuses a missing audience and a forged subject token', async () => {
      const desp = await despLogin(emu.url);
      const missing = await exchange(emu.url, desp.access_token, { audience: '' });
      expect(missing.status).toBe(400);
      expect(missing.json).toEqual({ error: 'invalid_request', error_description: 'Missing parameter: audience' });
      const [h, p] = desp.access_token.split('.');
      const forged = await exchange(emu.url, `${h}.${p}.AAAA`);
      expect(forged.status).toBe(400);
      expect(forged.json.error).toBe('invalid_request');
      const dedl = await exchange(emu.url, desp.access_token);
      const notDesp = await exchange(emu.url, dedl.json.access_token);
      expect(notDesp.status).toBe(400);
    });

    it('refuses an expired DESP token, then the resulting DEDL token expires too', async () => {
      const desp = await despLogin(emu.url);
      const dedl = await exchange(emu.url, desp.access_token);
      expect((await odp(emu, dedl.json.access_token).get('Workflows')).status).toBe(200);
      clock.advance(121_000);
      const late = await exchange(emu.url, desp.access_token);
      expect(late.status).toBe(400);
      expect(late.json.error_description).toMatch(/expired/);
      const odpLate = await odp(emu, dedl.json.access_token).get('Workflows');
      expect(odpLate.status).toBe(401);
      expect(odpLate.json.detail).toBe('Token has expired');
    });

    it('issues client_credentials tokens to service accounts only', async () => {
      const url = `${emu.url}/auth/realms/dedl/protocol/openid-connect/token`;
      const ok = await postForm(url, undefined, {
        grant_type: 'client_credentials',
        client_id: 'svc-harvest',
        client_secret: 's3cr3t',
        scope: 'openid',
      });
      expect(ok.status).toBe(200);
      expect(claimsOf(ok.json.access_token).preferred_username).toBe('service-account-svc-harvest');
      expect((await odp(emu, ok.json.access_token).get('Workflows')).status).toBe(200);
      const bad = await postForm(url, undefined, {
        grant_type: 'client_credentials',
        client_id: 'svc-harvest',
        client_secret: 'wrong',
      });
      expect(bad.status).toBe(401);
      expect(bad.json.error).toBe('invalid_client');
    });
  });

  describe('ODP access', () => {
    it('answers 401 without a bearer or with a garbage one', async () => {
      const none = await http(`${emu.odataUrl}Workflows`);
      expect(none.status).toBe(401);
      expect(none.json).toEqual({ detail: 'Not authenticated' });
      expect((await odp(emu, 'not.a.jwt').get('Workflows')).status).toBe(401);
    });

    it('answers 401 to a DESP token (ODP wants the DEDL one)', async () => {
      const desp = await despLogin(emu.url);
      expect((await odp(emu, desp.access_token).get('Workflows')).status).toBe(401);
    });

    it('answers 403 without the hook-workflows role', async () => {
      const token = await dedlToken(emu.url, 'norole', 'pw3');
      const res = await odp(emu, token).get('Workflows');
      expect(res.status).toBe(403);
      expect(res.json.detail).toContain('hook-workflows');
    });

    it('guards STAC search and items with the DEDL bearer, not collections (as HDA does)', async () => {
      const search = {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ limit: 1 }),
      };
      expect((await http(`${emu.url}/stac/search`, search)).status).toBe(401);
      expect((await http(`${emu.url}/stac/collections/EO.ESA.DAT.SENTINEL-2.MSI.L1C/items`)).status).toBe(401);
      expect((await http(`${emu.url}/stac/collections`)).status).toBe(200);
      const token = await dedlToken(emu.url, 'norole', 'pw3');
      const withToken = await http(`${emu.url}/stac/search`, {
        ...search,
        headers: { ...search.headers, authorization: `Bearer ${token}` },
      });
      expect(withToken.status).toBe(200);
      expect(withToken.json.features).toHaveLength(1);
    });

    it('tolerates the double slash of old destinelab URLs', async () => {
      const res = await http(`${emu.url}//realms/desp/.well-known/openid-configuration`);
      expect(res.status).toBe(200);
    });
  });
});
