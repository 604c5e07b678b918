/**
 * The ODP OData API under `/odata/v1/` (docs/hook-api.md §3–§5, §11): workflows, batch and production
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
 *
 * This module is the route table; the handlers are in one module per resource (odata-workflows.ts,
 * odata-orders.ts, odata-items.ts) built on the shared helpers of odata-common.ts.
 */
import { sendJson } from './http-util';
import { type OdataDeps, type OdataHandler, createOdataKit } from './odata-common';
import { itemHandlers } from './odata-items';
import { orderHandlers } from './odata-orders';
import { workflowHandlers } from './odata-workflows';
import { type RequestContext, type Route } from './router';

const KEY = String.raw`\(\s*'?(\d+)'?\s*\)`;
const P = '/odata/v1/';
const route = (methods: string[], pattern: string, template: string, handle: OdataHandler): Route => ({
  methods,
  pattern: new RegExp(`^/odata/v1/${pattern}$`),
  template: `${P}${template}`,
  scope: 'odata',
  handle,
});

export function createOdataRoutes(d: OdataDeps): Route[] {
  const kit = createOdataKit(d);
  const { listWorkflows, getWorkflow } = workflowHandlers(kit);
  const { createOrder, listBatchOrders, listProductionOrders, getBatchOrder, getProductionOrder, cancel } =
    orderHandlers(kit);
  const { listItems, getItem, download } = itemHandlers(kit);

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
