/**
 * The worker process is killed (SIGKILL) in the middle of a download and a new one started: the
 * harvest finishes with the right file, one order at the Hook, the download resumed, and no
 * partial file left.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { request as http } from 'undici';
import { type EmulatorHandle, startEmulator } from '../../src/emulator';
import { productDigest } from '../../src/emulator/product';
import type { HarvestReport } from '../../src/shared/harvest-report';
import { eventually } from '../helpers/hook';
import { catalogueIdentifiers, request } from '../helpers/harvest-env';
import { testStack } from '../helpers/stack';

const SIZE = 1024 * 1024 * 1024;
const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';

function startWorkerProcess(env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(
    process.execPath,
    // tsx as a loader of this very process (not its CLI, which would put the worker in a grandchild).
    ['--import', 'tsx', path.join(__dirname, '../fixtures/cli-main.ts'), 'worker'],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr?.resume();
  return child;
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()),
  );

describe('a worker killed mid-download', () => {
  let emulator: EmulatorHandle;
  let connection: Connection;
  let sinkDir: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({ productSize: SIZE, timing: { queuedMs: 10, processingMs: 10 } });
    connection = await Connection.connect({ address: testStack().temporal.address });
    sinkDir = await mkdtemp(path.join(tmpdir(), 'dedl-crash-'));
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map(exited));
    await connection?.close();
    await emulator?.close();
    await rm(sinkDir, { recursive: true, force: true });
  });

  it('is replaced by a new worker that resumes and finishes the harvest', async () => {
    const taskQueue = `crash-${randomUUID()}`;
    const env = {
      ...process.env,
      TEMPORAL_ADDRESS: testStack().temporal.address,
      TEMPORAL_NAMESPACE: testStack().temporal.namespace,
      DEDL_TASK_QUEUE: taskQueue,
      HOOK_BASE_URL: emulator.url,
      DESP_USERNAME: 'demo',
      DESP_PASSWORD: 'demo',
      LOG_LEVEL: 'WARN',
    };
    const client = new Client({ connection, namespace: testStack().temporal.namespace });
    const [identifier] = catalogueIdentifiers(emulator, COLLECTION, 1);
    const partFile = path.join(sinkDir, `${identifier}.zip.part`);

    const first = startWorkerProcess(env);
    children.push(first);
    const handle = await client.workflow.start('harvest', {
      taskQueue,
      workflowId: `crash-${randomUUID()}`,
      args: [
        request({
          identifiers: [identifier!],
          output: { storage: 'TEMPORARY', sink: pathToFileURL(sinkDir).toString() },
          downloadHeartbeatTimeout: '3s',
        }),
      ],
    });

    // Kill as soon as the product is partly on disk.
    await eventually(
      () =>
        stat(partFile).then(
          (s) => s.size,
          () => 0,
        ),
      (size) => size > 0 && size < SIZE,
      60_000,
    );
    first.kill('SIGKILL');
    await exited(first);
    const leftBehind = (await stat(partFile)).size;
    expect(leftBehind).toBeGreaterThan(0);
    expect(leftBehind).toBeLessThan(SIZE);

    const second = startWorkerProcess(env);
    children.push(second);
    const report: HarvestReport = await handle.result();

    expect(report.outcome).toBe('delivered');
    expect(report.items[0]).toMatchObject({
      state: 'delivered',
      bytes: SIZE,
      sha256: (await productDigest({ identifier: identifier!, size: SIZE })).sha256,
    });
    expect((await readdir(sinkDir)).sort()).toEqual([`${identifier}.zip`, 'manifest.json']);
    const stats = (await (await http(`${emulator.adminUrl}/stats`)).body.json()) as {
      ordersCreated: number;
      requestsByRoute: Record<string, number>;
    };
    expect(stats.ordersCreated).toBe(1);
    const downloads = Object.entries(stats.requestsByRoute).filter(([route]) => route.includes('swift'));
    expect(downloads.reduce((sum, [, n]) => sum + n, 0)).toBe(2);
    const attempts = ((await handle.fetchHistory()).events ?? [])
      .filter((e) => e.activityTaskStartedEventAttributes)
      .map((e) => e.activityTaskStartedEventAttributes!.attempt);
    expect(Math.max(...attempts.map(Number))).toBeGreaterThanOrEqual(2);

    second.kill('SIGTERM');
    await exited(second);
  });
});
