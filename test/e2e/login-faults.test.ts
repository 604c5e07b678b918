/**
 * The login itself failing: the DESP login form and the DEDL token exchange answer 503, then 429
 * with Retry-After, before the worker has a token. The activity that needed the token fails
 * retryably, Temporal retries it (after the Retry-After for a 429, never before), and once the
 * login works the harvest completes with one Hook order and no secret in any failure it recorded.
 */
import { randomUUID } from 'node:crypto';
import type { HarvestReport } from '../../src/shared/harvest-report';
import { emulatorStats, replaceFaults } from '../chaos/fault-storm-audit';
import { type HarvestEnv, catalogueIdentifiers, request, startHarvestEnv } from '../helpers/harvest-env';
import { eventually } from '../helpers/hook';

const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';
const AUTH_ROUTE = /^(GET|POST) \/(realms|auth)\//;

describe('faults at the login endpoints', () => {
  let env: HarvestEnv;

  beforeAll(async () => {
    // A fresh worker: it has no token yet, so its first Hook call logs in.
    env = await startHarvestEnv({ timing: { queuedMs: 10, processingMs: 30 }, productSize: 40_000 });
  });
  afterAll(() => env?.close());

  it('retries a failing login (503, then 429 with Retry-After) until it works, ordering once', async () => {
    await replaceFaults(env.emulator, { errorRate: 1, errorStatus: 503, scopes: ['auth'] });
    const name = `login faults ${randomUUID().slice(0, 8)}`;
    const handle = await env.client.workflow.start('harvest', {
      taskQueue: env.taskQueue,
      workflowId: `login-faults-${randomUUID()}`,
      args: [
        request({
          name,
          identifiers: catalogueIdentifiers(env.emulator, COLLECTION, 2),
          output: { storage: 'TEMPORARY', sink: env.sinkUrl },
        }),
      ],
    });

    // What the retried attempts failed with, as Temporal shows them (pending activities' last failure).
    const seen = new Set<string>();
    const watch = async () => {
      for (const p of (await handle.describe()).raw.pendingActivities ?? []) {
        if (p.lastFailure?.message) seen.add(p.lastFailure.message);
      }
      return emulatorStats(env.emulator);
    };
    await eventually(watch, (s) => s.faultsInjected.error >= 1 && seen.size > 0);
    await replaceFaults(env.emulator, { rateLimitRate: 1, retryAfterSec: 1, scopes: ['auth'] });
    await eventually(watch, (s) => s.faultsInjected.rateLimit >= 1);
    await replaceFaults(env.emulator, {});

    const report = (await handle.result()) as HarvestReport;
    expect(report.outcome).toBe('delivered');
    const stats = await emulatorStats(env.emulator);
    // Every 429 went to a login route, and nobody came back before its Retry-After.
    expect(stats.rateLimited.length).toBeGreaterThanOrEqual(1);
    expect(stats.rateLimited.filter((r) => !AUTH_ROUTE.test(r.route))).toEqual([]);
    expect(stats.earlyReturns).toBe(0);
    // One Hook order, although its submission waited for the login.
    expect(Object.entries(stats.ordersByName).filter(([orderName]) => orderName.includes(name))).toEqual([
      [expect.any(String), 1],
    ]);
    // The failures say what happened at the login, without the credentials ('demo' / 'demo').
    const messages = [...seen].join('\n');
    expect(messages).toMatch(/HTTP 503/);
    for (const message of seen) expect(message).not.toContain('demo');
  });
});
