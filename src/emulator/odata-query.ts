/** OData system query options on collections: `$filter`, `$orderby`, `$skip`, `$top`, `$count`. */
import { FilterError, compileFilter } from './odata-filter';

export class QueryError extends Error {
  override readonly name = 'QueryError';
}

export interface QueryResult<T> {
  value: T[];
  count?: number;
  nextLink?: string;
}

function nonNegativeInt(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  if (!/^\d+$/.test(raw.trim())) throw new QueryError(`Invalid ${name}: '${raw}' is not a non-negative integer`);
  return Number(raw.trim());
}

function sortKey(v: unknown): number | string {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return v === null || v === undefined ? '' : String(v);
}

/**
 * Applies the query options of `params` to `rows`. `view` gives the properties `$filter` and
 * `$orderby` see (named in `properties`); `selfUrl` (the request URL) is used to build `@odata.nextLink` when
 * `$top` leaves rows behind.
 */
export function applyQuery<T>(
  rows: readonly T[],
  params: URLSearchParams,
  o: {
    properties: readonly string[];
    selfUrl: URL;
    view: (row: T) => Record<string, unknown>;
    maxTop?: number;
    /** Page size without `$top`; its `@odata.nextLink` carries the `$top` on. */
    defaultTop?: number;
  },
): QueryResult<T> {
  let out = [...rows];
  const filter = params.get('$filter');
  if (filter !== null && filter.trim() !== '') {
    let predicate: (e: Record<string, unknown>) => boolean;
    try {
      predicate = compileFilter(filter, o.properties);
    } catch (err) {
      if (err instanceof FilterError) throw new QueryError(`Invalid $filter: ${err.message}`);
      throw err;
    }
    out = out.filter((row) => predicate(o.view(row)));
  }
  const orderby = params.get('$orderby');
  if (orderby !== null && orderby.trim() !== '') {
    const keys = orderby.split(',').map((part) => {
      const m = /^\s*(\w+)(?:\s+(asc|desc))?\s*$/i.exec(part);
      const prop = m?.[1] && o.properties.find((p) => p.toLowerCase() === m[1]?.toLowerCase());
      if (!m || !prop) throw new QueryError(`Invalid $orderby: '${part.trim()}'`);
      return { prop, dir: m[2]?.toLowerCase() === 'desc' ? -1 : 1 };
    });
    const views = new Map(out.map((row) => [row, o.view(row)]));
    out.sort((a, b) => {
      for (const k of keys) {
        const x = sortKey(views.get(a)?.[k.prop]);
        const y = sortKey(views.get(b)?.[k.prop]);
        if (x < y) return -k.dir;
        if (x > y) return k.dir;
      }
      return 0;
    });
  }
  const countParam = params.get('$count');
  if (countParam !== null && !/^(true|false)$/i.test(countParam))
    throw new QueryError(`Invalid $count: '${countParam}'`);
  const total = out.length;
  const skip = nonNegativeInt(params, '$skip') ?? 0;
  const top = nonNegativeInt(params, '$top') ?? o.defaultTop;
  if (top !== undefined && o.maxTop !== undefined && top > o.maxTop)
    throw new QueryError(`Invalid $top: at most ${o.maxTop}`);
  out = out.slice(skip, top === undefined ? undefined : skip + top);
  const result: QueryResult<T> = { value: out };
  if (countParam?.toLowerCase() === 'true') result.count = total;
  if (top !== undefined && skip + top < total) {
    const next = new URL(o.selfUrl.href);
    next.searchParams.set('$skip', String(skip + top));
    next.searchParams.set('$top', String(top));
    result.nextLink = next.href;
  }
  return result;
}
