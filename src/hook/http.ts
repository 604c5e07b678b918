/**
 * The HTTP layer every Hook call goes through: one keep-alive undici Agent with explicit connect,
 * headers and body timeouts, abort signals, and one translation of failures into the classes of
 * errors.ts. It never retries: Temporal's retry policy does that, once, at the activity level.
 */
import { Agent, type Dispatcher, request } from 'undici';
import type { z } from 'zod';
import {
  HookResponseError,
  HookUnreadableAnswerError,
  hookErrorFromStatus,
  parseRetryAfter,
  toHookError,
} from './errors';

export interface HttpTimeouts {
  /** TCP + TLS connect. Default 10 s. */
  connectTimeoutMs?: number;
  /** Until the response headers arrive. Default 60 s. */
  headersTimeoutMs?: number;
  /** Longest silence between two body chunks. Default 60 s. */
  bodyTimeoutMs?: number;
}

export function createHttpAgent(timeouts: HttpTimeouts = {}): Agent {
  return new Agent({
    connect: { timeout: timeouts.connectTimeoutMs ?? 10_000 },
    headersTimeout: timeouts.headersTimeoutMs ?? 60_000,
    bodyTimeout: timeouts.bodyTimeoutMs ?? 60_000,
    keepAliveTimeout: 30_000,
  });
}

export interface HttpRequest {
  method: Dispatcher.HttpMethod;
  url: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Which Hook call this is, for an HttpObserver (a fixed name: never the URL, which holds ids and signatures). */
  operation?: HookOperation;
}

/** The Hook calls by name: a closed set, so metrics labelled with it stay small. */
export type HookOperation =
  | 'list-workflows'
  | 'get-workflow'
  | 'create-order'
  | 'find-orders'
  | 'get-order'
  | 'get-order-items'
  | 'cancel-order'
  | 'product'
  | 'product-link'
  | 'stac-search';

/** One request as an observer sees it (metrics): no URL, no header, nothing secret. */
export interface HttpExchange {
  operation: HookOperation | 'other';
  method: Dispatcher.HttpMethod;
  /** The response status; undefined when no response came (connection failure, timeout, abort). */
  status?: number;
  /** Until the response headers arrived (or the request failed); a body is streamed afterwards. */
  durationMs: number;
}

/** Told about every request a BearerTransport sends; implemented outside this layer (the worker's metrics). */
export interface HttpObserver {
  exchange(exchange: HttpExchange): void;
}

export type HttpResponse = Dispatcher.ResponseData;

/** Sends one request; connection-level failures become HookConnectionError. Any status is returned. */
export async function send(dispatcher: Dispatcher, req: HttpRequest): Promise<HttpResponse> {
  try {
    return await request(req.url, {
      dispatcher,
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: req.signal,
    });
  } catch (err) {
    if (req.signal?.aborted) throw err;
    throw toHookError(err, { method: req.method, url: req.url });
  }
}

/** Throws the classified error for a non-2xx answer, with the server's explanation when it gave one. */
export async function ensureOk(res: HttpResponse, req: Pick<HttpRequest, 'method' | 'url'>): Promise<void> {
  if (res.statusCode >= 200 && res.statusCode < 300) return;
  const detail = await readErrorDetail(res);
  throw hookErrorFromStatus(
    res.statusCode,
    { method: req.method, url: req.url, detail },
    parseRetryAfter(res.headers['retry-after']),
  );
}

/**
 * Reads a 2xx JSON body and validates it: a body that is not JSON is a HookResponseError (retried),
 * JSON of another shape a HookUnreadableAnswerError (not retried).
 */
export async function readJson<S extends z.ZodType>(
  res: HttpResponse,
  req: Pick<HttpRequest, 'method' | 'url'>,
  schema: S,
): Promise<z.infer<S>> {
  const text = await readBody(res, req);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HookResponseError('Hook answered with something that is not JSON', {
      ...req,
      status: res.statusCode,
      detail: text.slice(0, 200),
    });
  }
  // JSON of a shape we cannot read is permanent (asking again returns the same), unlike an answer
  // that is not JSON at all (a proxy's page): it fails once, naming the fields, the answer kept.
  const result = schema.safeParse(parsed);
  if (!result.success) {
    throw new HookUnreadableAnswerError(
      'Hook answer does not have a shape we can read',
      { ...req, status: res.statusCode },
      result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
      text,
    );
  }
  return result.data;
}

async function readBody(res: HttpResponse, req: Pick<HttpRequest, 'method' | 'url'>): Promise<string> {
  try {
    return await res.body.text();
  } catch (err) {
    throw toHookError(err, req);
  }
}

/**
 * The server's own words for a failure: FastAPI `detail` (string or validation list), Keycloak
 * `error_description`/`error`, or the start of a text body.
 */
async function readErrorDetail(res: HttpResponse): Promise<string | undefined> {
  const text = await res.body.text().catch(() => '');
  if (!text) return undefined;
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const detail = body.detail;
    if (typeof detail === 'string') return detail;
    if (Array.isArray(detail)) {
      return detail
        .map((d: { loc?: unknown[]; msg?: string }) => `${(d.loc ?? []).join('.')}: ${d.msg ?? ''}`)
        .join('; ');
    }
    const described = body.error_description ?? body.description ?? body.message ?? body.error;
    if (typeof described === 'string') return described;
  } catch {
    // not JSON: fall through to the text itself
  }
  return text.slice(0, 300);
}
