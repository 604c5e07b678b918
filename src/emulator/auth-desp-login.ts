/**
 * The DESP login flow (`/realms/desp/protocol/openid-connect/auth` and `…/login-actions/authenticate`),
 * as Keycloak serves it to the notebooks that scrape it: login page, credential POST, optional OTP
 * step, and the redirect carrying an authorization code, which the token endpoint
 * (auth-desp-token.ts) redeems once.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { errorPage, loginPage, otpPage } from './auth-pages';
import { type DespAuthDeps, COOKIE_PATH, REALM_PATH } from './auth-desp-realm';
import { parseCookies, readForm, sendHtml } from './http-util';
import { type Account } from './options';
import { type RequestContext } from './router';
import { checkTotp } from '../hook/totp';

/** Keycloak defaults: login form valid 30 min, authorization code 60 s. */
const LOGIN_TIMEOUT_MS = 30 * 60_000;
const CODE_LIFETIME_MS = 60_000;
const PASSWORD_EXECUTION = '76b8b9c0-3a1c-4e54-a1d2-7f5bd2c1c0a1';
const OTP_EXECUTION = 'c2c1a6d2-5e0f-4d5b-9b0c-8a3c1d4e5f60';
const SESSION_LIMIT = 10_000;

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

export interface IssuedCode {
  clientId: string;
  redirectUri: string;
  username: string;
  sid: string;
  scope: string;
  nonce: string | undefined;
  expiresAt: number;
}

export function createDespLogin(deps: DespAuthDeps, clients: Map<string, string[]>) {
  const { baseUrl, clock, accounts } = deps;
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

  /** The code's grant, at most once: a code is gone after its first use, valid or not. */
  const redeemCode = (code: string): IssuedCode | undefined => {
    const issued = codes.get(code);
    codes.delete(code);
    return issued;
  };

  return { startLogin, authenticate, redeemCode };
}
