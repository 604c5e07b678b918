/**
 * The Hook (ODP OData) API client. Each method is one HTTP call (plus at most one token renewal
 * on a 401); failures are classified in errors.ts; nothing retries here — Temporal does.
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import type { HookEndpoints } from './endpoints';
import { HookResponseError, LinkExpiredError, hookErrorFromStatus, isRouteNotServed } from './errors';
import { type HookOperation, type HttpObserver, type HttpRequest, type HttpResponse, ensureOk, readJson } from './http';
import {
  type CreatedOrder,
  type HookOrder,
  type HookOrderItem,
  type HookWorkflow,
  type OptionValue,
  createdOrderSchema,
  listOf,
  orderItemSchema,
  orderSchema,
  singleOf,
  workflowSchema,
} from './schemas';
import { BearerTransport } from './bearer-transport';
import type { RetryAfterGate } from './retry-after-gate';
import type { TokenSource } from './tokens';

export interface BatchOrderRequest {
  Name: string;
  WorkflowName: string;
  IdentifierList: string[];
  WorkflowOptions: OptionValue[];
  Priority?: number;
}

export interface ProductRequest {
  /** `DownloadLink` (signed, no bearer) or `…/Product(id)/$value` (bearer). */
  url: string;
  /** Resume from this byte offset with `Range: bytes=<offset>-`. */
  offset?: number;
  /** Ask only up to this byte (inclusive) with `Range: bytes=<offset>-<end>`: one range of a parallel delivery. */
  end?: number;
  /** Validator from the first response (ETag or Last-Modified): the range is honoured only if it still matches. */
  ifRange?: string;
  signal?: AbortSignal;
}

export interface ProductResponse {
  body: Readable;
  /** Offset of the first body byte: the requested offset on 206, 0 when the server sent everything. */
  offset: number;
  /** True for a 206 answer (the server honoured the range), false when it sent the whole product. */
  partial: boolean;
  /** Bytes in this body, when announced. */
  contentLength?: number;
  /** The whole product's size, when known (Content-Range total or a 200's Content-Length). */
  totalSize?: number;
  etag?: string;
  lastModified?: string;
  contentType?: string;
}

const MAX_REDIRECTS = 5;
/** Pages of one OData list followed at most (an order has at most 100 items). */
const MAX_LIST_PAGES = 100;

export interface HookClientOptions {
  endpoints: HookEndpoints;
  tokens: TokenSource;
  dispatcher: Dispatcher;
  /** Shared by every client of one worker, so a Retry-After holds for all of them. */
  gate?: RetryAfterGate;
  /** Told the operation, status and latency of every request (the worker's metrics). */
  observer?: HttpObserver;
}

export class HookClient {
  private readonly odata: string;
  private readonly transport: BearerTransport;

  constructor(options: HookClientOptions) {
    this.odata = options.endpoints.odata.endsWith('/') ? options.endpoints.odata : `${options.endpoints.odata}/`;
    this.transport = new BearerTransport(options);
  }

  /** Every workflow the account may run, without option definitions. */
  async listWorkflows(signal?: AbortSignal): Promise<HookWorkflow[]> {
    const body = await this.getJson(
      'list-workflows',
      `Workflows?${query({ $orderby: 'Id asc' })}`,
      listOf(workflowSchema),
      signal,
    );
    return body.value;
  }

  /** One workflow with its option definitions, or undefined when no workflow has that name. */
  async getWorkflow(name: string, signal?: AbortSignal): Promise<HookWorkflow | undefined> {
    const path = `Workflows?${query({ $expand: 'WorkflowOptions', $filter: `Name eq ${literal(name)}` })}`;
    const body = await this.getJson('get-workflow', path, listOf(workflowSchema), signal);
    return body.value.find((w) => w.Name === name);
  }

  /** Creates the order; only its `Id` is relied on (a number in the recorded answers, a string in lists). */
  async createBatchOrder(order: BatchOrderRequest, signal?: AbortSignal): Promise<CreatedOrder> {
    return this.json('create-order', 'POST', 'BatchOrder/OData.CSC.Order', singleOf(createdOrderSchema), signal, order);
  }

  /**
   * Orders whose Name is exactly `name` (the submit step's idempotency lookup), every page.
   * Listing `BatchOrder` is documented for CDSE only; DEDL was seen answering
   * `ProductionOrders?$filter=endswith(Name,…)`, which is asked when the first is not served.
   */
  async findOrdersByName(name: string, signal?: AbortSignal): Promise<HookOrder[]> {
    let orders: HookOrder[];
    try {
      orders = await this.listAll(
        'find-orders',
        `BatchOrder?${query({ $filter: `Name eq ${literal(name)}` })}`,
        orderSchema,
        signal,
      );
    } catch (err) {
      if (!isRouteNotServed(err)) throw err;
      const filter = `endswith(Name,${literal(name)})`;
      orders = await this.listAll('find-orders', `ProductionOrders?${query({ $filter: filter })}`, orderSchema, signal);
    }
    return orders.filter((o) => o.Name === name);
  }

  /**
   * The order itself. `BatchOrder(id)` is documented for CDSE; DEDL was seen answering
   * `ProductionOrders?$filter=…` (the same Id), asked when the first is not served.
   */
  async getOrder(orderId: string, signal?: AbortSignal): Promise<HookOrder> {
    try {
      return await this.getJson('get-order', `BatchOrder(${key(orderId)})`, singleOf(orderSchema), signal);
    } catch (err) {
      if (!isRouteNotServed(err)) throw err;
    }
    // The form the official tutorial uses on DEDL (lower-case `id`, bare number).
    const path = `ProductionOrders?${query({ $filter: `id eq ${key(orderId)}` })}`;
    const [order] = await this.listAll('get-order', path, orderSchema, signal);
    if (!order) throw hookErrorFromStatus(404, { method: 'GET', url: `${this.odata}${path}`, detail: 'no such order' });
    return order;
  }

  /** Every item of the order, following `@odata.nextLink` (up to 100 items, page size unknown on DEDL). */
  async getOrderItems(orderId: string, signal?: AbortSignal): Promise<HookOrderItem[]> {
    return this.listAll('get-order-items', `BatchOrder(${key(orderId)})/Products`, orderItemSchema, signal);
  }

  /**
   * Cancels the order. `BatchOrder(id)/OData.CSC.Cancel` is inferred by symmetry; the documented
   * `ProductionOrder(id)/OData.CSC.Cancel` (same id) is used when the first is not served.
   */
  async cancelOrder(orderId: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.post('cancel-order', `BatchOrder(${key(orderId)})/OData.CSC.Cancel`, signal);
    } catch (err) {
      if (!isRouteNotServed(err)) throw err;
      await this.post('cancel-order', `ProductionOrder(${key(orderId)})/OData.CSC.Cancel`, signal);
    }
  }

  /** The bearer-authenticated download URL of one item. */
  productValueUrl(orderId: string, itemId: string): string {
    return `${this.odata}BatchOrder(${key(orderId)})/Product(${key(itemId)})/$value`;
  }

  /**
   * Opens a product body, optionally from an offset. Follows redirects itself so that the bearer
   * goes only to the ODP origin: a signed storage link must not receive it (and does not need it).
   */
  async openProduct(request: ProductRequest): Promise<ProductResponse> {
    let url = request.url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      // The bearer goes only to the ODP API itself; signed storage links (another origin in
      // production, another path on the emulator) authenticate by their signature.
      const withBearer = url.startsWith(this.odata);
      const req: HttpRequest = {
        method: 'GET',
        url,
        headers: productHeaders(request),
        signal: request.signal,
        operation: withBearer ? 'product' : 'product-link',
      };
      const res = withBearer ? await this.transport.authorized(req) : await this.transport.send(req);
      const location = firstHeader(res, 'location');
      if (res.statusCode >= 300 && res.statusCode < 400 && location) {
        await res.body.dump();
        url = new URL(location, url).toString();
        continue;
      }
      if (!withBearer && [401, 403, 410].includes(res.statusCode)) {
        const detail = await res.body.text().catch(() => '');
        throw new LinkExpiredError('The signed download link was refused (expired or invalid)', {
          method: 'GET',
          url,
          status: res.statusCode,
          detail,
        });
      }
      await ensureOk(res, req);
      return productResponse(res, request.offset ?? 0);
    }
    throw hookErrorFromStatus(310, { method: 'GET', url: request.url, detail: `more than ${MAX_REDIRECTS} redirects` });
  }

  /** A POST whose answer is not needed (only its status). */
  private async post(operation: HookOperation, path: string, signal?: AbortSignal): Promise<void> {
    const req: HttpRequest = { method: 'POST', url: `${this.odata}${path}`, operation };
    const res = await this.transport.authorized({ ...req, body: '{}', signal });
    await ensureOk(res, req);
    await res.body.dump();
  }

  /**
   * Every row of an OData list: pages are followed through `@odata.nextLink`, which must stay on
   * the ODP origin (the bearer goes with it) and may not run on forever.
   */
  private async listAll<T extends z.ZodType>(
    operation: HookOperation,
    path: string,
    row: T,
    signal?: AbortSignal,
  ): Promise<z.infer<T>[]> {
    const rows: z.infer<T>[] = [];
    let url = `${this.odata}${path}`;
    for (let page = 1; ; page++) {
      const body = await this.json(operation, 'GET', url, listOf(row), signal);
      rows.push(...body.value);
      const next = body['@odata.nextLink'];
      if (!next) return rows;
      const nextUrl = new URL(next, url);
      if (nextUrl.origin !== new URL(this.odata).origin) {
        throw new HookResponseError('the next page of a list is on another origin', {
          method: 'GET',
          url: nextUrl.href,
        });
      }
      if (page >= MAX_LIST_PAGES) {
        throw new HookResponseError(`a list ran past ${MAX_LIST_PAGES} pages`, { method: 'GET', url });
      }
      url = nextUrl.href;
    }
  }

  private async getJson<S extends z.ZodType>(
    operation: HookOperation,
    path: string,
    schema: S,
    signal?: AbortSignal,
  ): Promise<z.infer<S>> {
    return this.json(operation, 'GET', path, schema, signal);
  }

  /** `path` is relative to the ODP base, or an absolute URL on it (a next page). */
  private async json<S extends z.ZodType>(
    operation: HookOperation,
    method: 'GET' | 'POST',
    path: string,
    schema: S,
    signal?: AbortSignal,
    body?: unknown,
  ): Promise<z.infer<S>> {
    const req: HttpRequest = {
      method,
      url: /^https?:\/\//.test(path) ? path : `${this.odata}${path}`,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      operation,
    };
    const res = await this.transport.authorized(req);
    await ensureOk(res, req);
    return readJson(res, req, schema);
  }
}

function productHeaders(request: ProductRequest): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/zip, application/octet-stream;q=0.9, */*;q=0.1' };
  if (request.offset || request.end !== undefined) {
    headers.range = `bytes=${request.offset ?? 0}-${request.end ?? ''}`;
    if (request.ifRange) headers['if-range'] = request.ifRange;
  }
  return headers;
}

function productResponse(res: HttpResponse, requestedOffset: number): ProductResponse {
  const contentLength = numberHeader(res, 'content-length');
  const contentRange = firstHeader(res, 'content-range');
  const partial = res.statusCode === 206 && contentRange !== undefined;
  const range = partial ? /bytes (\d+)-\d+\/(\d+|\*)/.exec(contentRange) : null;
  const offset = partial && range ? Number(range[1]) : 0;
  const total = range?.[2] && range[2] !== '*' ? Number(range[2]) : partial ? undefined : contentLength;
  if (partial && offset !== requestedOffset) {
    res.body.destroy();
    throw hookErrorFromStatus(416, { detail: `asked for bytes from ${requestedOffset}, got ${contentRange}` });
  }
  return {
    body: res.body,
    offset,
    partial,
    contentLength,
    totalSize: total,
    etag: firstHeader(res, 'etag'),
    lastModified: firstHeader(res, 'last-modified'),
    contentType: firstHeader(res, 'content-type'),
  };
}

function firstHeader(res: HttpResponse, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function numberHeader(res: HttpResponse, name: string): number | undefined {
  const value = firstHeader(res, name);
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** An OData string literal: single quotes, with embedded quotes doubled. */
export function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Keys go unquoted in parentheses (`BatchOrder(13832)`); refuse anything that could change the path. */
function key(id: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(id))
    throw hookErrorFromStatus(400, { detail: `invalid OData key ${JSON.stringify(id)}` });
  return id;
}

/** OData query options, percent-encoded (spaces as %20, which every OData server accepts). */
function query(options: Record<string, string>): string {
  return Object.entries(options)
    .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
    .join('&');
}
