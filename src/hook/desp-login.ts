/**
 * DESP username/password → DEDL bearer, the way the official notebooks do it (docs/hook-api.md §2.3):
 * fetch the Keycloak login page, post the credentials to its form (and a one-time code when the
 * account has 2FA), trade the authorization code for a DESP token, then exchange that for a DEDL
 * token that the ODP API accepts. One cookie jar per login, redirects never followed.
 *
 * Renewal redeems the DESP refresh token first (one request: no new Keycloak session, no login
 * form, no one-time code), as eodag does (docs/hook-api.md §2.5); the full login runs only when there
 * is no refresh token or the identity provider refuses it (expired, session ended).
 */
import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { type HookEndpoints, REAL_ENDPOINTS, dedlTokenUrl, despAuthUrl, despTokenUrl } from './endpoints';
import { HookAuthError, hookErrorFromStatus, parseRetryAfter } from './errors';
import type { HttpResponse } from './http';
import { type GatedHttp, RetryAfterGate } from './retry-after-gate';
import {
  type IdentityRequestOptions,
  type IssuedToken,
  type TokenCacheOptions,
  type TokenSource,
  cachedTokenSource,
  postTokenForm,
} from './tokens';

export interface DespCredentials {
  username: string;
  password: string;
  /** Returns the current one-time code, for accounts with 2FA (e.g. a TOTP generator). */
  otp?: () => string;
}

export interface DespLoginOptions extends IdentityRequestOptions {
  endpoints: HookEndpoints;
  /** Public DESP client; `dedl-hook` (default) or `dedl-hda`. */
  clientId?: string;
  /** The redirect URI registered for the client; never visited, only echoed. */
  redirectUri?: string;
}

/** The DEDL exchange's fixed parameters (docs/hook-api.md §2.3 step 5). */
const EXCHANGE = {
  grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
  subject_issuer: 'desp-oidc',
  subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
  client_id: 'hda-public',
  audience: 'hda-public',
};

export function despTokenSource(
  dispatcher: Dispatcher,
  credentials: DespCredentials,
  options: DespLoginOptions,
  cache?: TokenCacheOptions,
): TokenSource {
  // Every request of the login (page, form, code, refresh, exchange) goes through one gate: after a
  // 429 from an identity host nothing more is sent there until its Retry-After has passed.
  const http: GatedHttp = { dispatcher, gate: options.gate ?? new RetryAfterGate() };
  let refreshToken: string | undefined;
  return cachedTokenSource(async () => {
    const refreshed = refreshToken ? await redeemRefreshToken(http, refreshToken, options) : undefined;
    const desp = refreshed ?? (await loginToDesp(http, credentials, options));
    refreshToken = desp.refreshToken;
    try {
      return await exchangeForDedl(http, desp.accessToken, options);
    } catch (err) {
      // A refreshed DESP token the exchange refuses: the next renewal logs in from the start.
      if (refreshed && err instanceof HookAuthError) refreshToken = undefined;
      throw err;
    }
  }, cache);
}

async function loginToDesp(
  http: GatedHttp,
  credentials: DespCredentials,
  options: DespLoginOptions,
): Promise<IssuedToken & { refreshToken?: string }> {
  const clientId = options.clientId ?? 'dedl-hook';
  const redirectUri = options.redirectUri ?? REAL_ENDPOINTS.odata;
  const code = await authorizationCode(http, credentials, options.endpoints, clientId, redirectUri);
  return postTokenForm(http, despTokenUrl(options.endpoints), {
    client_id: clientId,
    redirect_uri: redirectUri,
    code,
    grant_type: 'authorization_code',
    scope: '',
  });
}

/**
 * A new DESP token for the refresh token, or undefined when the identity provider refuses it
 * (then the caller logs in again). Other failures (5xx, 429, network) are thrown: the activity's
 * retry decides, and the refresh token is tried again next time.
 */
async function redeemRefreshToken(
  http: GatedHttp,
  refreshToken: string,
  options: DespLoginOptions,
): Promise<(IssuedToken & { refreshToken?: string }) | undefined> {
  try {
    return await postTokenForm(http, despTokenUrl(options.endpoints), {
      client_id: options.clientId ?? 'dedl-hook',
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    });
  } catch (err) {
    if (err instanceof HookAuthError) return undefined;
    throw err;
  }
}

function exchangeForDedl(http: GatedHttp, despAccessToken: string, options: DespLoginOptions): Promise<IssuedToken> {
  return postTokenForm(http, dedlTokenUrl(options.endpoints), { ...EXCHANGE, subject_token: despAccessToken });
}

async function authorizationCode(
  http: GatedHttp,
  credentials: DespCredentials,
  endpoints: HookEndpoints,
  clientId: string,
  redirectUri: string,
): Promise<string> {
  const jar = new CookieJar();
  const state = randomUUID();
  const authUrl = new URL(despAuthUrl(endpoints));
  authUrl.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: 'openid',
    response_type: 'code',
    state,
  }).toString();

  const page = await call(http, jar, 'GET', authUrl.toString(), undefined);
  if (page.statusCode !== 200) throw await unexpected(page, 'GET', authUrl.toString(), 'the DESP login page');
  const loginPage = await page.body.text();
  // Keycloak's own id first; a themed page may name its form otherwise (the notebooks take the first form).
  const loginAction = formAction(loginPage, 'kc-form-login') ?? formAction(loginPage);
  if (!loginAction) throw new HookAuthError('The DESP login page has no login form', { url: authUrl.toString() });

  let answer = await call(http, jar, 'POST', loginAction, {
    username: credentials.username,
    password: credentials.password,
  });
  if (answer.statusCode === 200) {
    const html = await answer.body.text();
    const error = inputError(html);
    if (error) throw new HookAuthError(`DESP login failed: ${error}`);
    if (!hasOtpInput(html)) throw new HookAuthError('DESP login returned an unexpected page (no code, no error)');
    if (!credentials.otp) {
      throw new HookAuthError('The DESP account asks for a one-time code, but no OTP secret is configured');
    }
    const otpAction = formAction(html);
    if (!otpAction) throw new HookAuthError('The DESP one-time-code page has no form');
    answer = await call(http, jar, 'POST', otpAction, { otp: credentials.otp(), login: 'Sign In' });
    if (answer.statusCode === 200) {
      throw new HookAuthError(
        `DESP one-time code refused: ${inputError(await answer.body.text()) ?? 'no reason given'}`,
      );
    }
  }
  return codeFromRedirect(answer, redirectUri, state);
}

function codeFromRedirect(answer: HttpResponse, redirectUri: string, state: string): string {
  const location = header(answer, 'location');
  if (answer.statusCode < 300 || answer.statusCode >= 400 || !location) {
    throw hookErrorFromStatus(
      answer.statusCode,
      { detail: 'DESP login did not redirect with a code' },
      parseRetryAfter(answer.headers['retry-after']),
    );
  }
  const target = new URL(location, redirectUri);
  if (target.toString().includes('TERMS_AND_CONDITIONS')) {
    throw new HookAuthError(
      'DESP terms and conditions are not accepted for this account: accept them once in a browser',
    );
  }
  const error = target.searchParams.get('error');
  if (error) throw new HookAuthError(`DESP login failed: ${target.searchParams.get('error_description') ?? error}`);
  if (target.searchParams.get('state') !== state) throw new HookAuthError('DESP login answered with a foreign state');
  const code = target.searchParams.get('code');
  if (!code) throw new HookAuthError('DESP login redirected without an authorization code');
  return code;
}

async function call(
  http: GatedHttp,
  jar: CookieJar,
  method: 'GET' | 'POST',
  url: string,
  form: Record<string, string> | undefined,
): Promise<HttpResponse> {
  const headers: Record<string, string> = { accept: 'text/html' };
  const cookie = jar.header();
  if (cookie) headers.cookie = cookie;
  if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
  const res = await http.gate.send(http.dispatcher, {
    method,
    url,
    headers,
    body: form ? new URLSearchParams(form).toString() : undefined,
  });
  jar.store(res.headers['set-cookie']);
  return res;
}

async function unexpected(res: HttpResponse, method: string, url: string, what: string) {
  const detail = await res.body.text().catch(() => '');
  return hookErrorFromStatus(
    res.statusCode,
    { method, url, detail: `while loading ${what}: ${detail.slice(0, 200)}` },
    parseRetryAfter(res.headers['retry-after']),
  );
}

function header(res: HttpResponse, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Keycloak keeps its session in cookies; all we need is to send back what it set. */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(setCookie: string | string[] | undefined): void {
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const pair = line.split(';', 1)[0] ?? '';
      const eq = pair.indexOf('=');
      if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** The `action` of the form with `id` (or of the first form), HTML entities decoded. */
export function formAction(html: string, id?: string): string | undefined {
  for (const match of html.matchAll(/<form\b[^>]*>/gi)) {
    const tag = match[0];
    if (id && attribute(tag, 'id') !== id) continue;
    const action = attribute(tag, 'action');
    if (action) return decodeEntities(action);
  }
  return undefined;
}

/** The text of Keycloak's `<span id="input-error">`, the message of a failed login. */
export function inputError(html: string): string | undefined {
  const match = /<span\b[^>]*id=["']input-error["'][^>]*>([\s\S]*?)<\/span>/i.exec(html);
  return match?.[1] ? decodeEntities(match[1]).trim() : undefined;
}

function hasOtpInput(html: string): boolean {
  return [...html.matchAll(/<input\b[^>]*>/gi)].some((m) =>
    ['name', 'id', 'placeholder', 'type'].some((a) => /otp/i.test(attribute(m[0], a) ?? '')),
  );
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)')`, 'i').exec(tag);
  return match ? (match[2] ?? match[3]) : undefined;
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_, code: string) => String.fromCharCode(parseInt(code, 16)))
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}
