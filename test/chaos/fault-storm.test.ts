/**
 * Chaos scenario 3 (issue #7), the fault storm: a campaign against an emulator that answers 10 % of
 * requests with a 5xx, 5 % with a 429 and `Retry-After`, resets 3 % of product downloads mid-body,
 * truncates 2 %, fails 5 % of the items itself, and issues tokens that expire after 60 s.
 *
 * The campaign must end with every product the Hook did not fail delivered with the emulator's
 * sha256 (hashed again from the file on disk), every Hook-failed product reported as failed with
 * the Hook's own message, nothing corrupt accepted, no `.part` left, one order per batch and no
 * request sent before a `Retry-After` elapsed (the emulator's own bookkeeping).
 *
 * Scales: `full` (npm run chaos) is 300 products with 60 s tokens; `short` (npm test) is 36 products
 * with 5 s tokens, so that tokens do expire and get replaced within its short run.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { productDigest } from '../../src/emulator/product';
import type { CampaignItem, CampaignReport } from '../../src/shared/campaign-report';
import { JWT } from '../../src/shared/secret-patterns';
import { CHAOS_SCALE, recordChaosRow, secretsIn } from './chaos-record';
import { historyTexts } from './chaos-harness';
import { auditLocalSink, leftBehind, productObjectName } from '../helpers/sink-audit';
import {
  type CampaignEnv,
  campaignRequest,
  catalogueIds,
  orderCounts,
  startCampaignEnv,
} from '../helpers/campaign-env';
import { describeInjected, emulatorStats, hookItems, replaceFaults } from './fault-storm-audit';
import { RetryAfterWitness } from './fault-storm-wire';

const FULL = CHAOS_SCALE === 'full';
// Budgets (`timeoutMs`, the campaign's execution timeout; jest adds a minute): the short run took
// 26.3 s with the machine at load ~10 and 56.9 s at load ~17 (2 cores, 2026-12-06), so 3 min is
// more than 3× what it needs even loaded. The one failure seen under load (issue #21) was a
// Retry-After violation on the login path, not a timeout; login requests now pass the worker's gate.
const PLAN = FULL
  ? { products: 300, orderSize: 20, tokenLifetimeSec: 60, continueAsNewAfterEvents: 200, timeoutMs: 15 * 60_000 }
  : { products: 36, orderSize: 6, tokenLifetimeSec: 5, continueAsNewAfterEvents: 10_000, timeoutMs: 3 * 60_000 };
const SIZE = 200_000;

const STORM = {
  errorRate: 0.1,
  errorStatus: 503,
  rateLimitRate: 0.05,
  retryAfterSec: 1,
  resetRate: 0.03,
  truncateRate: 0.02,
  itemFailureRate: 0.05,
  tokenLifetimeSec: PLAN.tokenLifetimeSec,
  // The DESP login and DEDL token exchange too: tokens expire every few seconds, so logins meet faults.
  scopes: ['odata', 'stac', 'storage', 'auth'],
} as const;

describe(`chaos: fault storm (${CHAOS_SCALE})`, () => {
  let env: CampaignEnv;

  beforeAll(async () => {
    env = await startCampaignEnv({
      timing: { queuedMs: 5, processingMs: 20 },
      productSize: SIZE,
      // A seed whose dice strike early for every fault kind, so that even the short run meets each.
      seed: 4889,
      faults: { ...STORM, scopes: [...STORM.scopes] },
    });
  });
  afterAll(() => env?.close());

  it(
    'delivers every recoverable product verified, reports every Hook failure, accepts nothing corrupt',
    async () => {
      const identifiers = catalogueIds(env.emulator, PLAN.products);
      expect(identifiers).toHaveLength(PLAN.products);
      const sink = env.freshSink('storm');
      const workflowId = `chaos-fault-storm-${CHAOS_SCALE}-${Date.now()}`;
      const { requestsTotal: before, accessTokens: tokensBefore } = await emulatorStats(env.emulator);
      const started = Date.now();
      const witness = new RetryAfterWitness().start();
      const report: CampaignReport = await env.client.workflow
        .execute('harvestCampaign', {
          taskQueue: env.taskQueue,
          workflowId,
          args: [
            campaignRequest({
              name: `storm-${CHAOS_SCALE}`,
              identifiers,
              orderSize: PLAN.orderSize,
              maxOrdersInFlight: 3,
              continueAsNewAfterEvents: PLAN.continueAsNewAfterEvents,
              polling: { initialInterval: '50ms', maxInterval: '200ms', backoff: 1.5, deadline: '10m' },
              output: { storage: 'TEMPORARY', sink: sink.url },
            }),
          ],
          workflowExecutionTimeout: PLAN.timeoutMs,
        })
        .finally(() => witness.stop());
      const elapsedSec = (Date.now() - started) / 1000;

      // The emulator's view of the storm, read before any traffic of the test's own.
      const stats = await emulatorStats(env.emulator);
      await replaceFaults(env.emulator, {});
      const orders = await env.hookOrders();
      const items = await hookItems(
        env.emulator,
        orders.map((o) => o.Id),
      );

      // What the Hook failed itself, with its words; everything else it completed.
      const hookFailed = new Map(items.filter((i) => i.status === 'failed').map((i) => [i.identifier, i.message]));
      const recoverable = identifiers.filter((id) => !hookFailed.has(id));

      // The campaign's account of every product: the manifest lists them all (the result may omit
      // delivered ones when there are many).
      const manifest = JSON.parse(await readFile(path.join(sink.dir, 'manifest.json'), 'utf8')) as CampaignReport;
      const byId = new Map<string, CampaignItem>((manifest.items ?? []).map((i) => [i.identifier, i]));

      // Every recoverable product must be on disk with the emulator's sha256 (hashed again from the
      // file) and reported so; any file or report with other bytes is a corrupt product accepted.
      const audit = await auditLocalSink(sink.dir);
      const expected = new Map<string, string>();
      for (const id of identifiers) expected.set(id, (await productDigest({ identifier: id, size: SIZE })).sha256);
      const lostIds: string[] = [];
      const corruptIds: string[] = [];
      for (const identifier of recoverable) {
        const onDisk = audit.objects.get(productObjectName(identifier))?.sha256;
        const item = byId.get(identifier);
        const right = expected.get(identifier);
        if ((onDisk !== undefined && onDisk !== right) || (item?.sha256 !== undefined && item.sha256 !== right)) {
          corruptIds.push(identifier);
        } else if (onDisk === undefined || item?.state !== 'delivered') lostIds.push(identifier);
      }
      // A product file for an item the Hook failed was accepted from nowhere.
      const strays = [...audit.objects.keys()].filter((name) => !recoverable.includes(name.replace(/\.zip$/, '')));
      corruptIds.push(...strays);
      const leftovers = leftBehind(audit);

      // One order per batch, each product in exactly one of them.
      const counts = orderCounts(orders);
      const duplicated = [...counts.values()].filter((n) => n > 1).length;
      const batches = Math.ceil(PLAN.products / PLAN.orderSize);

      // DEDL access tokens issued during the storm (a faulted token request issues none), and the
      // distinct ones the Hook accepted on a request: a renewed token that was also used.
      const tokens = {
        issued: stats.accessTokens.dedl.issued - tokensBefore.dedl.issued,
        used: stats.accessTokens.dedl.used - tokensBefore.dedl.used,
      };
      // Secrets of this scenario: the bearer tokens (any JWT) in the histories, manifest or report.
      // (The worker runs in this process; its log is not captured here.)
      const secretsFound = secretsIn(
        [JWT],
        [
          ...(await historyTexts(env.client, [workflowId])),
          { where: 'manifest', text: JSON.stringify(manifest) },
          { where: 'campaign report', text: JSON.stringify(report) },
        ],
      );
      const arrived = stats.requestsTotal - before;
      const witnessed = witness.requestsTo(new URL(env.emulator.url).origin);
      const injected = describeInjected(stats, PLAN.tokenLifetimeSec, tokens);
      recordChaosRow({
        scenario: 'fault storm',
        runs: report.runs,
        injected,
        products: PLAN.products,
        lost: lostIds.length,
        duplicated,
        corruptAccepted: corruptIds.length,
        secretsFound: secretsFound.length,
        leftBehind: leftovers.length,
      });
      console.log(
        `fault storm (${CHAOS_SCALE}): ${PLAN.products} products in ${elapsedSec.toFixed(1)} s, ` +
          `${recoverable.length} delivered, ${hookFailed.size} Hook-failed, ${orders.length} orders, ` +
          `${report.runs} runs, ${arrived} requests (${witnessed} seen leaving), ${stats.rateLimited.length} 429s, ` +
          `${stats.earlyReturns} arrived before a 429's time was up (sent before it reached the worker); ${injected}`,
      );

      expect({ lost: lostIds, duplicated, corrupt: corruptIds }).toEqual({ lost: [], duplicated: 0, corrupt: [] });
      expect(secretsFound).toEqual([]);
      expect(leftovers).toEqual([]);
      expect(report.counts).toMatchObject({
        items: PLAN.products,
        delivered: recoverable.length,
        failed: hookFailed.size,
        timed_out: 0,
        cancelled: 0,
        pending: 0,
        ordered: 0,
      });
      expect(byId.size).toBe(PLAN.products);
      for (const identifier of recoverable) {
        expect(byId.get(identifier)).toMatchObject({
          state: 'delivered',
          bytes: SIZE,
          sha256: expected.get(identifier),
        });
      }

      // Every Hook-failed product is reported failed, carrying the Hook's own message.
      expect(items.filter((i) => i.status !== 'failed' && i.status !== 'completed')).toEqual([]);
      for (const [identifier, message] of hookFailed) {
        expect(message).toMatch(/emulated fault/);
        expect(byId.get(identifier)).toMatchObject({ state: 'failed', error: expect.stringContaining(message!) });
      }

      // One order per batch, each product in exactly one of them.
      expect(report.orders).toBe(batches);
      expect(orders).toHaveLength(batches);
      expect(counts.size).toBe(PLAN.products);
      expect(orders.every((o) => o.IdentifierList.length <= PLAN.orderSize)).toBe(true);

      // No request was sent before a Retry-After elapsed. Every request the emulator received was
      // seen leaving (same count, none went around the witness), and none was created after a 429
      // reached the worker and before its time was up. The emulator's own "early" count may still be
      // above zero: requests already on the wire when it wrote the 429 (see fault-storm-wire.ts).
      expect(stats.rateLimited.length).toBeGreaterThan(0);
      expect(witnessed).toBe(arrived);
      expect(witness.violations()).toEqual([]);

      // The storm did blow: each kind of fault struck.
      const f = stats.faultsInjected;
      expect(Math.min(f.error, f.rateLimit, f.reset, f.truncate, f.itemFailure)).toBeGreaterThan(0);
      expect(hookFailed.size).toBe(f.itemFailure);
      // Tokens were replaced during the run (they last PLAN.tokenLifetimeSec), and the new ones used.
      expect(tokens.issued).toBeGreaterThan(1);
      expect(tokens.used).toBeGreaterThan(1);
      expect(tokens.used).toBeLessThanOrEqual(tokens.issued);
    },
    PLAN.timeoutMs + 60_000,
  );
});
