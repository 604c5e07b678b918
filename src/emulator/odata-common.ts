/**
 * What every OData resource module shares (odata-routes.ts puts them together): the caller's
 * authorization (401/403), `$`-query evaluation, list and error answers, the caller's own order,
 * and the entity views of orders and items in the configured dialect.
 */
import { type AccountDirectory, type Principal } from './accounts';
import { type FaultInjector } from './faults';
import { bearerToken, sendJson } from './http-util';
import { batchOrderEntity, itemEntity, productionOrderEntity } from './odata-entities';
import { QueryError, applyQuery } from './odata-query';
import { HOOK_ACCESS_ROLE } from './options';
import { type ItemRecord, type OrderBook, type OrderRecord } from './orders';
import { type RequestContext } from './router';
import { type EmulatorStats } from './stats';
import { type TokenService } from './tokens';
import { type HookDialect, type WorkflowDef } from './workflows-fixture';

export interface OdataDeps {
  odataUrl: string;
  book: OrderBook;
  workflows: readonly WorkflowDef[];
  accounts: AccountDirectory;
  tokens: TokenService;
  stats: EmulatorStats;
  faults: FaultInjector;
  maxItemsPerOrder: number;
  /** See the emulator option of the same name. */
  dedlObservedRoutesOnly?: boolean;
  /** Rows per page when a list request has no `$top`. */
  defaultPageSize?: number;
  /** See the emulator option of the same name. */
  cancelRemovesQueuedItems?: boolean;
  /** See the emulator option of the same name. */
  itemStatusMessages?: boolean;
  /** See the emulator option `hookDialect`. */
  dialect?: HookDialect;
}

/** A route handler: the request, and the match of its route's pattern (keys in groups 1, 2). */
export type OdataHandler = (ctx: RequestContext, m: RegExpExecArray) => Promise<void> | void;

const MAX_TOP = 10_000;

/** The Hook's error answer: `{"detail": "…"}` with the status. */
export const detail = (
  ctx: RequestContext,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void => sendJson(ctx.res, status, { detail: message }, headers);

/** The helpers the resource modules are built with, bound to one emulator's dependencies. */
export type OdataKit = ReturnType<typeof createOdataKit>;

export function createOdataKit(d: OdataDeps) {
  const { book } = d;
  const dialect = d.dialect ?? '2024-09';

  /** The caller, or undefined after answering 401/403. */
  const authorize = (ctx: RequestContext): Principal | undefined => {
    const token = bearerToken(ctx.req);
    if (!token) {
      detail(ctx, 401, 'Not authenticated', { 'www-authenticate': 'Bearer' });
      return undefined;
    }
    const checked = d.tokens.verify('dedl', token);
    if (!checked.ok) {
      const msg = checked.expired ? 'Token has expired' : `Invalid token: ${checked.reason}`;
      detail(ctx, 401, msg, { 'www-authenticate': `Bearer error="invalid_token", error_description="${msg}"` });
      return undefined;
    }
    if (!checked.principal.roles.includes(HOOK_ACCESS_ROLE)) {
      detail(ctx, 403, `Access denied: the '${HOOK_ACCESS_ROLE}' role is required to use the Hook service`);
      return undefined;
    }
    const known = d.accounts.principal(checked.principal.sub);
    return { ...checked.principal, maxParallelItems: known?.maxParallelItems, monthlyOrders: known?.monthlyOrders };
  };

  const query = <T>(
    ctx: RequestContext,
    rows: readonly T[],
    properties: readonly string[],
    view: (row: T) => Record<string, unknown>,
  ): ReturnType<typeof applyQuery<T>> | undefined => {
    try {
      return applyQuery(rows, ctx.url.searchParams, {
        properties,
        selfUrl: ctx.url,
        view,
        maxTop: MAX_TOP,
        defaultTop: d.defaultPageSize,
      });
    } catch (err) {
      if (err instanceof QueryError) {
        detail(ctx, 400, err.message);
        return undefined;
      }
      throw err;
    }
  };

  const sendList = (
    ctx: RequestContext,
    context: string,
    result: { value: unknown[]; count?: number; nextLink?: string },
  ): void => {
    const body: Record<string, unknown> = { '@odata.context': context };
    if (result.count !== undefined) body['@odata.count'] = result.count;
    body['value'] = result.value;
    if (result.nextLink !== undefined) body['@odata.nextLink'] = result.nextLink;
    sendJson(ctx.res, 200, body);
  };

  const ownOrder = (
    ctx: RequestContext,
    who: Principal,
    id: string | undefined,
    label: string,
  ): OrderRecord | undefined => {
    const order = book.get(Number(id));
    if (!order || order.owner !== who.sub) {
      detail(ctx, 404, `${label} ${id ?? ''} not found`);
      return undefined;
    }
    return order;
  };

  const firstIdentifier = (o: OrderRecord): string => book.item(o.itemIds[0] ?? -1)?.identifier ?? '';
  const production = (o: OrderRecord): Record<string, unknown> =>
    productionOrderEntity(o, book.status(o), firstIdentifier(o), dialect);
  const batch = (o: OrderRecord): Record<string, unknown> =>
    batchOrderEntity(
      o,
      book.status(o),
      book.itemsOf(o).map((i) => i.identifier),
      dialect,
    );

  /** An item as served: without `StatusMessage` when `itemStatusMessages` is false (as DEDL was seen). */
  const itemView = (item: ItemRecord): Record<string, unknown> =>
    itemEntity(item, d.itemStatusMessages !== false, dialect);

  /** A route DEDL was never seen to serve (CDSE documents it), refused in the `dedlObservedRoutesOnly` dialect. */
  const unverifiedOnDedl = (ctx: RequestContext): boolean => {
    if (!d.dedlObservedRoutesOnly) return false;
    detail(ctx, 404, 'Not Found');
    return true;
  };

  return {
    deps: d,
    book,
    dialect,
    authorize,
    query,
    sendList,
    ownOrder,
    firstIdentifier,
    production,
    batch,
    itemView,
    unverifiedOnDedl,
  };
}
