/**
 * The real HDA's access rule for STAC: collections are public, search and items need a valid DEDL
 * bearer (any role). The routes (stac-routes.ts) ask here before they answer.
 */
import { bearerToken, sendJson } from './http-util';
import type { RequestContext } from './router';
import type { TokenService } from './tokens';

const PROTECTED = /^\/stac(?:\/v2)?\/(?:search|collections\/[^/]+\/items(?:\/.*)?)\/?$/;

/** Answers 401 and returns false when the path needs a DEDL bearer the request does not carry. */
export function stacAccessAllowed(ctx: RequestContext, tokens: TokenService): boolean {
  if (!PROTECTED.test(ctx.path)) return true;
  const checked = tokens.verify('dedl', bearerToken(ctx.req) ?? '');
  if (checked.ok) return true;
  sendJson(
    ctx.res,
    401,
    {
      code: 'Unauthorized',
      description: checked.expired ? 'Token has expired' : 'A valid DEDL bearer token is required',
    },
    { 'www-authenticate': 'Bearer' },
  );
  return false;
}
