/**
 * The README's Temporal CLI commands, exactly as the README writes them (read from it, plus the
 * test stack's `--address`), run from the project root with the stack's own `temporal` binary
 * against a worker started by `dedl-harvest worker` on task queue `dedl-harvest` — the only test
 * file that uses that queue. Then the same start command with an invalid request file: the
 * workflow refuses it, naming the fields, and nothing is ordered.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../../src/client/cli';
import { PROJECT_ROOT, TEMPORAL_CLI, ensureTool } from '../../src/devstack/tools';
import { type EmulatorHandle, startEmulator } from '../../src/emulator';
import { productDigest } from '../../src/emulator/product';
import type { HarvestRequestInput } from '../../src/shared/harvest-request';
import { testStack } from '../helpers/stack';
import { captureIO, emulatorStats, scratchDir } from './cli-helpers';
import { productsNotAsGenerated, harvestFiles } from '../helpers/sink-audit';

const run = promisify(execFile);
const EXAMPLE = 'examples/harvest-temporary.json';
const SIZE = 200_000;

/** Every `temporal workflow …` command of the README's shell blocks, continuation lines joined, as argv. */
async function readmeTemporalCommands(): Promise<string[][]> {
  const readme = await readFile(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const commands: string[][] = [];
  for (const block of readme.matchAll(/```(?:bash|sh|shell)\n([\s\S]*?)```/g)) {
    const joined = block[1]!.replace(/\\\n\s*/g, ' ');
    for (const text of joined.split('\n')) {
      const command = text.replace(/\s+#.*$/, '').trim();
      if (command.startsWith('temporal workflow ')) commands.push(command.split(/\s+/).slice(1));
    }
  }
  return commands;
}

/** The value after `--flag` in argv. */
function flagValue(argv: string[], flag: string): string | undefined {
  const at = argv.indexOf(flag);
  return at >= 0 ? argv[at + 1] : undefined;
}

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
    await worker;
    await emulator?.close();
    if (exampleDir) await rm(exampleDir, { recursive: true, force: true });
    if (setAside) await rename(setAside, exampleDir);
    await scratch?.cleanup();
  });

  it('harvests examples/harvest-temporary.json with the README commands, in order', async () => {
    const commands = await readmeTemporalCommands();
    const start = commands.find((argv) => argv[1] === 'start');
    expect(start).toBeDefined();
    expect([flagValue(start!, '--task-queue'), flagValue(start!, '--type'), flagValue(start!, '--input-file')]).toEqual(
      ['dedl-harvest', 'harvest', EXAMPLE],
    );
    const workflowId = flagValue(start!, '--workflow-id')!;
    const forThisHarvest = commands.filter((argv) => flagValue(argv, '--workflow-id') === workflowId);
    expect(forThisHarvest.map((argv) => argv[1])).toEqual(expect.arrayContaining(['start', 'result']));

    const outputs = new Map<string, CommandResult>();
    for (const argv of forThisHarvest) {
      const result = await temporalCli(argv);
      expect({ command: argv.join(' '), code: result.code, stderr: result.stderr }).toEqual({
        command: argv.join(' '),
        code: 0,
        stderr: '',
      });
      outputs.set(argv[1]!, result);
    }
    const result = outputs.get('result')!.stdout;
    expect(result).toMatch(/Status\s+COMPLETED/);
    expect(result).toContain('"outcome":"delivered"');
    const files = (await readdir(exampleDir)).sort();
    expect(files).toEqual(harvestFiles(example.identifiers));
    for (const identifier of example.identifiers) {
      const { sha256 } = await productDigest({ identifier, size: SIZE });
      expect(result).toContain(`"sha256":"${sha256}"`);
    }
    expect(await productsNotAsGenerated({ dir: exampleDir }, example.identifiers, SIZE)).toEqual([]);
    expect((await emulatorStats(emulator.adminUrl)).ordersCreated).toBe(1);
  });

  it('refuses an invalid request file given to the same commands: the result names the fields, nothing is ordered', async () => {
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
    const commands = await readmeTemporalCommands();
    const workflowId = `readme-invalid-${randomUUID().slice(0, 8)}`;
    const replace = (argv: string[], flag: string, value: string) =>
      argv.map((arg, i) => (argv[i - 1] === flag ? value : arg));
    const start = replace(
      replace(
        commands.find((argv) => argv[1] === 'start')!,
        '--input-file',
        invalid,
      ),
      '--workflow-id',
      workflowId,
    );
    const resultCommand = replace(
      commands.find((argv) => argv[1] === 'result')!,
      '--workflow-id',
      workflowId,
    );

    expect((await temporalCli(start)).code).toBe(0); // the Temporal CLI does not look inside the input
    const result = await temporalCli(resultCommand);
    expect(result.code).not.toBe(0);
    const output = result.stdout + result.stderr;
    expect(output).toMatch(/Status\s+FAILED/);
    expect(output).toContain('Invalid harvest request');
    expect(output).toContain('identifiers: must list at least one identifier');
    expect(output).toContain('output.target: must be an s3://bucket/prefix URL');
    expect((await emulatorStats(emulator.adminUrl)).ordersCreated).toBe(before);
  });

  it('stops the worker cleanly when asked (as on SIGINT): exit 0', async () => {
    stopWorker.abort();
    expect(await worker).toBe(0);
  });
});
