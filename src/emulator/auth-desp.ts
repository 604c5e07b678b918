/**
 * DESP IAM (`/realms/desp/…`, as on https://auth.destine.eu): the Keycloak authorization-code flow
 * the Hook notebooks drive by scraping HTML — login page, credential POST, optional OTP step, code
 * → token exchange — plus refresh_token, discovery, JWKS and userinfo (docs/hook-api.md §2).
 *
 * This module is the route table; the login flow is in auth-desp-login.ts, the token endpoint and
 * userinfo in auth-desp-token.ts, what they share in auth-desp-realm.ts.
 */
import { createDespLogin } from './auth-desp-login';
import { type DespAuthDeps, REALM_PATH, despClients, discovery } from './auth-desp-realm';
import { createDespTokenEndpoint } from './auth-desp-token';
import { sendJson } from './http-util';
import { type Route } from './router';

export function createDespRoutes(deps: DespAuthDeps): Route[] {
  const { baseUrl, tokens } = deps;
  const clients = despClients(baseUrl);
  const { startLogin, authenticate, redeemCode } = createDespLogin(deps, clients);
  const { token, userinfo } = createDespTokenEndpoint(deps, clients, redeemCode);

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
