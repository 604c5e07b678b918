/**
 * The admin API under `/_emulator/` (no auth; answered on loopback connections only, never faulted):
 *
 * | call | what |
 * |---|---|
 * | `GET /_emulator/health` | `{ "ok": true }` |
 * | `GET /_emulator/faults` | current fault settings |
 * | `PUT /_emulator/faults` | replace them (missing fields take their defaults) |
 * | `PATCH /_emulator/faults` | change only the fields given |
 * | `GET /_emulator/stats` | orders per `Name`, requests per route, injected faults, every 429 and early returns, items per state and their peak in flight, signed-link reads and their start offsets, access tokens issued and used |
 * | `POST /_emulator/stats/reset` | zero the counters (orders and items stay) |
 */
import { type FaultInjector, faultsSchema } from './faults';
import { readBody, sendJson } from './http-util';
import { type OrderBook } from './orders';
import { type RequestContext, type Route } from './router';
import { type EmulatorStats, type StatsReport } from './stats';

export interface AdminDeps {
  faults: FaultInjector;
  stats: EmulatorStats;
  book: OrderBook;
}

export interface AdminReport extends StatsReport {
  itemsByState: Record<string, number>;
  /** The most items queued or in progress at once since start (every order, every account). */
  peakItemsInFlight: number;
}

export function createAdminRoutes(d: AdminDeps): Route[] {
  const readJson = async (ctx: RequestContext): Promise<{ ok: true; value: unknown } | { ok: false }> => {
    try {
      const raw = (await readBody(ctx.req, 64 * 1024)).toString('utf8');
      return { ok: true, value: raw.trim() === '' ? {} : JSON.parse(raw) };
    } catch {
      sendJson(ctx.res, 400, { detail: 'body must be JSON' });
      return { ok: false };
    }
  };

  const setFaults = (merge: boolean) => async (ctx: RequestContext) => {
    const body = await readJson(ctx);
    if (!body.ok) return;
    const input =
      merge && typeof body.value === 'object' && body.value !== null
        ? { ...d.faults.settings, ...body.value }
        : body.value;
    const parsed = faultsSchema.safeParse(input);
    if (!parsed.success) {
      return sendJson(ctx.res, 400, {
        detail: parsed.error.issues.map((i) => ({ loc: i.path, msg: i.message, type: i.code })),
      });
    }
    d.faults.replace(parsed.data);
    sendJson(ctx.res, 200, parsed.data);
  };

  const report = (): AdminReport => ({
    ...d.stats.report(),
    itemsByState: d.book.itemCounts(),
    peakItemsInFlight: d.book.peakItemsInFlight(),
  });

  const admin = (methods: string[], path: string, handle: Route['handle']): Route => ({
    methods,
    pattern: new RegExp(`^/_emulator/${path}$`),
    template: `/_emulator/${path}`,
    scope: 'admin',
    handle,
  });

  return [
    admin(['GET'], 'health', (ctx) => sendJson(ctx.res, 200, { ok: true })),
    admin(['GET', 'PUT', 'PATCH'], 'faults', (ctx) =>
      ctx.req.method === 'GET' ? sendJson(ctx.res, 200, d.faults.settings) : setFaults(ctx.req.method === 'PATCH')(ctx),
    ),
    admin(['GET'], 'stats', (ctx) => sendJson(ctx.res, 200, report())),
    admin(['POST'], 'stats/reset', (ctx) => {
      d.stats.reset();
      sendJson(ctx.res, 200, report());
    }),
  ];
}
