/**
 * Puts the generated STAC catalogue (stac.ts) on the emulator's address under `/stac/…` (and
 * `/stac/v2/…`), with the real HDA's access rule: collections are public, search and items need a
 * valid DEDL bearer (any role).
 */
import { sendJson, bearerToken } from './http-util';
import { type RequestContext, type Route } from './router';
import { type StacCatalogue, handleStacRequest } from './stac';
import { type TokenService } from './tokens';

export interface StacGateDeps {
  baseUrl: string;
  catalogue: StacCatalogue;
  tokens: TokenService;
}

const PROTECTED = /^\/stac(?:\/v2)?\/(?:search|collections\/[^/]+\/items(?:\/.*)?)\/?$/;

/** `/stac/collections/EO.X/items/ID` → `/stac/collections/{collectionId}/items/{itemId}` */
export function stacTemplate(path: string): string {
  return path
    .replace(/\/collections\/[^/]+/, '/collections/{collectionId}')
    .replace(/\/items\/[^/]+/, '/items/{itemId}')
    .replace(/\/+$/, '');
}

export function createStacRoutes(d: StacGateDeps): Route[] {
  const handle = async (ctx: RequestContext): Promise<void> => {
    if (PROTECTED.test(ctx.path)) {
      const checked = d.tokens.verify('dedl', bearerToken(ctx.req) ?? '');
      if (!checked.ok) {
        return sendJson(
          ctx.res,
          401,
          {
            code: 'Unauthorized',
            description: checked.expired ? 'Token has expired' : 'A valid DEDL bearer token is required',
          },
          { 'www-authenticate': 'Bearer' },
        );
      }
    }
    const handled = await handleStacRequest(ctx.req, ctx.res, ctx.url, d.catalogue, { baseUrl: d.baseUrl });
    if (!handled && !ctx.res.headersSent) sendJson(ctx.res, 404, { code: 'NotFoundError', description: 'Not Found' });
  };
  return [
    { methods: ['GET', 'POST', 'HEAD'], pattern: /^\/stac(?:\/.*)?$/, template: stacTemplate, scope: 'stac', handle },
  ];
}
