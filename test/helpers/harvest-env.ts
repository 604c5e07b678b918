/**
 * A complete harvest environment for end-to-end tests: the emulator, a real worker on the test
 * stack's Temporal dev server (its own task queue), and a client. Closed with `close()`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker, type WorkerOptions } from '@temporalio/worker';
import { type EmulatorHandle, type EmulatorOptionsInput, startEmulator } from '../../src/emulator';
import { dataConverterFromEnv } from '../../src/codec/data-converter';
import { loadWorkerConfig } from '../../src/config/worker-config';
import { createHarvestWorker, loadWorkflowBundle } from '../../src/worker/create-worker';
import { buildDependencies } from '../../src/worker/dependencies';
import type { HarvestRequestInput } from '../../src/shared/harvest-request';
import { testStack } from './stack';

export interface HarvestEnv {
  emulator: EmulatorHandle;
  client: Client;
  taskQueue: string;
  /** A fresh temp folder and its file:/// URL, removed on close. */
  sinkDir: string;
  sinkUrl: string;
  worker: Worker;
  close(): Promise<void>;
}

/** Built with the encrypting failure converter, for workers given DEDL_PAYLOAD_KEYS. */
let encryptingBundle: WorkerOptions['workflowBundle'] | undefined;

export async function startHarvestEnv(
  emulatorOptions: EmulatorOptionsInput = {},
  extraEnv: Record<string, string> = {},
  /** Another Temporal server than the test stack's (e.g. one started with its own dynamic config). */
  temporal: { address: string; namespace: string } = testStack().temporal,
): Promise<HarvestEnv> {
  const bundlePath = testStack().workflowBundle;
  const { address, namespace } = temporal;
  const dataConverter = dataConverterFromEnv(extraEnv);
  // The plain bundle is the one global-setup built for the run.
  const workflowBundle = dataConverter
    ? (encryptingBundle ??= await loadWorkflowBundle(undefined, dataConverter))
    : await loadWorkflowBundle(bundlePath);
  const emulator = await startEmulator(emulatorOptions);
  const env = {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: namespace,
    HOOK_BASE_URL: emulator.url,
    DESP_USERNAME: 'demo',
    DESP_PASSWORD: 'demo',
    DEDL_SHUTDOWN_GRACE_TIME: '1s',
    ...extraEnv,
  };
  const config = loadWorkerConfig(env);
  const deps = buildDependencies(config, env);
  const nativeConnection = await NativeConnection.connect({ address });
  const taskQueue = `harvest-${randomUUID()}`;
  const worker = await createHarvestWorker({
    config,
    connection: nativeConnection,
    deps,
    workflowBundle,
    taskQueue,
  });
  const running = worker.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace, dataConverter });
  const sinkDir = await mkdtemp(path.join(tmpdir(), 'dedl-sink-'));

  return {
    emulator,
    client,
    taskQueue,
    sinkDir,
    sinkUrl: pathToFileURL(sinkDir).toString(),
    worker,
    async close() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await Promise.all([nativeConnection.close(), connection.close(), deps.close(), emulator.close()]);
      await rm(sinkDir, { recursive: true, force: true });
    },
  };
}

/** Runs `body` against a fresh harvest environment and closes it afterwards, whatever happens. */
export async function withHarvestEnv(
  emulatorOptions: EmulatorOptionsInput,
  body: (env: HarvestEnv) => Promise<void>,
): Promise<void> {
  const env = await startHarvestEnv(emulatorOptions);
  try {
    await body(env);
  } finally {
    await env.close();
  }
}

/** Identifiers that exist in the emulator's catalogue for a collection. */
export function catalogueIdentifiers(emulator: EmulatorHandle, collection: string, count: number): string[] {
  const { items } = emulator.catalogue.search({ collections: [collection], limit: count });
  return items.slice(0, count).map((item) => item.id);
}

export function request(
  overrides: Partial<HarvestRequestInput> & Pick<HarvestRequestInput, 'identifiers' | 'output'>,
): HarvestRequestInput {
  return {
    name: 'e2e harvest',
    collection: 'EO.ESA.DAT.SENTINEL-2.MSI.L1C',
    polling: { initialInterval: '100ms', maxInterval: '300ms', backoff: 1.5, deadline: '2m' },
    ...overrides,
  };
}
