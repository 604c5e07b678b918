/**
 * Benchmark 6: the worker's memory. A real `dedl-harvest worker` process (the CLI from source,
 * through tsx, with a workflow bundle built beforehand as production would have it) on a local
 * Temporal dev server and the emulator; its RSS is read from /proc/<pid>/status: idle once it is
 * ready, then while one harvest downloads 8 large products at once into a local folder
 * (maxParallelDownloads 8). The number of `.part` files seen at once shows the 8 downloads really
 * overlapped. VmHWM is the process's peak since it started (startup included).
 *
 *   node --import tsx bench/worker-footprint.ts [--json]
 *
 * Environment: BENCH_FOOTPRINT_SIZE (bytes per product, default 256 MiB).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { searchAttributeFlags } from '../src/devstack/stack';
import { startTemporalDevServer } from '../src/devstack/temporal-dev-server';
import { TEMPORAL_CLI, ensureTool } from '../src/devstack/tools';
import { startEmulator } from '../src/emulator';
import type { HarvestReport } from '../src/shared/harvest-report';
import type { HarvestRequestInput } from '../src/shared/harvest-request';
import { WORKFLOWS_PATH } from '../src/worker/create-worker';
import { procMemory } from './lib/proc';
import { type BenchRow, MiB, emitRows, median, round, runBench, say } from './lib/rows';
import { BENCH_COLLECTION } from './lib/temporary-link';

const SIZE = Number(process.env['BENCH_FOOTPRINT_SIZE'] ?? 256 * MiB);
const DOWNLOADS = 8;
const SAMPLE_MS = 200;
const IDLE_WINDOW_MS = 5_000;
const ACCOUNT = { username: 'bench', password: 'bench' };

function startWorker(env: NodeJS.ProcessEnv): { child: ChildProcess; ready: Promise<void> } {
  // BENCH_WORKER_BUILT=1 runs the built CLI (bin/ + dist/, fresh after `npm run build`) instead of the sources.
  const args =
    process.env['BENCH_WORKER_BUILT'] === '1'
      ? [path.join(__dirname, '..', 'bin', 'dedl-harvest.js'), 'worker']
      : ['--import', 'tsx', path.join(__dirname, 'lib', 'cli-main.ts'), 'worker'];
  const child = spawn(process.execPath, args, {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ready = new Promise<void>((resolve, reject) => {
    let log = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-8192);
      if (log.includes('dedl-harvest worker ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the worker exited (${code}) before it was ready:\n${log}`)));
  });
  return { child, ready };
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Samples the worker's RSS (and a second figure) every SAMPLE_MS until `until` settles. */
async function sampleWhile<T>(
  pid: number,
  until: Promise<T>,
  extra: () => Promise<number> = async () => 0,
): Promise<{ result: T; rssMiB: number[]; extra: number[] }> {
  let settled = false;
  const result = until.finally(() => (settled = true));
  const rssMiB: number[] = [];
  const extras: number[] = [];
  while (!settled) {
    const [memory, e] = await Promise.all([procMemory(pid), extra()]);
    rssMiB.push(memory.rssMiB);
    extras.push(e);
    await Promise.race([sleep(SAMPLE_MS), result.catch(() => undefined)]);
  }
  return { result: await result, rssMiB, extra: extras };
}

async function main(): Promise<void> {
  const temporal = await startTemporalDevServer({
    binary: await ensureTool(TEMPORAL_CLI),
    searchAttributes: searchAttributeFlags(),
  });
  const emulator = await startEmulator({
    productSize: SIZE,
    timing: { queuedMs: 0, processingMs: 0 },
    includeDefaultAccount: false,
    accounts: [{ ...ACCOUNT, maxParallelItems: 100 }],
  });
  const scratch = await mkdtemp(path.join(tmpdir(), 'dedl-bench-footprint-'));
  const sinkDir = path.join(scratch, 'sink');
  let worker: ChildProcess | undefined;
  const connection = await Connection.connect({ address: temporal.address });
  try {
    // Built here, as `npm run build` + DEDL_WORKFLOW_BUNDLE would in production, so the worker's
    // memory is not that of webpack.
    const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: silentLogger });
    const bundlePath = path.join(scratch, 'workflow-bundle.js');
    await writeFile(bundlePath, bundle.code);
    const taskQueue = `footprint-${randomUUID()}`;
    const started = startWorker({
      ...process.env,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      DEDL_TASK_QUEUE: taskQueue,
      DEDL_WORKFLOW_BUNDLE: bundlePath,
      HOOK_BASE_URL: emulator.url,
      DESP_USERNAME: ACCOUNT.username,
      DESP_PASSWORD: ACCOUNT.password,
      LOG_LEVEL: 'INFO',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    worker = started.child;
    await started.ready;
    const pid = worker.pid!;
    const idle = await sampleWhile(pid, sleep(IDLE_WINDOW_MS));
    const idleRss = median(idle.rssMiB.slice(Math.floor(idle.rssMiB.length / 2))); // the settled half
    say(`idle worker: RSS ${idleRss.toFixed(0)} MiB`);

    const identifiers = emulator.catalogue
      .search({ collections: [BENCH_COLLECTION], limit: DOWNLOADS })
      .items.map((i) => i.id);
    const request: HarvestRequestInput = {
      name: 'footprint',
      collection: BENCH_COLLECTION,
      identifiers,
      output: { storage: 'TEMPORARY', sink: pathToFileURL(sinkDir).toString() },
      maxParallelDownloads: DOWNLOADS,
      polling: { initialInterval: '100ms', maxInterval: '500ms', backoff: 1.5, deadline: '10m' },
    };
    const client = new Client({ connection, namespace: temporal.namespace });
    const harvest = client.workflow.execute('harvest', {
      taskQueue,
      workflowId: `footprint-${randomUUID()}`,
      args: [request],
    }) as Promise<HarvestReport>;
    const partFiles = async () =>
      (await readdir(sinkDir).catch(() => [] as string[])).filter((f) => f.endsWith('.part')).length;
    const busy = await sampleWhile(pid, harvest, partFiles);
    const report = busy.result;
    if (report.outcome !== 'delivered' || report.items.some((i) => i.bytes !== SIZE)) {
      throw new Error(`the harvest did not deliver every product: ${JSON.stringify(report.items.map((i) => i.state))}`);
    }
    const inFlight = Math.max(...busy.extra);
    const overlapping = busy.rssMiB.filter((_, i) => busy.extra[i] === inFlight);
    const peak = Math.max(...busy.rssMiB);
    const hwm = (await procMemory(pid)).hwmMiB;
    const rows: BenchRow[] = [
      {
        benchmark: '6. Worker footprint, idle',
        figure: `RSS ${Math.round(idleRss)} MiB`,
        baseline: '—',
        ratio: null,
        aim: 'none (reported)',
        met: null,
        note:
          `dedl-harvest worker ${process.env['BENCH_WORKER_BUILT'] === '1' ? 'from dist/' : 'from source through tsx (the loader adds some memory)'}, prebuilt workflow bundle, ` +
          `median VmRSS over the settled half of ${IDLE_WINDOW_MS / 1000} s after "worker ready"`,
      },
      {
        benchmark: `6. Worker footprint, ${DOWNLOADS} downloads`,
        figure: `peak RSS ${Math.round(peak)} MiB (median ${Math.round(median(overlapping))} MiB while ${inFlight} ran at once)`,
        baseline: `idle RSS ${Math.round(idleRss)} MiB`,
        ratio: round(peak / idleRss),
        aim: 'none (reported)',
        met: null,
        note:
          `one harvest, ${DOWNLOADS} products of ${Math.round(SIZE / MiB)} MiB into a local folder with full verification, ` +
          `maxParallelDownloads ${DOWNLOADS}; up to ${inFlight} .part files seen at once; VmRSS sampled every ${SAMPLE_MS} ms; ` +
          `VmHWM ${Math.round(hwm)} MiB (peak since start)`,
      },
    ];
    emitRows(rows);
  } finally {
    if (worker) await stopWorker(worker);
    await connection.close();
    await emulator.close();
    await temporal.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

const silentLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message: string) => console.error(message),
};

runBench(main);
