/**
 * Downloads on their own task queue: a harvest whose request names `downloadTaskQueue` schedules
 * its downloads there, the workflow worker (which has every activity registered) leaves them
 * alone, and a download worker — `dedl-harvest worker` with `DEDL_TASK_QUEUE=<that queue>` and
 * `DEDL_RUN_WORKFLOWS=false`, a separate process — delivers them.
 */
import { randomUUID } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { HarvestReport } from '../../src/shared/harvest-report';
import { WorkerSupervisor, chaosWorkerEnv } from '../chaos/chaos-harness';
import { type HarvestEnv, catalogueIdentifiers, request, startHarvestEnv } from '../helpers/harvest-env';
import { eventually } from '../helpers/hook';
import { testStack } from '../helpers/stack';

const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';

interface ActivityRun {
  type: string;
  taskQueue: string;
  /** Identity of the worker that started it, once started. */
  startedBy?: string;
}

/** Every activity the workflow scheduled, with its task queue and the worker that picked it up. */
async function activityRuns(handle: WorkflowHandle): Promise<ActivityRun[]> {
  const runs = new Map<string, ActivityRun>();
  for (const event of (await handle.fetchHistory()).events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      runs.set(String(event.eventId), {
        type: scheduled.activityType?.name ?? '',
        taskQueue: scheduled.taskQueue?.name ?? '',
      });
    }
    const started = event.activityTaskStartedEventAttributes;
    const run = started && runs.get(String(started.scheduledEventId));
    if (run) run.startedBy = started.identity ?? '';
  }
  return [...runs.values()];
}

describe('downloads on their own task queue', () => {
  let env: HarvestEnv;
  let downloadWorker: WorkerSupervisor | undefined;

  beforeAll(async () => {
    env = await startHarvestEnv({ timing: { queuedMs: 10, processingMs: 30 }, productSize: 40_000 });
  });
  afterAll(async () => {
    await downloadWorker?.close();
    await env?.close();
  });

  it('waits for a download worker, which delivers every product; everything else stays on the workflow queue', async () => {
    const downloads = `downloads-${randomUUID()}`;
    const identifiers = catalogueIdentifiers(env.emulator, COLLECTION, 2);
    const handle = await env.client.workflow.start('harvest', {
      taskQueue: env.taskQueue,
      workflowId: `download-queue-${randomUUID()}`,
      args: [
        request({
          identifiers,
          output: { storage: 'TEMPORARY', sink: env.sinkUrl },
          downloadTaskQueue: downloads,
        }),
      ],
    });

    // Both downloads are scheduled on the download queue, and no worker polls it yet.
    const waiting = await eventually(
      () => activityRuns(handle),
      (runs) => runs.filter((r) => r.type === 'deliverProduct').length === 2,
    );
    expect(waiting.filter((r) => r.type === 'deliverProduct').map((r) => r.taskQueue)).toEqual([downloads, downloads]);
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    expect(pending.map((p) => p.activityType?.name)).toEqual(['deliverProduct', 'deliverProduct']);

    const workerEnv = chaosWorkerEnv({
      temporal: testStack().temporal,
      emulator: env.emulator,
      taskQueue: downloads,
    });
    downloadWorker = new WorkerSupervisor(
      // No workflow bundle at all: a download worker never loads workflow code.
      { ...workerEnv, DEDL_WORKFLOW_BUNDLE: undefined, DEDL_RUN_WORKFLOWS: 'false' },
      path.join(tmpdir(), `dedl-download-worker-${process.pid}.log`),
    );
    await downloadWorker.start();

    const report = (await handle.result()) as HarvestReport;
    expect(report.outcome).toBe('delivered');
    const products = (await readdir(env.sinkDir)).filter((f) => f.endsWith('.zip')).sort();
    expect(products).toEqual(identifiers.map((id) => `${id}.zip`).sort());

    const runs = await activityRuns(handle);
    const thisProcess = `${process.pid}@`;
    const deliveries = runs.filter((r) => r.type === 'deliverProduct');
    const others = runs.filter((r) => r.type !== 'deliverProduct');
    expect(deliveries.length).toBeGreaterThanOrEqual(2);
    for (const run of deliveries) {
      expect({ queue: run.taskQueue, byWorkflowWorker: run.startedBy?.startsWith(thisProcess) }).toEqual({
        queue: downloads,
        byWorkflowWorker: false,
      });
    }
    expect(others.length).toBeGreaterThan(0);
    for (const run of others) {
      expect({
        type: run.type,
        queue: run.taskQueue,
        byWorkflowWorker: run.startedBy?.startsWith(thisProcess),
      }).toEqual({ type: run.type, queue: env.taskQueue, byWorkflowWorker: true });
    }
    // The download worker said what it is in its ready line.
    expect(await readFile(downloadWorker.logFile, 'utf8')).toMatch(/"runsWorkflows":false/);
  });
});
