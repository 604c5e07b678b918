/**
 * The ODP OData API under `/odata/v1/` (hook-api.md §3–§5, §11): workflows, batch and production
 * orders, order items, downloads and cancel actions. Every call needs a valid, unexpired DEDL
 * bearer (401) carrying the `hook-workflows` role (403). Users only see their own orders.
 *
 * Choices where the real service is not documented:
 * - keyed GETs (`BatchOrder(id)`, `ProductionOrders(id)`, `…/Product(pid)`) return the bare entity
 *   with an `@odata.context`; creations and actions return `{"@odata.context", "value": {…}}`;
 * - `…/Product(pid)/$value` answers 302 to the item's signed `DownloadLink` (the Tutorial follows
 *   redirects); 409 while the item is queued/in_progress, 404 when it failed, was cancelled, or
 *   went to PRIVATE storage;
 * - cancel answers 200 with the order, also when it had already ended (idempotent);
 * - an order past the monthly order quota, or from an account without a quota role, gets 403;
 * - semantic order errors get 400 `{"detail": "…"}`, shape errors 422 (order-validation.ts).
 */
import { type AccountDirectory, type Principal, quotaOf } from './accounts';
import { type FaultInjector } from './faults';
import { readBody, sendJson } from './http-util';
import {
  BATCH_ORDER_PROPERTIES,
  CONTEXT,
  ITEM_PROPERTIES,
  PRODUCTION_ORDER_PROPERTIES,
  WORKFLOW_PROPERTIES,
  batchOrderEntity,
  createdOrderEntity,
  itemEntity,
  productionOrderEntity,
} from './odata-entities';
import { QueryError, applyQuery } from './odata-query';
import { HOOK_ACCESS_ROLE } from './options';
import { validateOrder } from './order-validation';
import { type ItemRecord, type OrderBook, type OrderRecord } from './orders';
import { type RequestContext, type Route } from './router';
import { type EmulatorStats } from './stats';
import { type TokenService } from './tokens';
import { type HookDialect, type WorkflowDef, workflowEntity } from './workflows-fixture';
import { bearerToken } from './http-util';

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

const MAX_TOP = 10_000;
const KEY = String.raw`\(\s*'?(\d+)'?\s*\)`;
const P = '/odata/v1/';
const route = (
  methods: string[],
  pattern: string,
  template: string,
  handle: (ctx: RequestContext, m: RegExpExecArray) => Promise<void> | void,
): Route => ({
  methods,
  pattern: new RegExp(`^/odata/v1/${pattern}$`),
  template: `${P}${template}`,
  scope: 'odata',
  handle,
});

const detail = (ctx: RequestContext, status: number, message: string, headers: Record<string, string> = {}): void =>
  sendJson(ctx.res, status, { detail: message }, headers);

export function createOdataRoutes(d: OdataDeps): Route[] {
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

  const expandOptions = (ctx: RequestContext): boolean | undefined => {
    const expand = ctx.url.searchParams.get('$expand');
    if (expand === null || expand.trim() === '') return false;
    if (expand.trim().toLowerCase() === 'workflowoptions') return true;
    detail(ctx, 400, `Invalid $expand: '${expand}' (only WorkflowOptions can be expanded)`);
    return undefined;
  };

  const listWorkflows = (ctx: RequestContext): void => {
    if (!authorize(ctx)) return;
    const expand = expandOptions(ctx);
    if (expand === undefined) return;
    const result = query(ctx, d.workflows, WORKFLOW_PROPERTIES, (w) => w as unknown as Record<string, unknown>);
    if (!result) return;
    sendList(ctx, CONTEXT.workflows, { ...result, value: result.value.map((w) => workflowEntity(w, expand, dialect)) });
  };

  const getWorkflow = (ctx: RequestContext, m: RegExpExecArray): void => {
    if (!authorize(ctx)) return;
    const expand = expandOptions(ctx);
    if (expand === undefined) return;
    const w = d.workflows.find((x) => x.Id === m[1]);
    if (!w) return detail(ctx, 404, `Workflow ${m[1] ?? ''} not found`);
    sendJson(ctx.res, 200, { '@odata.context': CONTEXT.workflows, ...workflowEntity(w, expand, dialect) });
  };

  const createOrder = (kind: 'batch' | 'production') => async (ctx: RequestContext) => {
    const who = authorize(ctx);
    if (!who) return;
    const raw = (await readBody(ctx.req, 16 * 1024 * 1024)).toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch (err) {
      const msg = err instanceof Error ? err.message : 'invalid JSON';
      return sendJson(ctx.res, 422, { detail: [{ loc: ['body', 0], msg, type: 'value_error.jsondecode' }] });
    }
    const checked = validateOrder(body, { kind, workflows: d.workflows, maxItems: d.maxItemsPerOrder });
    if (!checked.ok) return sendJson(ctx.res, checked.status, checked.body);
    const quota = quotaOf(who);
    if (!quota)
      return detail(ctx, 403, 'No Hook quota role (hook-low, hook-medium or hook-high) is assigned to this account');
    if (book.ordersThisMonth(who.sub) >= quota.monthlyOrders) {
      return detail(
        ctx,
        403,
        `Monthly order quota exceeded: ${quota.monthlyOrders} orders per month allowed for role ${quota.role}`,
      );
    }
    const order = book.create(
      { sub: who.sub, username: who.username, maxParallelItems: quota.maxParallelItems },
      checked.request,
      { id: Number(checked.workflow.Id), version: checked.workflow.WorkflowVersion },
      kind,
    );
    d.stats.orderCreated(order.name);
    if (d.faults.roll('lostOrderResponse', d.faults.settings.lostOrderResponseRate)) {
      d.stats.fault('lostOrderResponse');
      return detail(ctx, 502, 'Bad Gateway');
    }
    const value = kind === 'batch' ? createdOrderEntity(order, checked.workflow, dialect) : production(order);
    sendJson(ctx.res, 201, {
      '@odata.context': kind === 'batch' ? CONTEXT.batchOrderCreated : CONTEXT.orderCreated,
      value,
    });
  };

  /** An item as served: without `StatusMessage` when `itemStatusMessages` is false (as DEDL was seen). */
  const itemView = (item: ItemRecord): Record<string, unknown> =>
    itemEntity(item, d.itemStatusMessages !== false, dialect);

  /** A route DEDL was never seen to serve (CDSE documents it), refused in the `dedlObservedRoutesOnly` dialect. */
  const unverifiedOnDedl = (ctx: RequestContext): boolean => {
    if (!d.dedlObservedRoutesOnly) return false;
    detail(ctx, 404, 'Not Found');
    return true;
  };

  const listBatchOrders = (ctx: RequestContext): void => {
    if (unverifiedOnDedl(ctx)) return;
    const who = authorize(ctx);
    if (!who) return;
    const rows = book.ordersOf(who.sub);
    const result = query(ctx, rows, BATCH_ORDER_PROPERTIES, batch);
    if (result) sendList(ctx, CONTEXT.batchOrders, { ...result, value: result.value.map(batch) });
  };

  const listProductionOrders = (ctx: RequestContext): void => {
    const who = authorize(ctx);
    if (!who) return;
    const rows = book.ordersOf(who.sub);
    const view = (o: OrderRecord): Record<string, unknown> => ({
      ...production(o),
      'InputProductReference/Reference': firstIdentifier(o),
    });
    const result = query(ctx, rows, PRODUCTION_ORDER_PROPERTIES, view);
    if (result) sendList(ctx, CONTEXT.productionOrders, { ...result, value: result.value.map(production) });
  };

  const getBatchOrder = (ctx: RequestContext, m: RegExpExecArray): void => {
    if (unverifiedOnDedl(ctx)) return;
    const who = authorize(ctx);
    const order = who && ownOrder(ctx, who, m[1], 'BatchOrder');
    if (order) sendJson(ctx.res, 200, { '@odata.context': CONTEXT.batchOrder, ...batch(order) });
  };

  const getProductionOrder = (ctx: RequestContext, m: RegExpExecArray): void => {
    const who = authorize(ctx);
    const order = who && ownOrder(ctx, who, m[1], 'ProductionOrder');
    if (order) sendJson(ctx.res, 200, { '@odata.context': CONTEXT.productionOrders, ...production(order) });
  };

  const listItems = (ctx: RequestContext, m: RegExpExecArray): void => {
    const who = authorize(ctx);
    const order = who && ownOrder(ctx, who, m[1], 'BatchOrder');
    if (!order) return;
    const listed = book.itemsOf(order).filter((item) => !item.removed);
    const result = query(ctx, listed, ITEM_PROPERTIES, itemView);
    if (result) sendList(ctx, CONTEXT.items, { ...result, value: result.value.map(itemView) });
  };

  const findItem = (
    ctx: RequestContext,
    m: RegExpExecArray,
    label: string,
  ): { order: OrderRecord; item: ItemRecord } | undefined => {
    const who = authorize(ctx);
    const order = who && ownOrder(ctx, who, m[1], label);
    if (!order) return undefined;
    const itemId = m[2] === undefined ? order.itemIds[0] : Number(m[2]);
    const item = itemId === undefined ? undefined : book.item(itemId);
    if (!item || item.orderId !== order.id) {
      detail(ctx, 404, `Product ${m[2] ?? ''} not found in ${label} ${order.id}`);
      return undefined;
    }
    return { order, item };
  };

  const getItem =
    (label: string) =>
    (ctx: RequestContext, m: RegExpExecArray): void => {
      const found = findItem(ctx, m, label);
      if (found) sendJson(ctx.res, 200, { '@odata.context': CONTEXT.item, ...itemView(found.item) });
    };

  const download =
    (label: string) =>
    (ctx: RequestContext, m: RegExpExecArray): void => {
      const found = findItem(ctx, m, label);
      if (!found) return;
      const { item } = found;
      if (item.status === 'queued' || item.status === 'in_progress') {
        return detail(
          ctx,
          409,
          `Product ${item.id} of ${label} ${item.orderId} is not available yet: status ${item.status}`,
        );
      }
      if (item.status !== 'completed')
        return detail(ctx, 404, `Product ${item.id} has no output: status ${item.status}`);
      if (!item.downloadLink) {
        return detail(ctx, 404, `Product ${item.id} was written to PRIVATE storage; there is nothing to download here`);
      }
      ctx.res.writeHead(302, { location: item.downloadLink, 'content-length': 0 });
      ctx.res.end();
    };

  const cancel =
    (label: string, kind: 'batch' | 'production') =>
    (ctx: RequestContext, m: RegExpExecArray): void => {
      if (kind === 'batch' && unverifiedOnDedl(ctx)) return;
      const who = authorize(ctx);
      const order = who && ownOrder(ctx, who, m[1], label);
      if (!order) return;
      book.cancel(order, d.cancelRemovesQueuedItems);
      const value = kind === 'batch' ? batch(order) : production(order);
      sendJson(ctx.res, 200, {
        '@odata.context': kind === 'batch' ? CONTEXT.batchOrderCreated : CONTEXT.orderCreated,
        value,
      });
    };

  const serviceDocument = (ctx: RequestContext): void =>
    sendJson(ctx.res, 200, {
      '@odata.context': '$metadata',
      value: ['Workflows', 'BatchOrder', 'ProductionOrders'].map((name) => ({ name, kind: 'EntitySet', url: name })),
    });

  return [
    route(['GET'], '', '', serviceDocument),
    route(['GET'], 'Workflows', 'Workflows', listWorkflows),
    route(['GET'], `Workflows${KEY}`, 'Workflows({id})', getWorkflow),
    route(['POST'], String.raw`BatchOrder/OData\.CSC\.Order`, 'BatchOrder/OData.CSC.Order', createOrder('batch')),
    route(['GET'], 'BatchOrders?', 'BatchOrder', listBatchOrders),
    route(['GET'], `BatchOrders?${KEY}`, 'BatchOrder({id})', getBatchOrder),
    route(['GET'], `BatchOrders?${KEY}/Products`, 'BatchOrder({id})/Products', listItems),
    route(['GET'], `BatchOrders?${KEY}/Products?${KEY}`, 'BatchOrder({id})/Product({id})', getItem('BatchOrder')),
    route(
      ['GET'],
      String.raw`BatchOrders?${KEY}/Products?${KEY}/\$value`,
      'BatchOrder({id})/Product({id})/$value',
      download('BatchOrder'),
    ),
    route(
      ['POST'],
      String.raw`BatchOrders?${KEY}/OData\.CSC\.Cancel`,
      'BatchOrder({id})/OData.CSC.Cancel',
      cancel('BatchOrder', 'batch'),
    ),
    route(
      ['POST'],
      String.raw`ProductionOrder/OData\.CSC\.Order`,
      'ProductionOrder/OData.CSC.Order',
      createOrder('production'),
    ),
    route(['GET'], 'ProductionOrders', 'ProductionOrders', listProductionOrders),
    route(['GET'], `ProductionOrders?${KEY}`, 'ProductionOrders({id})', getProductionOrder),
    route(['GET'], `ProductionOrders?${KEY}/Product`, 'ProductionOrder({id})/Product', getItem('ProductionOrder')),
    route(
      ['GET'],
      String.raw`ProductionOrders?${KEY}/Product/\$value`,
      'ProductionOrder({id})/Product/$value',
      download('ProductionOrder'),
    ),
    route(
      ['POST'],
      String.raw`ProductionOrders?${KEY}/OData\.CSC\.Cancel`,
      'ProductionOrder({id})/OData.CSC.Cancel',
      cancel('ProductionOrder', 'production'),
    ),
  ];
}
