/**
 * The OData order resources, `BatchOrder` and `ProductionOrder(s)`: create (validation, quota,
 * the `lostOrderResponse` fault), list, get and cancel the caller's own orders.
 */
import { quotaOf } from './accounts';
import { readBody, sendJson } from './http-util';
import { BATCH_ORDER_PROPERTIES, CONTEXT, PRODUCTION_ORDER_PROPERTIES, createdOrderEntity } from './odata-entities';
import { type OdataKit, detail } from './odata-common';
import { validateOrder } from './order-validation';
import { type OrderRecord } from './orders';
import { type RequestContext } from './router';

export function orderHandlers(kit: OdataKit) {
  const {
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
    unverifiedOnDedl,
  } = kit;

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

  return { createOrder, listBatchOrders, listProductionOrders, getBatchOrder, getProductionOrder, cancel };
}
