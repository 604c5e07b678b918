/**
 * DESP IAM (`/realms/desp/…`, as on https://auth.destine.eu): the Keycloak authorization-code flow
 * the Hook notebooks drive by scraping HTML — login page, credential POST, optional OTP step, code
 * → token exchange — plus refresh_token, discovery, JWKS and userinfo (hook-api.md §2).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { type AccountDirectory } from './accounts';
import { errorPage, loginPage, otpPage } from './auth-pages';
import { type Clock } from './clock';
import { bearerToken, parseCookies, readForm, sendHtml, sendJson } from './http-util';
import { type Account } from './options';
import { type RequestContext, type Route } from './router';
import { checkTotp } from '../hook/totp';
import { type TokenService } from './tokens';

const REALM_PATH = '/realms/desp';
const COOKIE_PATH = '/realms/desp/';
/** Keycloak defaults: login form valid 30 min, authorization code 60 s. */
const LOGIN_TIMEOUT_MS = 30 * 60_000;
const CODE_LIFETIME_MS = 60_000;
const PASSWORD_EXECUTION = '76b8b9c0-3a1c-4e54-a1d2-7f5bd2c1c0a1';
const OTP_EXECUTION = 'c2c1a6d2-5e0f-4d5b-9b0c-8a3c1d4e5f60';
const SESSION_LIMIT = 10_000;

/** Public DESP clients and the redirect URIs registered for them (hook-api.md §2.2), plus their emulator twins. */
export function despClients(baseUrl: string): Map<string, string[]> {
  return new Map([
    ['dedl-hook', ['https://odp.data.destination-earth.eu/odata/v1/', `${baseUrl}/odata/v1/`]],
    [
      'dedl-hda',
      [
        'https://hda.data.destination-earth.eu/stac',
        'https://hda.data.destination-earth.eu/stac/',
        'https://hda.data.destination-earth.eu/stac/v2',
        `${baseUrl}/stac`,
        `${baseUrl}/stac/`,
        `${baseUrl}/stac/v2`,
      ],
    ],
  ]);
}

interface AuthSession {
  id: string;
  clientId: string;
  redirectUri: string;
  state: string | undefined;
  nonce: string | undefined;
  scope: string;
  tabId: string;
  sessionCode: string;
  stage: 'password' | 'otp';
  username?: string;
  createdAt: number;
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  username: string;
  sid: string;
  scope: string;
  nonce: string | undefined;
  expiresAt: number;
}

export interface DespAuthDeps {
  baseUrl: string;
  clock: Clock;
  accounts: AccountDirectory;
  tokens: TokenService;
}

const tokenError = (ctx: RequestContext, status: number, error: string, description: string): void =>
  sendJson(ctx.res, status, { error, error_description: description });

export function createDespRoutes(deps: DespAuthDeps): Route[] {
  const { baseUrl, clock, accounts, tokens } = deps;
  const clients = despClients(baseUrl);
  const sessions = new Map<string, AuthSession>();
  const codes = new Map<string, IssuedCode>();

  const randomCode = (): string => randomBytes(32).toString('base64url').slice(0, 43);

  const actionUrl = (s: AuthSession): string => {
    const q = new URLSearchParams({
      session_code: s.sessionCode,
      execution: s.stage === 'password' ? PASSWORD_EXECUTION : OTP_EXECUTION,
      client_id: s.clientId,
      tab_id: s.tabId,
    });
    return `${baseUrl}${REALM_PATH}/login-actions/authenticate?${q.toString()}`;
  };

  const prune = (): void => {
    const now = clock.now();
    for (const [id, s] of sessions) if (now - s.createdAt > LOGIN_TIMEOUT_MS) sessions.delete(id);
    for (const [c, v] of codes) if (v.expiresAt < now) codes.delete(c);
    if (sessions.size > SESSION_LIMIT) sessions.clear();
  };

  const authCookies = (s: AuthSession): string[] => [
    `AUTH_SESSION_ID=${s.id}.emulator; Version=1; Path=${COOKIE_PATH}; SameSite=None; HttpOnly`,
    `AUTH_SESSION_ID_LEGACY=${s.id}.emulator; Version=1; Path=${COOKIE_PATH}; HttpOnly`,
    `KC_RESTART=${Buffer.from(JSON.stringify({ cid: s.clientId, tab: s.tabId })).toString('base64url')}; Version=1; Path=${COOKIE_PATH}; HttpOnly`,
  ];

  const redirectWith = (redirectUri: string, params: Record<string, string | undefined>): string => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
    return `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${q.toString()}`;
  };

  const startLogin = (ctx: RequestContext): void => {
    const q = ctx.url.searchParams;
    const clientId = q.get('client_id') ?? '';
    const redirectUri = q.get('redirect_uri') ?? '';
    const allowed = clients.get(clientId);
    if (!allowed) return sendHtml(ctx.res, 400, errorPage('Client not found.'));
    if (!allowed.includes(redirectUri)) return sendHtml(ctx.res, 400, errorPage('Invalid parameter: redirect_uri'));
    const state = q.get('state') ?? undefined;
    if (q.get('response_type') !== 'code') {
      ctx.res.writeHead(302, {
        location: redirectWith(redirectUri, {
          error: 'unsupported_response_type',
          error_description:
            'Client is not allowed to initiate browser login with given response_type. Standard flow is disabled for the client.',
          state,
        }),
      });
      ctx.res.end();
      return;
    }
    prune();
    const session: AuthSession = {
      id: randomUUID(),
      clientId,
      redirectUri,
      state,
      nonce: q.get('nonce') ?? undefined,
      scope: q.get('scope') ?? '',
      tabId: randomBytes(8).toString('base64url').slice(0, 11),
      sessionCode: randomCode(),
      stage: 'password',
      createdAt: clock.now(),
    };
    sessions.set(session.id, session);
    sendHtml(ctx.res, 200, loginPage({ action: actionUrl(session) }), { 'set-cookie': authCookies(session) });
  };

  const finishLogin = (ctx: RequestContext, s: AuthSession, account: Account): void => {
    sessions.delete(s.id);
    const sid = randomUUID();
    const code = `${randomUUID()}.${sid}.${randomUUID()}`;
    codes.set(code, {
      clientId: s.clientId,
      redirectUri: s.redirectUri,
      username: account.username,
      sid,
      scope: s.scope,
      nonce: s.nonce,
      expiresAt: clock.now() + CODE_LIFETIME_MS,
    });
    ctx.res.writeHead(302, {
      location: redirectWith(s.redirectUri, { state: s.state, session_state: sid, code }),
      'set-cookie': [
        `KEYCLOAK_IDENTITY=${randomBytes(24).toString('base64url')}; Version=1; Path=${COOKIE_PATH}; HttpOnly`,
        `KEYCLOAK_SESSION=desp/${accounts.userPrincipal(account).sub}/${sid}; Version=1; Path=${COOKIE_PATH}`,
        `KC_RESTART=; Version=1; Expires=Thu, 01-Jan-1970 00:00:10 GMT; Max-Age=0; Path=${COOKIE_PATH}; HttpOnly`,
      ],
    });
    ctx.res.end();
  };

  const authenticate = async (ctx: RequestContext): Promise<void> => {
    const cookie = parseCookies(ctx.req.headers.cookie).get('AUTH_SESSION_ID');
    const session = cookie ? sessions.get(cookie.split('.')[0] ?? '') : undefined;
    if (!session) {
      return sendHtml(
        ctx.res,
        400,
        errorPage('Cookie not found. Please make sure cookies are enabled in your browser.'),
      );
    }
    if (clock.now() - session.createdAt > LOGIN_TIMEOUT_MS) {
      sessions.delete(session.id);
      return sendHtml(ctx.res, 400, errorPage('Your login attempt timed out. Login will start from the beginning.'));
    }
    const q = ctx.url.searchParams;
    const expectedExecution = session.stage === 'password' ? PASSWORD_EXECUTION : OTP_EXECUTION;
    if (q.get('tab_id') !== session.tabId || q.get('client_id') !== session.clientId) {
      return sendHtml(ctx.res, 400, errorPage('Invalid Request'));
    }
    if (q.get('session_code') !== session.sessionCode || q.get('execution') !== expectedExecution) {
      return sendHtml(
        ctx.res,
        400,
        errorPage('This page is no longer valid, please go back to your application and sign in again'),
      );
    }
    if (ctx.req.method === 'GET') {
      const page =
        session.stage === 'password'
          ? loginPage({ action: actionUrl(session) })
          : otpPage({ action: actionUrl(session) });
      return sendHtml(ctx.res, 200, page);
    }
    const form = await readForm(ctx.req);
    session.sessionCode = randomCode();
    if (session.stage === 'password') {
      const username = form.get('username') ?? '';
      const account = accounts.checkPassword(username, form.get('password') ?? '');
      if (!account) {
        return sendHtml(
          ctx.res,
          200,
          loginPage({ action: actionUrl(session), username, error: 'Invalid username or password.' }),
        );
      }
      if (account.otpSecret === undefined && account.otpCode === undefined) return finishLogin(ctx, session, account);
      session.stage = 'otp';
      session.username = account.username;
      return sendHtml(ctx.res, 200, otpPage({ action: actionUrl(session) }));
    }
    const account = accounts.findUser(session.username ?? '');
    const otp = (form.get('otp') ?? '').trim();
    const ok =
      account !== undefined &&
      otp !== '' &&
      ((account.otpCode !== undefined && otp === account.otpCode) ||
        (account.otpSecret !== undefined && checkTotp(account.otpSecret, otp, clock.now())));
    if (!ok || !account)
      return sendHtml(ctx.res, 200, otpPage({ action: actionUrl(session), error: 'Invalid authenticator code.' }));
    return finishLogin(ctx, session, account);
  };

  const issueAll = (
    ctx: RequestContext,
    account: Account,
    o: { clientId: string; sid: string; scope: string; nonce: string | undefined },
  ): void => {
    const principal = accounts.userPrincipal(account);
    const scope = ['openid', 'profile', 'email']
      .filter((s) => s !== 'openid' || o.scope.split(' ').includes('openid'))
      .join(' ');
    const access = tokens.issue('desp', 'Bearer', principal, { ...o, scope });
    const refresh = tokens.issue('desp', 'Refresh', principal, { ...o, scope });
    const body: Record<string, unknown> = {
      access_token: access.token,
      expires_in: access.expiresIn,
      refresh_expires_in: refresh.expiresIn,
      refresh_token: refresh.token,
      token_type: 'Bearer',
    };
    if (scope.includes('openid')) body['id_token'] = tokens.issue('desp', 'ID', principal, { ...o, scope }).token;
    Object.assign(body, { 'not-before-policy': 0, session_state: o.sid, scope });
    sendJson(ctx.res, 200, body, { 'cache-control': 'no-store', pragma: 'no-cache' });
  };

  const token = async (ctx: RequestContext): Promise<void> => {
    const form = await readForm(ctx.req);
    const clientId = form.get('client_id') ?? '';
    if (!clients.has(clientId))
      return tokenError(ctx, 401, 'invalid_client', 'Invalid client or Invalid client credentials');
    const grant = form.get('grant_type') ?? '';
    if (grant === 'authorization_code') {
      const code = form.get('code') ?? '';
      const issued = codes.get(code);
      codes.delete(code);
      if (!issued || issued.expiresAt < clock.now() || issued.clientId !== clientId) {
        return tokenError(ctx, 400, 'invalid_grant', 'Code not valid');
      }
      if ((form.get('redirect_uri') ?? '') !== issued.redirectUri) {
        return tokenError(ctx, 400, 'invalid_grant', 'Incorrect redirect_uri');
      }
      const account = accounts.findUser(issued.username);
      if (!account) return tokenError(ctx, 400, 'invalid_grant', 'User not found');
      return issueAll(ctx, account, { clientId, sid: issued.sid, scope: issued.scope, nonce: issued.nonce });
    }
    if (grant === 'refresh_token') {
      const checked = tokens.verify('desp', form.get('refresh_token') ?? '', 'Refresh');
      if (!checked.ok)
        return tokenError(ctx, 400, 'invalid_grant', checked.expired ? 'Token is not active' : 'Invalid refresh token');
      if (checked.claims['azp'] !== clientId) {
        return tokenError(
          ctx,
          400,
          'invalid_grant',
          "Invalid refresh token. Token client and authorized client don't match",
        );
      }
      const principal = accounts.principal(checked.principal.sub);
      const account = principal && accounts.findUser(principal.username);
      if (!account) return tokenError(ctx, 400, 'invalid_grant', 'User not found');
      const scope = typeof checked.claims['scope'] === 'string' ? checked.claims['scope'] : '';
      const sid = typeof checked.claims['sid'] === 'string' ? checked.claims['sid'] : randomUUID();
      return issueAll(ctx, account, { clientId, sid, scope, nonce: undefined });
    }
    if (grant === 'password')
      return tokenError(ctx, 400, 'unauthorized_client', 'Client not allowed for direct access grants');
    return tokenError(ctx, 400, 'unsupported_grant_type', 'Unsupported grant_type');
  };

  const userinfo = (ctx: RequestContext): void => {
    const checked = tokens.verify('desp', bearerToken(ctx.req) ?? '');
    if (!checked.ok) {
      return sendJson(
        ctx.res,
        401,
        { error: 'invalid_token', error_description: 'Token verification failed' },
        { 'www-authenticate': 'Bearer realm="desp", error="invalid_token"' },
      );
    }
    const p = checked.principal;
    sendJson(ctx.res, 200, { sub: p.sub, email_verified: true, preferred_username: p.username, email: p.email });
  };

  const oidc = `${REALM_PATH}/protocol/openid-connect`;
  return [
    {
      methods: ['GET'],
      pattern: /^\/realms\/desp\/\.well-known\/openid-configuration$/,
      template: `${REALM_PATH}/.well-known/openid-configuration`,
      scope: 'auth',
      handle: (ctx) =>
        sendJson(
          ctx.res,
          200,
          discovery(tokens.issuer('desp'), `${baseUrl}${oidc}`, ['authorization_code', 'refresh_token']),
        ),
    },
    {
      methods: ['GET'],
      pattern: /^\/realms\/desp\/protocol\/openid-connect\/certs$/,
      template: `${oidc}/certs`,
      scope: 'auth',
      handle: (ctx) => sendJson(ctx.res, 200, tokens.jwks('desp')),
    },
    {
      methods: ['GET'],
      pattern: /^\/realms\/desp\/protocol\/openid-connect\/auth$/,
      template: `${oidc}/auth`,
      scope: 'auth',
      handle: startLogin,
    },
    {
      methods: ['GET', 'POST'],
      pattern: /^\/realms\/desp\/login-actions\/authenticate$/,
      template: `${REALM_PATH}/login-actions/authenticate`,
      scope: 'auth',
      handle: authenticate,
    },
    {
      methods: ['POST'],
      pattern: /^\/realms\/desp\/protocol\/openid-connect\/token$/,
      template: `${oidc}/token`,
      scope: 'auth',
      handle: token,
    },
    {
      methods: ['GET', 'POST'],
      pattern: /^\/realms\/desp\/protocol\/openid-connect\/userinfo$/,
      template: `${oidc}/userinfo`,
      scope: 'auth',
      handle: userinfo,
    },
  ];
}

/** A Keycloak-shaped discovery document. */
export function discovery(issuer: string, oidcBase: string, grants: string[]): object {
  return {
    issuer,
    authorization_endpoint: `${oidcBase}/auth`,
    token_endpoint: `${oidcBase}/token`,
    userinfo_endpoint: `${oidcBase}/userinfo`,
    jwks_uri: `${oidcBase}/certs`,
    grant_types_supported: grants,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    scopes_supported: ['openid', 'profile', 'email'],
    claims_supported: ['sub', 'iss', 'preferred_username', 'email', 'realm_access'],
  };
}
