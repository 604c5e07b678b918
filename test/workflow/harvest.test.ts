/**
 * The `harvest` workflow with stubbed activities (test/helpers/stub-activities.ts): what it does
 * when the Hook does not finish an order before the deadline, and when it is cancelled. The
 * workflow runs for real on the test stack's dev server; no Hook, no sink.
 */
import { randomUUID } from 'node:crypto';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import type {
  DiscardPartialInput,
  VerifyPrivateInput,
  WriteManifestInput,
  WritePrivateCatalogInput,
} from '../../src/activities/contract';
import type { HarvestRequestInput } from '../../src/shared/harvest-request';
import { progressQuery } from '../../src/shared/messages';
import type { harvest } from '../../src/workflows/harvest';
import { eventually } from '../helpers/hook';
import { stubActivities } from '../helpers/stub-activities';
import { stubbedWorker, useWorkflowTestEnv } from '../helpers/workflow-env';

const SINK = 'file:///stub-sink';

function harvestRequest(identifiers: string[], deadline: string): HarvestRequestInput {
  return {
    name: 'workflow test',
    collection: 'EO.ESA.DAT.SENTINEL-2.MSI.L1C',
    identifiers,
    output: { storage: 'TEMPORARY', sink: SINK },
    polling: { initialInterval: '100ms', maxInterval: '100ms', backoff: 1, deadline },
  };
}

const testEnv = useWorkflowTestEnv();

describe('harvest (stubbed activities)', () => {
  it('at the deadline cancels the order, keeps what was delivered and reports the rest timed out', async () => {
    const env = testEnv();
    // P1 is done at once, P2 never.
    const stubs = stubActivities({ hook: (id) => (id === 'P1' ? 'completed' : 'queued') });
    const { worker, taskQueue } = await stubbedWorker(env, stubs.activities);
    const report = await worker.runUntil(
      env.client.workflow.execute<typeof harvest>('harvest', {
        taskQueue,
        workflowId: `wf-harvest-deadline-${randomUUID()}`,
        args: [harvestRequest(['P1', 'P2'], '2s')],
      }),
    );

    expect(report.outcome).toBe('timed_out');
    expect(report.items.map((i) => [i.identifier, i.state, i.error])).toEqual([
      ['P1', 'delivered', undefined],
      ['P2', 'timed_out', 'not finished by the Hook within the deadline (2s)'],
    ]);
    expect(stubs.inputs('cancelOrder')).toEqual([{ orderId: 'stub-order-1' }]);
    expect(stubs.inputs('deliverProduct')).toHaveLength(1);
    const [manifest] = stubs.inputs<WriteManifestInput>('writeManifest');
    expect(manifest!.report.outcome).toBe('timed_out');
    expect(report.manifest).toBe(`${SINK}/manifest.json`);
  });

  it('cancelled, cancels the Hook order and ends with every unfinished product cancelled', async () => {
    const env = testEnv();
    const stubs = stubActivities({ hook: (id) => (id === 'P1' ? 'completed' : 'queued') });
    const { worker, taskQueue } = await stubbedWorker(env, stubs.activities);
    const handle = await env.client.workflow.start<typeof harvest>('harvest', {
      taskQueue,
      workflowId: `wf-harvest-cancel-${randomUUID()}`,
      args: [harvestRequest(['P1', 'P2'], '10m')],
    });
    await worker.runUntil(async () => {
      // Cancelled while it polls (P1 delivered, P2 still queued). P1's delivery waits for the
      // order's catalogue lookup, so polling alone does not mean P1 is delivered yet.
      await eventually(
        async () => ({
          polls: stubs.inputs('pollOrder').length,
          p1: (await handle.query(progressQuery)).items.find((i) => i.identifier === 'P1')?.state,
        }),
        ({ polls, p1 }) => polls > 0 && p1 === 'delivered',
      );
      await handle.cancel();
      const failure = await handle.result().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      expect((failure as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      // A cancelled harvest's report is its last progress.
      const progress = await handle.query(progressQuery);
      expect(progress.outcome).toBe('cancelled');
      expect(progress.items.map((i) => [i.identifier, i.state, i.error])).toEqual([
        ['P1', 'delivered', undefined],
        ['P2', 'cancelled', 'the harvest was cancelled'],
      ]);
    });
    expect(stubs.inputs('cancelOrder')).toEqual([{ orderId: 'stub-order-1' }]);
    const [manifest] = stubs.inputs<WriteManifestInput>('writeManifest');
    expect(manifest!.report.outcome).toBe('cancelled');
  });

  it('cancelled, discards the partials of the deliveries under way (and only those)', async () => {
    const env = testEnv();
    // P1 delivered, P2's delivery failed and waits an hour for its retry, P3 never made.
    const stubs = stubActivities({
      hook: (id) => (id === 'P3' ? 'queued' : 'completed'),
      deliveryFails: new Set(['P2']),
    });
    const { worker, taskQueue } = await stubbedWorker(env, stubs.activities);
    const handle = await env.client.workflow.start<typeof harvest>('harvest', {
      taskQueue,
      workflowId: `wf-harvest-cancel-discard-${randomUUID()}`,
      args: [harvestRequest(['P1', 'P2', 'P3'], '10m')],
    });
    await worker.runUntil(async () => {
      await eventually(
        async () => ({
          p2Attempts: stubs
            .inputs('deliverProduct')
            .filter((i) => (i as { item: { identifier: string } }).item.identifier === 'P2').length,
          p1: (await handle.query(progressQuery)).items.find((i) => i.identifier === 'P1')?.state,
        }),
        ({ p2Attempts, p1 }) => p2Attempts > 0 && p1 === 'delivered',
      );
      expect(stubs.inputs('discardPartial')).toEqual([]); // P2 waits for its retry, its partial kept
      await handle.cancel();
      await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    });
    expect(stubs.inputs<DiscardPartialInput>('discardPartial')).toEqual([
      expect.objectContaining({ sink: SINK, identifier: 'P2', collection: 'EO.ESA.DAT.SENTINEL-2.MSI.L1C' }),
    ]);
    // Discarded before the manifest, which reports P2 cancelled.
    const names = stubs.calls.map((c) => c.name);
    expect(names.lastIndexOf('discardPartial')).toBeLessThan(names.indexOf('writeManifest'));
    const [manifest] = stubs.inputs<WriteManifestInput>('writeManifest');
    expect(manifest!.report.items.map((i) => [i.identifier, i.state])).toEqual([
      ['P1', 'delivered'],
      ['P2', 'cancelled'],
      ['P3', 'cancelled'],
    ]);
  });

  it('PRIVATE: overlapping batches write no catalog; the harvest writes one at its end, linking every delivered product', async () => {
    const env = testEnv();
    // P1 done at submission, P2 at the first poll, P3 fails: P1's verification is still under way when P2's starts.
    const stubs = stubActivities({
      hook: (id) => (id === 'P1' ? 'completed' : id === 'P2' ? 'polled' : 'failed'),
      overlapVerifications: true,
    });
    const { worker, taskQueue } = await stubbedWorker(env, stubs.activities);
    const output = {
      storage: 'PRIVATE',
      target: 's3://stub-bucket/out',
      endpoint: 'http://s3.invalid',
      credentials: 'stub',
    } as const;
    const report = await worker.runUntil(
      env.client.workflow.execute<typeof harvest>('harvest', {
        taskQueue,
        workflowId: `wf-harvest-private-catalog-${randomUUID()}`,
        args: [{ ...harvestRequest(['P1', 'P2', 'P3'], '1m'), output }],
      }),
    );

    expect(report.items.map((i) => [i.identifier, i.state])).toEqual([
      ['P1', 'delivered'],
      ['P2', 'delivered'],
      ['P3', 'failed'],
    ]);
    const verifications = stubs.inputs<VerifyPrivateInput>('verifyPrivateOutput');
    expect(verifications.map((v) => [v.items.map((i) => i.identifier), v.catalogAtEnd])).toEqual([
      [['P1'], true],
      [['P2'], true],
    ]);
    expect(stubs.inputs<WritePrivateCatalogInput>('writePrivateCatalog')).toEqual([
      {
        output: { target: output.target, endpoint: output.endpoint, credentials: output.credentials },
        name: 'workflow test',
        sidecars: ['P1.stac.json', 'P2.stac.json'],
      },
    ]);
    const names = stubs.calls.map((c) => c.name);
    expect(names.indexOf('writePrivateCatalog')).toBeGreaterThan(names.lastIndexOf('verifyPrivateOutput'));
  });
});
