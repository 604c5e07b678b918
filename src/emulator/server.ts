/**
 * The one request handler behind the emulator's single address: finds the route, counts the
 * request, applies request-level faults (latency, 429, 5xx) to the faulted scopes, and runs the
 * route. The admin API is answered on loopback connections only and is never faulted or counted.
 */
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Clock } from './clock';
import { type FaultInjector } from './faults';
import { HttpBodyError, bearerToken, isLoopback, sendJson } from './http-util';
import { peekClaims } from './jwt';
import { type RequestContext, type Route } from './router';
import { type EmulatorStats } from './stats';

export interface HandlerDeps {
  baseUrl: string;
  routes: readonly Route[];
  clock: Clock;
  faults: FaultInjector;
  stats: EmulatorStats;
}

/** Who is calling, for 429 bookkeeping: the bearer's subject, else the signed object, else the peer address. */
function clientOf(req: IncomingMessage, route: Route, path: string): string {
  const token = bearerToken(req);
  const sub = token ? peekClaims(token)?.['sub'] : undefined;
  if (typeof sub === 'string') return `sub:${sub}`;
  if (route.scope === 'storage') return `object:${path}`;
  return `addr:${req.socket.remoteAddress ?? 'unknown'}`;
}

export function createRequestHandler(d: HandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const fail = (res: ServerResponse, err: unknown): void => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof HttpBodyError) return sendJson(res, err.status, { detail: err.message });
    sendJson(res, 500, { detail: 'Internal Server Error' });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    let url: URL;
    let path: string;
    try {
      // Concatenated, not resolved: a path starting with `//` is not a host here.
      url = new URL(`${d.baseUrl}${req.url ?? '/'}`);
      path = decodeURIComponent(url.pathname).replace(/\/{2,}/g, '/');
    } catch {
      return sendJson(res, 400, { detail: 'Malformed request URL' });
    }
    let route: Route | undefined;
    let match: RegExpExecArray | null = null;
    for (const r of d.routes) {
      match = r.pattern.exec(path);
      if (match) {
        route = r;
        break;
      }
    }
    if (!route || !match) return sendJson(res, 404, { detail: 'Not Found' });
    if (route.scope === 'admin' && !isLoopback(req.socket.remoteAddress)) {
      return sendJson(res, 403, { detail: 'The admin API answers loopback clients only' });
    }
    const template = typeof route.template === 'string' ? route.template : route.template(path);
    const label = `${method} ${template}`;
    const ctx: RequestContext = { req, res, url, path, receivedAt: d.clock.now() };
    if (route.scope !== 'admin') {
      const client = clientOf(req, route, path);
      d.stats.request(label, client, ctx.receivedAt);
      if (d.faults.appliesTo(route.scope)) {
        const f = d.faults.settings;
        const delay = f.latencyMs + (f.latencyJitterMs > 0 ? d.faults.random('latency') * f.latencyJitterMs : 0);
        if (delay > 0) {
          d.stats.fault('latency');
          await sleep(delay);
        }
        if (d.faults.roll('rateLimit', f.rateLimitRate)) {
          d.stats.rateLimit(label, client, d.clock.now(), f.retryAfterSec);
          return sendJson(res, 429, { detail: 'Too Many Requests' }, { 'retry-after': String(f.retryAfterSec) });
        }
        if (d.faults.roll('error', f.errorRate)) {
          d.stats.fault('error');
          return sendJson(res, f.errorStatus, { detail: STATUS_TEXT[f.errorStatus] });
        }
      }
    }
    if (!route.methods.includes(method)) {
      return sendJson(res, 405, { detail: 'Method Not Allowed' }, { allow: route.methods.join(', ') });
    }
    await route.handle(ctx, match);
  };

  return (req, res) => {
    handle(req, res).catch((err: unknown) => fail(res, err));
  };
}

const STATUS_TEXT: Record<number, string> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};
