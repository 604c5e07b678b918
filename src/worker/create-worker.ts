/**
 * The harvest Worker: task queue, prebundled workflow code, activities, and explicit limits.
 */
import path from 'node:path';
import { type NativeConnection, Worker, type WorkerOptions, bundleWorkflowCode } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { createActivities } from '../activities';
import { assertBundleEncryptsFailures, dataConverterFromEnv } from '../codec/data-converter';
import { parseDuration } from '../shared/duration';
import type { WorkerConfig } from '../config/worker-config';
import type { WorkerDependencies } from './dependencies';

/** The workflows entry point, next to this file's folder in both `src/` and `dist/`. */
export const WORKFLOWS_PATH = require.resolve(path.join(__dirname, '..', 'workflows'));

export interface CreateWorkerOptions {
  config: WorkerConfig;
  connection: NativeConnection;
  deps: WorkerDependencies;
  /** A bundle built once (tests and production); bundled here when omitted. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Override the task queue (tests use one per test). */
  taskQueue?: string;
  /** Worker interceptors (the worker process passes its metrics interceptor). */
  interceptors?: WorkerOptions['interceptors'];
}

export async function createHarvestWorker(options: CreateWorkerOptions): Promise<Worker> {
  const { env } = options.config;
  // Payload encryption when DEDL_PAYLOAD_KEYS is set; the SDK's default converter otherwise.
  const dataConverter = dataConverterFromEnv(env);
  // A download worker (DEDL_RUN_WORKFLOWS=false) polls activity tasks only: no bundle, no workflow cache.
  const workflowBundle = env.DEDL_RUN_WORKFLOWS
    ? (options.workflowBundle ?? (await loadWorkflowBundle(env.DEDL_WORKFLOW_BUNDLE, dataConverter)))
    : undefined;
  if (dataConverter && workflowBundle) await assertBundleEncryptsFailures(workflowBundle);
  return Worker.create({
    connection: options.connection,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: options.taskQueue ?? env.DEDL_TASK_QUEUE,
    ...(workflowBundle ? { workflowBundle, maxCachedWorkflows: env.DEDL_MAX_CACHED_WORKFLOWS } : {}),
    dataConverter,
    activities: createActivities(options.deps),
    interceptors: options.interceptors,
    maxConcurrentActivityTaskExecutions: env.DEDL_MAX_CONCURRENT_ACTIVITIES,
    maxActivitiesPerSecond: env.DEDL_MAX_ACTIVITIES_PER_SECOND,
    // Downloads get this long to checkpoint (heartbeat their offset) before they are cancelled.
    shutdownGraceTime: parseDuration(env.DEDL_SHUTDOWN_GRACE_TIME),
  });
}

/**
 * The prebuilt bundle when configured, else one built now from the workflow sources. Workflow
 * failures are converted inside the bundle, so it gets the data converter's failure converter
 * (payload encryption: see src/codec); a prebuilt one must have been built the same way.
 */
export async function loadWorkflowBundle(
  codePath?: string,
  dataConverter?: DataConverter,
): Promise<NonNullable<WorkerOptions['workflowBundle']>> {
  if (codePath) return { codePath };
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    failureConverterPath: dataConverter?.failureConverterPath,
    logger: quietBundlerLogger,
  });
}

const quietBundlerLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  log: () => undefined,
  warn: (message: string, meta?: Record<string, unknown>) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: Record<string, unknown>) => console.error(message, meta ?? ''),
};
