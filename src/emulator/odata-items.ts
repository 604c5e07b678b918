/**
 * The OData item resources of an order, `…/Products`, `…/Product(pid)` and their `$value`: the
 * list, one item, and the download, which answers 302 to the item's signed `DownloadLink`.
 */
import { sendJson } from './http-util';
import { CONTEXT, ITEM_PROPERTIES } from './odata-entities';
import { type OdataKit, detail } from './odata-common';
import { type ItemRecord, type OrderRecord } from './orders';
import { type RequestContext } from './router';

export function itemHandlers(kit: OdataKit) {
  const { book, authorize, query, sendList, ownOrder, itemView } = kit;

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

  return { listItems, getItem, download };
}
