/**
 * Everything `dev` and `demo` run on this machine: the local stack (Temporal dev server with its
 * UI, versitygw), the Hook emulator, a bucket, and a harvest worker in this process on task queue
 * `dedl-harvest` — plus the environment another shell needs to use them.
 */
import path from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { type LocalStack, startLocalStack } from '../devstack/stack';
import { PROJECT_ROOT, TEMPORAL_CLI, ensureTool } from '../devstack/tools';
import { type EmulatorHandle, type EmulatorOptionsInput, startEmulator } from '../emulator';
import { TASK_QUEUE } from '../shared/constants';
import { createS3Client } from '../storage/s3-client';
import { loadWorkflowBundle } from '../worker/create-worker';
import { type RunningWorker, startWorker } from '../worker/main';

/** The real DEDL S3 endpoint; the emulator writes orders that name it into the local versitygw instead. */
export const DEDL_CENTRAL_S3 = 'https://s3.central.data.destination-earth.eu';
/** Credential set under which the worker holds the local versitygw keys. */
export const LOCAL_CREDENTIALS = 'local';

export interface LocalHarvestEnv {
  stack: LocalStack;
  emulator: EmulatorHandle;
  worker: RunningWorker;
  bucket: string;
  taskQueue: string;
  /** The `temporal` binary the stack runs (for printed commands). */
  temporalBinary: string;
  /** What a worker or `dedl-harvest` in another shell needs (also what this worker got). */
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface LocalHarvestEnvOptions {
  emulator: EmulatorOptionsInput;
  bucket: string;
  log: (line: string) => void;
  /** LOG_LEVEL of the in-process worker (its lines go to stderr). */
  logLevel?: string;
  /** Temporal as a cluster on PostgreSQL (separate service processes) instead of the dev server. */
  cluster?: boolean;
}

export async function startLocalHarvestEnv(options: LocalHarvestEnvOptions): Promise<LocalHarvestEnv> {
  const started: { close(): Promise<void> }[] = [];
  const closeAll = async () => {
    for (const item of started.reverse()) await item.close().catch(() => undefined);
  };
  try {
    // Bundling the workflow code takes a few seconds: do it while the servers start.
    const [stack, workflowBundle] = await Promise.all([
      startLocalStack({ uiPort: 0, log: options.log, cluster: options.cluster }),
      loadWorkflowBundle(),
    ]);
    started.push({ close: () => stack.stop() });
    const temporalBinary = await ensureTool(TEMPORAL_CLI, { log: options.log });

    const emulator = await startEmulator({
      ...options.emulator,
      s3EndpointMap: { [DEDL_CENTRAL_S3]: stack.s3.endpoint, ...options.emulator.s3EndpointMap },
    });
    started.push(emulator);

    const s3 = createS3Client(stack.s3);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: options.bucket }));
    } finally {
      s3.destroy();
    }

    const stem = `DEDL_CREDENTIALS_${LOCAL_CREDENTIALS.toUpperCase()}`;
    const env: Record<string, string> = {
      TEMPORAL_ADDRESS: stack.temporal.address,
      TEMPORAL_NAMESPACE: stack.temporal.namespace,
      DEDL_TASK_QUEUE: TASK_QUEUE,
      HOOK_BASE_URL: emulator.url,
      HOOK_AUTH: 'desp',
      DESP_USERNAME: 'demo',
      DESP_PASSWORD: 'demo',
      [`${stem}_ACCESS_KEY_ID`]: stack.s3.accessKeyId,
      [`${stem}_SECRET_ACCESS_KEY`]: stack.s3.secretAccessKey,
      [`${stem}_ENDPOINT`]: stack.s3.endpoint,
      [`${stem}_REGION`]: stack.s3.region,
    };
    const worker = await startWorker(
      { ...env, LOG_LEVEL: options.logLevel ?? 'WARN', DEDL_SHUTDOWN_GRACE_TIME: '2s' },
      { workflowBundle },
    );
    started.push({ close: () => worker.stop() });

    return {
      stack,
      emulator,
      worker,
      bucket: options.bucket,
      taskQueue: TASK_QUEUE,
      temporalBinary,
      env,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** How to call the Temporal CLI from a shell: `temporal` when PATH has this binary, else its path. */
export function temporalCommand(binary: string, env: NodeJS.ProcessEnv): string {
  const onPath = (env.PATH ?? '')
    .split(path.delimiter)
    .some((dir) => dir && path.resolve(dir, 'temporal') === path.resolve(binary));
  return onPath ? 'temporal' : binary;
}

/** How to call this CLI from `cwd`: `npx dedl-harvest` inside the project (npm finds its bin), else the bin's path. */
export function selfCommand(cwd: string): string {
  const relative = path.relative(PROJECT_ROOT, path.resolve(cwd));
  const inside = !relative.startsWith('..') && !path.isAbsolute(relative);
  return inside ? 'npx dedl-harvest' : `node ${path.join(PROJECT_ROOT, 'bin', 'dedl-harvest.js')}`;
}

/** A project file (examples/…) as seen from `cwd`. */
export function projectPath(cwd: string, file: string): string {
  const absolute = path.join(PROJECT_ROOT, file);
  const relative = path.relative(cwd, absolute);
  return relative.startsWith('..') ? absolute : relative;
}
