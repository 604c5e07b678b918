/**
 * DEDL IAM (`/auth/realms/dedl/…`, as on https://identity.data.destination-earth.eu/auth): the RFC
 * 8693 token exchange DESP → DEDL that every Hook client performs, checked parameter by parameter,
 * and client_credentials for service accounts (docs/hook-api.md §2.3 step 5, §2.4).
 */
import { type AccountDirectory } from './accounts';
import { discovery } from './auth-desp-realm';
import { readForm, sendJson } from './http-util';
import { type RequestContext, type Route } from './router';
import { type TokenService } from './tokens';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
export const DEDL_PUBLIC_CLIENT = 'hda-public';
export const DESP_IDP_ALIAS = 'desp-oidc';

export interface DedlAuthDeps {
  baseUrl: string;
  accounts: AccountDirectory;
  tokens: TokenService;
}

const fail = (ctx: RequestContext, status: number, error: string, description: string): void =>
  sendJson(ctx.res, status, { error, error_description: description });

/** Client id and secret from HTTP Basic or from the form (client_secret_post). */
function clientCredentials(ctx: RequestContext, form: URLSearchParams): { id: string; secret: string } {
  const basic = /^Basic\s+(\S+)$/i.exec(ctx.req.headers.authorization ?? '');
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
    }
  }
  return { id: form.get('client_id') ?? '', secret: form.get('client_secret') ?? '' };
}

export function createDedlRoutes(deps: DedlAuthDeps): Route[] {
  const { baseUrl, accounts, tokens } = deps;

  const exchange = (ctx: RequestContext, form: URLSearchParams): void => {
    const expect: [string, string][] = [
      ['client_id', DEDL_PUBLIC_CLIENT],
      ['subject_issuer', DESP_IDP_ALIAS],
      ['subject_token_type', ACCESS_TOKEN_TYPE],
      ['audience', DEDL_PUBLIC_CLIENT],
    ];
    for (const [name, value] of expect) {
      const got = form.get(name);
      if (got === null || got === '') return fail(ctx, 400, 'invalid_request', `Missing parameter: ${name}`);
      if (got !== value) return fail(ctx, 400, 'invalid_request', `Invalid parameter: ${name} must be '${value}'`);
    }
    const subject = form.get('subject_token');
    if (!subject) return fail(ctx, 400, 'invalid_request', 'Missing parameter: subject_token');
    const checked = tokens.verify('desp', subject);
    if (!checked.ok) {
      return fail(
        ctx,
        400,
        'invalid_request',
        checked.expired ? 'Invalid token: subject_token has expired' : `Invalid token: ${checked.reason}`,
      );
    }
    // Roles come from the DEDL realm's own view of the user (the account), not from the DESP token.
    const principal = accounts.principal(checked.principal.sub) ?? checked.principal;
    const sid = typeof checked.claims['sid'] === 'string' ? checked.claims['sid'] : checked.principal.sub;
    const scope = 'openid profile email';
    const access = tokens.issue('dedl', 'Bearer', principal, { clientId: DEDL_PUBLIC_CLIENT, sid, scope });
    sendJson(
      ctx.res,
      200,
      {
        access_token: access.token,
        expires_in: access.expiresIn,
        refresh_expires_in: 0,
        token_type: 'Bearer',
        'not-before-policy': 0,
        session_state: sid,
        scope,
        issued_token_type: ACCESS_TOKEN_TYPE,
      },
      { 'cache-control': 'no-store', pragma: 'no-cache' },
    );
  };

  const clientCredentialsGrant = (ctx: RequestContext, form: URLSearchParams): void => {
    const { id, secret } = clientCredentials(ctx, form);
    const service = accounts.checkService(id, secret);
    if (!service) return fail(ctx, 401, 'invalid_client', 'Invalid client or Invalid client credentials');
    const principal = accounts.servicePrincipal(service);
    const scope = 'openid profile email';
    const access = tokens.issue('dedl', 'Bearer', principal, { clientId: id, sid: principal.sub, scope });
    sendJson(
      ctx.res,
      200,
      {
        access_token: access.token,
        expires_in: access.expiresIn,
        refresh_expires_in: 0,
        token_type: 'Bearer',
        'not-before-policy': 0,
        scope,
      },
      { 'cache-control': 'no-store', pragma: 'no-cache' },
    );
  };

  const token = async (ctx: RequestContext): Promise<void> => {
    const form = await readForm(ctx.req);
    const grant = form.get('grant_type');
    if (!grant) return fail(ctx, 400, 'invalid_request', 'Missing form parameter: grant_type');
    if (grant === TOKEN_EXCHANGE_GRANT) return exchange(ctx, form);
    if (grant === 'client_credentials') return clientCredentialsGrant(ctx, form);
    // DEDL-local user accounts were retired in Oct 2024 ("DESP credentials only").
    if (grant === 'password') return fail(ctx, 401, 'invalid_grant', 'Invalid user credentials');
    return fail(ctx, 400, 'unsupported_grant_type', 'Unsupported grant_type');
  };

  const oidc = '/auth/realms/dedl/protocol/openid-connect';
  return [
    {
      methods: ['GET'],
      pattern: /^\/auth\/realms\/dedl\/\.well-known\/openid-configuration$/,
      template: '/auth/realms/dedl/.well-known/openid-configuration',
      scope: 'auth',
      handle: (ctx) =>
        sendJson(ctx.res, 200, {
          ...discovery(tokens.issuer('dedl'), `${baseUrl}${oidc}`, [TOKEN_EXCHANGE_GRANT, 'client_credentials']),
          authorization_endpoint: undefined,
        }),
    },
    {
      methods: ['GET'],
      pattern: /^\/auth\/realms\/dedl\/protocol\/openid-connect\/certs$/,
      template: `${oidc}/certs`,
      scope: 'auth',
      handle: (ctx) => sendJson(ctx.res, 200, tokens.jwks('dedl')),
    },
    {
      methods: ['POST'],
      pattern: /^\/auth\/realms\/dedl\/protocol\/openid-connect\/token$/,
      template: `${oidc}/token`,
      scope: 'auth',
      handle: token,
    },
  ];
}
