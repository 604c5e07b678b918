/**
 * The setup of the tests that kill a worker process mid-delivery: an emulator serving products of
 * `productSize`, a client connection to the test stack's Temporal, a scratch folder with a `sink`
 * folder, and the supervisor of the `dedl-harvest worker` processes (set by the test), all closed
 * and removed after the file's tests.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { type EmulatorHandle, startEmulator } from '../../src/emulator';
import type { WorkerSupervisor } from '../chaos/chaos-harness';
import { testStack } from './stack';

export interface CrashEnv {
  emulator: EmulatorHandle;
  connection: Connection;
  scratch: string;
  sinkDir: string;
  workers?: WorkerSupervisor;
}

export function useCrashEnv(productSize: number, scratchLabel: string): CrashEnv {
  const env = {} as CrashEnv;
  beforeAll(async () => {
    env.emulator = await startEmulator({ productSize, timing: { queuedMs: 10, processingMs: 10 } });
    env.connection = await Connection.connect({ address: testStack().temporal.address });
    env.scratch = await mkdtemp(path.join(tmpdir(), `dedl-${scratchLabel}-`));
    env.sinkDir = path.join(env.scratch, 'sink');
    await mkdir(env.sinkDir);
  });
  afterAll(async () => {
    await env.workers?.close();
    await env.connection?.close();
    await env.emulator?.close();
    if (env.scratch) await rm(env.scratch, { recursive: true, force: true });
  });
  return env;
}
