/**
 * Following a long harvest (`dedl-harvest run`/`watch`): the result is waited for with one long
 * poll after another, and none of them may leave an abort listener behind. On a Temporal server
 * whose long polls end after 100 ms (instead of 20 s), a 4-second harvest takes dozens of polls —
 * what a follow over a long retry takes against a real server.
 */
import { getEventListeners } from 'node:events';
import { followHarvest } from '../../src/client/follow';
import type { ProgressRenderer } from '../../src/client/render';
import { searchAttributeFlags } from '../../src/devstack/stack';
import { type TemporalDevServer, startTemporalDevServer } from '../../src/devstack/temporal-dev-server';
import { TEMPORAL_CLI, ensureTool } from '../../src/devstack/tools';
import type { HarvestReport } from '../../src/shared/harvest-report';
import { type HarvestEnv, catalogueIdentifiers, request, startHarvestEnv } from '../helpers/harvest-env';

const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';

describe('following a long harvest', () => {
  let server: TemporalDevServer;
  let env: HarvestEnv;

  beforeAll(async () => {
    server = await startTemporalDevServer({
      binary: await ensureTool(TEMPORAL_CLI),
      searchAttributes: searchAttributeFlags(),
      dynamicConfig: { 'history.longPollExpirationInterval': '100ms' },
    });
    env = await startHarvestEnv({ timing: { queuedMs: 0, processingMs: 4_000 } }, {}, server);
  });
  afterAll(async () => {
    await env?.close();
    await server?.stop();
  });

  it('keeps the abort listeners bounded however many long polls it takes', async () => {
    // Every signal the follow hands the SDK, and how many gRPC calls ran: the SDK adds an abort
    // listener per call to the signal in force and never removes it.
    const signals: AbortSignal[] = [];
    const original = env.client.withAbortSignal.bind(env.client);
    const withAbortSignal = jest.spyOn(env.client, 'withAbortSignal').mockImplementation((signal, fn) => {
      signals.push(signal);
      return original(signal, fn);
    });
    const polls = jest.spyOn(env.client.workflowService, 'getWorkflowExecutionHistory');
    let pollCount = 0;
    try {
      const workflowId = `follow-long-${Date.now()}`;
      await env.client.workflow.start('harvest', {
        taskQueue: env.taskQueue,
        workflowId,
        args: [
          request({
            identifiers: catalogueIdentifiers(env.emulator, COLLECTION, 1),
            output: { storage: 'TEMPORARY', sink: env.sinkUrl },
          }),
        ],
      });
      const end = await followHarvest(env.client, workflowId, { renderer: silent(), intervalMs: 200 });
      expect(end.kind).toBe('report');
      expect((end as { report: HarvestReport }).report.outcome).toBe('delivered');
      pollCount = polls.mock.calls.length;
    } finally {
      withAbortSignal.mockRestore();
      polls.mockRestore();
    }
    // Enough long polls that one signal for all of them would pass Node's limit of 10 listeners…
    expect(pollCount).toBeGreaterThan(15);
    expect(signals.length).toBeGreaterThan(0);
    // …yet no signal collected more than the one call it was made for.
    const most = Math.max(...signals.map((signal) => getEventListeners(signal, 'abort').length));
    expect(most).toBeLessThanOrEqual(2);
  });
});

function silent(): ProgressRenderer {
  return { update: () => undefined, finish: () => undefined };
}
