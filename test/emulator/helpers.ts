/**
 * Test helpers for the emulator: real HTTP through undici, a small cookie jar for the DESP login,
 * the full DESP → DEDL token flow, and a bounded poll for asynchronous state.
 */
import { request } from 'undici';
import { type EmulatorHandle, type EmulatorOptionsInput, startEmulator } from '../../src/emulator';

/** Parsed JSON of a response, checked by the assertions that read it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Parsed JSON body (undefined when the body is not JSON). */
  json: Json;
}

export async function http(
  url: string,
  o: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<HttpResult> {
  const res = await request(url, {
    method: (o.method ?? 'GET') as 'GET',
    headers: o.headers ?? {},
    ...(o.body !== undefined ? { body: o.body } : {}),
  });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}

export const form = (fields: Record<string, string>): { headers: Record<string, string>; body: string } => ({
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

/** Cookies by name, from Set-Cookie headers (one host, paths ignored: enough for the DESP realm). */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  take(headers: HttpResult['headers']): void {
    const raw = headers['set-cookie'];
    for (const line of Array.isArray(raw) ? raw : raw ? [raw] : []) {
      const [pair] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (!pair || eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  has(name: string): boolean {
    return this.cookies.has(name);
  }
}

const unescapeHtml = (s: string): string =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The `action` of the first form in `html` (eodag scrapes `//form[@id='kc-form-login']/@action`). */
export function formAction(html: string): string {
  const m = /<form\b[^>]*\baction="([^"]*)"/.exec(html);
  if (!m?.[1]) throw new Error(`no form in page: ${html.slice(0, 200)}`);
  return unescapeHtml(m[1]);
}

export function inputError(html: string): string | undefined {
  const m = /<span id="input-error"[^>]*>\s*([\s\S]*?)\s*<\/span>/.exec(html);
  return m?.[1] ? unescapeHtml(m[1]) : undefined;
}

export const HOOK_REDIRECT = 'https://odp.data.destination-earth.eu/odata/v1/';
export const HDA_REDIRECT = 'https://hda.data.destination-earth.eu/stac';

export interface LoginStart {
  jar: CookieJar;
  page: HttpResult;
  action: string;
}

/** Step 1 of the DESP flow: GET the login page with a fresh cookie jar. */
export async function openLogin(
  base: string,
  clientId = 'dedl-hook',
  redirectUri = HOOK_REDIRECT,
  state?: string,
): Promise<LoginStart> {
  const jar = new CookieJar();
  const q = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: 'openid',
    response_type: 'code',
  });
  if (state) q.set('state', state);
  const page = await http(`${base}/realms/desp/protocol/openid-connect/auth?${q.toString()}`);
  jar.take(page.headers);
  return { jar, page, action: page.status === 200 ? formAction(page.text) : '' };
}

export async function postForm(
  url: string,
  jar: CookieJar | undefined,
  fields: Record<string, string>,
): Promise<HttpResult> {
  const f = form(fields);
  const res = await http(url, {
    method: 'POST',
    headers: { ...f.headers, ...(jar ? { cookie: jar.header() } : {}) },
    body: f.body,
  });
  jar?.take(res.headers);
  return res;
}

/** The `code` of a 302 Location, or throws. */
export function codeOf(res: HttpResult): string {
  const location = res.headers['location'];
  if (res.status !== 302 || typeof location !== 'string') throw new Error(`expected 302 with code, got ${res.status}`);
  const code = new URL(location).searchParams.get('code');
  if (!code) throw new Error(`no code in ${location}`);
  return code;
}

export async function despTokenFromCode(
  base: string,
  code: string,
  clientId = 'dedl-hook',
  redirectUri = HOOK_REDIRECT,
): Promise<HttpResult> {
  return postForm(`${base}/realms/desp/protocol/openid-connect/token`, undefined, {
    client_id: clientId,
    redirect_uri: redirectUri,
    code,
    grant_type: 'authorization_code',
    scope: '',
  });
}

export const EXCHANGE_FIELDS = {
  grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
  subject_issuer: 'desp-oidc',
  subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
  client_id: 'hda-public',
  audience: 'hda-public',
} as const;

export async function exchange(
  base: string,
  despAccessToken: string,
  override: Record<string, string> = {},
): Promise<HttpResult> {
  return postForm(`${base}/auth/realms/dedl/protocol/openid-connect/token`, undefined, {
    ...EXCHANGE_FIELDS,
    subject_token: despAccessToken,
    ...override,
  });
}

/** The whole flow of docs/hook-api.md §2.3 for a user without OTP; returns the DESP token answer. */
export async function despLogin(
  base: string,
  username = 'demo',
  password = 'demo',
): Promise<{ access_token: string; refresh_token: string }> {
  const start = await openLogin(base);
  const posted = await postForm(start.action, start.jar, { username, password });
  const token = await despTokenFromCode(base, codeOf(posted));
  if (token.status !== 200) throw new Error(`DESP token: ${token.status} ${token.text}`);
  return token.json;
}

/** A DEDL access token for `username` (the ODP bearer). */
export async function dedlToken(base: string, username = 'demo', password = 'demo'): Promise<string> {
  const desp = await despLogin(base, username, password);
  const res = await exchange(base, desp.access_token);
  if (res.status !== 200) throw new Error(`exchange: ${res.status} ${res.text}`);
  return res.json.access_token;
}

/** ODP calls with a bearer, relative to `odataUrl`. */
export function odp(emu: Pick<EmulatorHandle, 'odataUrl'>, token: string) {
  const auth = { authorization: `Bearer ${token}` };
  return {
    get: (path: string) => http(`${emu.odataUrl}${path}`, { headers: auth }),
    /** POSTs `body` as JSON text without a Content-Type header, as the official notebooks do. */
    post: (path: string, body?: unknown) =>
      http(`${emu.odataUrl}${path}`, {
        method: 'POST',
        headers: auth,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }),
  };
}

/** Polls `probe` until it returns a value, failing after `timeoutMs` (what a client does; no fixed sleeps). */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string | (() => string),
  timeoutMs = 15_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const S2_EXAMPLE = 'S2A_MSIL1C_20230910T050701_N0509_R019_T47VLH_20230910T074321.SAFE';
export const S2_L1C = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';

/** data-harvest TEMPORARY order body as the Tutorial builds it. */
export function temporaryOrder(
  name: string,
  identifiers: string[],
  o: { user?: string; password?: string; collection?: string } = {},
) {
  return {
    Name: name,
    WorkflowName: 'data-harvest',
    IdentifierList: identifiers,
    WorkflowOptions: [
      { Name: 'output_storage', Value: 'TEMPORARY' },
      { Name: 'source_type', Value: 'DESP' },
      { Name: 'desp_source_username', Value: o.user ?? 'demo' },
      { Name: 'desp_source_password', Value: o.password ?? 'demo' },
      { Name: 'desp_source_collection', Value: o.collection ?? S2_L1C },
    ],
  };
}

export async function startTestEmulator(options: EmulatorOptionsInput = {}): Promise<EmulatorHandle> {
  return startEmulator({ timing: { queuedMs: 20, processingMs: 40 }, productSize: 8192, ...options });
}

/** Polls `BatchOrder(id)/Products` until every item is in one of `states`. */
export async function waitForItems(
  emu: Pick<EmulatorHandle, 'odataUrl'>,
  token: string,
  orderId: string | number,
  states: readonly string[] = ['completed', 'failed', 'cancelled'],
  timeoutMs = 15_000,
): Promise<Json[]> {
  return waitFor(
    async () => {
      const res = await odp(emu, token).get(`BatchOrder(${orderId})/Products`);
      const items = res.json?.value as { Status: string }[] | undefined;
      return items && items.length > 0 && items.every((i) => states.includes(i.Status)) ? items : undefined;
    },
    `items of order ${orderId} to reach ${states.join('/')}`,
    timeoutMs,
  );
}

/** GETs `url` and returns status, headers and the raw body bytes. */
export async function bytes(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: HttpResult['headers']; body: Buffer }> {
  const res = await request(url, { headers });
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
}

/** Ids of `limit` items of `collection`, found with a STAC search on the emulator (as a client would). */
export async function stacIds(base: string, token: string, collection: string, limit: number): Promise<string[]> {
  const res = await http(`${base}/stac/search`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ collections: [collection], limit }),
  });
  if (res.status !== 200) throw new Error(`STAC search: ${res.status} ${res.text}`);
  return (res.json.features as { id: string }[]).map((f) => f.id);
}
