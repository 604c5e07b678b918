/**
 * The README's Temporal CLI commands, exactly as written (plus `--address` of the test stack), with
 * the stack's own `temporal` binary against a worker started by `dedl-harvest worker` on task
 * queue `dedl-harvest` — the only test file that uses that queue:
 *
 *   temporal workflow start --task-queue dedl-harvest --type harvest --input-file examples/harvest-temporary.json --workflow-id <id>
 *   temporal workflow result --workflow-id <id>
 *
 * and the same with an invalid request file, which the workflow refuses without ordering anything.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile, readdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../../src/client/cli';
import { PROJECT_ROOT, TEMPORAL_CLI, ensureTool } from '../../src/devstack/tools';
import { type EmulatorHandle, startEmulator } from '../../src/emulator';
import { productDigest } from '../../src/emulator/product';
import type { HarvestRequestInput } from '../../src/shared/harvest-request';
import { testStack } from '../helpers/stack';
import { captureIO, emulatorStats, scratchDir } from './cli-helpers';

const run = promisify(execFile);
const EXAMPLE = 'examples/harvest-temporary.json';
const SIZE = 200_000;

interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe('the README Temporal CLI commands', () => {
  let temporal: string;
  let emulator: EmulatorHandle;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let stopWorker: AbortController;
  let worker: Promise<number>;
  let workerIO: ReturnType<typeof captureIO>;
  let example: HarvestRequestInput & { output: { storage: 'TEMPORARY'; sink: string } };
  let exampleDir: string;
  let setAside: string | undefined;

  /** Runs the Temporal CLI from the project root, as a reader of the README would. */
  async function temporalCli(args: string[]): Promise<CommandResult> {
    const argv = [...args, '--address', testStack().temporal.address];
    try {
      const { stdout, stderr } = await run(temporal, argv, {
        cwd: PROJECT_ROOT,
        env: { PATH: process.env.PATH, HOME: scratch.dir },
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  beforeAll(async () => {
    temporal = await ensureTool(TEMPORAL_CLI);
    scratch = await scratchDir('temporal-cli');
    example = JSON.parse(await readFile(path.join(PROJECT_ROOT, EXAMPLE), 'utf8')) as typeof example;
    exampleDir = new URL(example.output.sink).pathname;
    // The example writes to a fixed folder: keep whatever a `dedl-harvest dev` session left there.
    if (await stat(exampleDir).catch(() => undefined)) {
      setAside = `${exampleDir}.before-test-${randomUUID().slice(0, 8)}`;
      await rename(exampleDir, setAside);
    }
    emulator = await startEmulator({ timing: { queuedMs: 50, processingMs: 200 }, productSize: SIZE });
    const { address, namespace } = testStack().temporal;
    stopWorker = new AbortController();
    workerIO = captureIO(
      {
        TEMPORAL_ADDRESS: address,
        TEMPORAL_NAMESPACE: namespace,
        HOOK_BASE_URL: emulator.url,
        DESP_USERNAME: 'demo',
        DESP_PASSWORD: 'demo',
        DEDL_SHUTDOWN_GRACE_TIME: '1s',
      },
      scratch.dir,
      { signal: stopWorker.signal },
    );
    worker = runCli(['worker'], workerIO.io);
  });

  afterAll(async () => {
    stopWorker?.abort();
    expect(await worker).toBe(0);
    await emulator?.close();
    const { rm } = await import('node:fs/promises');
    if (exampleDir) await rm(exampleDir, { recursive: true, force: true });
    if (setAside) await rename(setAside, exampleDir);
    await scratch?.cleanup();
  });

  it('harvests examples/harvest-temporary.json: start, then result', async () => {
    const workflowId = `readme-example-${randomUUID().slice(0, 8)}`;
    const start = await temporalCli([
      'workflow',
      'start',
      '--task-queue',
      'dedl-harvest',
      '--type',
      'harvest',
      '--input-file',
      EXAMPLE,
      '--workflow-id',
      workflowId,
    ]);
    expect(start.stderr).toBe('');
    expect(start.code).toBe(0);
    expect(start.stdout).toContain(workflowId);

    const result = await temporalCli(['workflow', 'result', '--workflow-id', workflowId]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Status\s+COMPLETED/);
    expect(result.stdout).toContain('"outcome":"delivered"');

    const files = (await readdir(exampleDir)).sort();
    expect(files).toEqual([...example.identifiers.map((id) => `${id}.zip`), 'manifest.json'].sort());
    for (const identifier of example.identifiers) {
      const { sha256 } = await productDigest({ identifier, size: SIZE });
      expect(result.stdout).toContain(`"sha256":"${sha256}"`);
    }
    expect((await emulatorStats(emulator.adminUrl)).ordersCreated).toBe(1);
  });

  it('refuses an invalid request file: the result names the fields, nothing is ordered', async () => {
    const before = (await emulatorStats(emulator.adminUrl)).ordersCreated;
    const invalid = await scratch.write('invalid-request.json', {
      name: 'readme invalid',
      collection: 'EO.ESA.DAT.SENTINEL-2.MSI.L1C',
      identifiers: [],
      output: {
        storage: 'PRIVATE',
        target: 's3://not a bucket',
        endpoint: 'https://s3.example.org',
        credentials: 'islet',
      },
    });
    const workflowId = `readme-invalid-${randomUUID().slice(0, 8)}`;
    const start = await temporalCli([
      'workflow',
      'start',
      '--task-queue',
      'dedl-harvest',
      '--type',
      'harvest',
      '--input-file',
      invalid,
      '--workflow-id',
      workflowId,
    ]);
    expect(start.code).toBe(0);

    const result = await temporalCli(['workflow', 'result', '--workflow-id', workflowId]);
    expect(result.code).not.toBe(0);
    const output = result.stdout + result.stderr;
    expect(output).toMatch(/Status\s+FAILED/);
    expect(output).toContain('Invalid harvest request');
    expect(output).toContain('identifiers: must list at least one identifier');
    expect(output).toContain('output.target: must be an s3://bucket/prefix URL');
    expect((await emulatorStats(emulator.adminUrl)).ordersCreated).toBe(before);
  });
});
