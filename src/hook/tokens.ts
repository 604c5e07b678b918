/**
 * Bearer tokens for the Hook: a cache that renews a token 60 s before it expires (or halfway
 * through its life, for tokens shorter than 2 minutes) with one refresh in flight at a time, and the simple sources (a fixed token, OAuth client credentials).
 * The DESP login lives in desp-login.ts.
 */
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { HookAuthError } from './errors';
import { ensureOk, readJson } from './http';
import { type GatedHttp, RetryAfterGate } from './retry-after-gate';

export interface IssuedToken {
  accessToken: string;
  /** Epoch milliseconds after which the token is no longer accepted. */
  expiresAt: number;
}

/** What the Hook client asks for a bearer. `invalidate` is called after a 401 so the next call renews. */
export interface TokenSource {
  token(signal?: AbortSignal): Promise<string>;
  invalidate(token: string): void;
}

export interface TokenCacheOptions {
  /** Renew this long before expiry (default 60 s, as eodag does), at most half the token's lifetime. */
  renewBeforeMs?: number;
  now?: () => number;
}

/** Wraps a token issuer with caching, early renewal and a single in-flight refresh. */
export function cachedTokenSource(issue: () => Promise<IssuedToken>, options: TokenCacheOptions = {}): TokenSource {
  const renewBeforeMs = options.renewBeforeMs ?? 60_000;
  const now = options.now ?? Date.now;
  let current: (IssuedToken & { renewAt: number }) | undefined;
  let inFlight: Promise<IssuedToken & { renewAt: number }> | undefined;

  // A short-lived token (60 s) renewed 60 s early would mean one login per request: renew such a
  // token halfway through its life instead.
  const withRenewal = (issued: IssuedToken, issuedAt: number) => ({
    ...issued,
    renewAt: issued.expiresAt - Math.min(renewBeforeMs, Math.max(0, issued.expiresAt - issuedAt) / 2),
  });

  return {
    async token(signal) {
      if (current && now() < current.renewAt) return current.accessToken;
      // Every caller waiting for a renewal shares one login. It is not tied to the first caller's
      // abort signal: a caller that gives up stops waiting, the login goes on for the others (its
      // requests are bounded by the agent's timeouts).
      inFlight ??= issue()
        .then((issued) => withRenewal(issued, now()))
        .finally(() => (inFlight = undefined));
      try {
        current = await unlessAborted(inFlight, signal);
      } catch (err) {
        // An early renewal that failed (a 429, an outage) leaves the current token in use while it
        // lives: the next call tries again, and the Retry-After gate keeps that try from being sent early.
        if (current && now() < current.expiresAt) return current.accessToken;
        throw err;
      }
      return current.accessToken;
    },
    invalidate(token) {
      if (current?.accessToken === token) current = undefined;
    },
  };
}

/** Waits for `shared`, or rejects as soon as `signal` aborts (`shared` itself goes on). */
function unlessAborted<T>(shared: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return shared;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(signal.reason);
    signal.addEventListener('abort', stop, { once: true });
    shared.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}

export function staticTokenSource(token: string): TokenSource {
  return { token: async () => token, invalidate: () => undefined };
}

export const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().optional(),
  refresh_token: z.string().optional(),
});

/** When the token stops being valid: the JWT's `exp` if readable, else `expires_in`, else 5 minutes. */
export function tokenExpiry(accessToken: string, expiresInSec: number | undefined, now = Date.now()): number {
  const exp = jwtClaims(accessToken)?.exp;
  if (typeof exp === 'number') return exp * 1000;
  return now + (expiresInSec ?? 300) * 1000;
}

/** The claims of a JWT, unverified (the server verifies; we only read `exp` and roles). */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * Posts a form to a Keycloak token endpoint, under the worker's Retry-After gate; a refusal is a
 * HookAuthError with Keycloak's words.
 */
export async function postTokenForm(
  http: GatedHttp,
  url: string,
  form: Record<string, string>,
): Promise<IssuedToken & { refreshToken?: string }> {
  const req = { method: 'POST' as const, url };
  const res = await http.gate.send(http.dispatcher, {
    ...req,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(form).toString(),
  });
  if (res.statusCode === 400 || res.statusCode === 401) {
    const text = await res.body.text().catch(() => '');
    throw new HookAuthError('The identity provider refused the token request', {
      ...req,
      status: res.statusCode,
      detail: text,
    });
  }
  await ensureOk(res, req);
  const body = await readJson(res, req, tokenResponseSchema);
  return {
    accessToken: body.access_token,
    expiresAt: tokenExpiry(body.access_token, body.expires_in),
    refreshToken: body.refresh_token,
  };
}

export interface ClientCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
}

export interface IdentityRequestOptions {
  /** The worker's Retry-After gate, shared with its other clients; a source of its own when absent. */
  gate?: RetryAfterGate;
}

/** A DEDL service account: OAuth client credentials at the DEDL token endpoint. */
export function clientCredentialsTokenSource(
  dispatcher: Dispatcher,
  credentials: ClientCredentials,
  options: TokenCacheOptions & IdentityRequestOptions = {},
): TokenSource {
  const http = { dispatcher, gate: options.gate ?? new RetryAfterGate() };
  return cachedTokenSource(
    () =>
      postTokenForm(http, credentials.tokenUrl, {
        grant_type: 'client_credentials',
        client_id: credentials.clientId,
        client_secret: credentials.clientSecret,
        scope: 'openid',
      }),
    options,
  );
}
