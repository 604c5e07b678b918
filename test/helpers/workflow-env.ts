/**
 * The workflow test layer's environment (test/workflow): Temporal's `TestWorkflowEnvironment` on
 * the dev server jest's global setup already runs, and a worker per test on its own task queue
 * that loads the prebuilt workflow bundle with stubbed activities (stub-activities.ts). Time does
 * not skip on the dev server: tests give the workflows short durations instead.
 */
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { HarvestActivities } from '../../src/activities/contract';
import { loadWorkflowBundle } from '../../src/worker/create-worker';
import { testStack } from './stack';

/** Connects to the test stack's server (once per test file). */
export async function workflowTestEnv(): Promise<TestWorkflowEnvironment> {
  const { address, namespace } = testStack().temporal;
  return TestWorkflowEnvironment.createFromExistingServer({ address, namespace });
}

/** A worker for one test: the project's workflows, these activities, a fresh task queue. */
export async function stubbedWorker(
  env: TestWorkflowEnvironment,
  activities: HarvestActivities,
): Promise<{ worker: Worker; taskQueue: string }> {
  const taskQueue = `workflow-test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: testStack().temporal.namespace,
    taskQueue,
    workflowBundle: await loadWorkflowBundle(testStack().workflowBundle),
    activities,
  });
  return { worker, taskQueue };
}

/** The environment of a test file: connected before its tests, torn down after them. */
export function useWorkflowTestEnv(): () => TestWorkflowEnvironment {
  let env: TestWorkflowEnvironment | undefined;
  beforeAll(async () => {
    env = await workflowTestEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });
  return () => env!;
}
