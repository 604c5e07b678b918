/**
 * The DESP token endpoint (authorization_code and refresh_token grants, as Keycloak answers them)
 * and userinfo.
 */
import { randomUUID } from 'node:crypto';
import { type IssuedCode } from './auth-desp-login';
import { type DespAuthDeps } from './auth-desp-realm';
import { bearerToken, readForm, sendJson } from './http-util';
import { type Account } from './options';
import { type RequestContext } from './router';

const tokenError = (ctx: RequestContext, status: number, error: string, description: string): void =>
  sendJson(ctx.res, status, { error, error_description: description });

export function createDespTokenEndpoint(
  deps: DespAuthDeps,
  clients: Map<string, string[]>,
  redeemCode: (code: string) => IssuedCode | undefined,
) {
  const { clock, accounts, tokens } = deps;

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
      const issued = redeemCode(code);
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

  return { token, userinfo };
}
