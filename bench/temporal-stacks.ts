/**
 * Benchmark 7: the Temporal cluster on PostgreSQL (four service processes) next to the dev server
 * (one process, SQLite), as the local stack starts them: time to start, the latency of a
 * one-product TEMPORARY harvest from start to result (median of BENCH_HARVESTS, default 5), and
 * the resident memory of this process — the harvest worker and the emulator — after them. The dev
 * server is the baseline, measured in the same run. No aim: these are the numbers the README's
 * Deployment section quotes.
 *
 *   node --import tsx bench/temporal-stacks.ts [--json]
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { startLocalHarvestEnv } from '../src/client/local-env';
import { type BenchRow, emitRows, median, round, runBench, say } from './lib/rows';
import { BENCH_COLLECTION } from './lib/temporary-link';

const HARVESTS = Number(process.env['BENCH_HARVESTS'] ?? 5);

interface StackFigures {
  startMs: number;
  harvestMs: number;
  rssMiB: number;
}

async function measure(cluster: boolean): Promise<StackFigures> {
  const started = Date.now();
  const local = await startLocalHarvestEnv({
    emulator: { timing: { queuedMs: 0, processingMs: 0 }, productSize: 64 * 1024 },
    bucket: 'bench-stacks',
    log: say,
    cluster,
  });
  const startMs = Date.now() - started;
  const sink = await mkdtemp(path.join(tmpdir(), 'dedl-bench-stacks-'));
  const connection = await Connection.connect({ address: local.stack.temporal.address });
  try {
    const client = new Client({ connection, namespace: local.stack.temporal.namespace });
    const identifier = local.emulator.catalogue.search({ collections: [BENCH_COLLECTION], limit: 1 }).items[0]?.id;
    const latencies: number[] = [];
    for (let i = 0; i < HARVESTS; i++) {
      const t0 = Date.now();
      await client.workflow.execute('harvest', {
        taskQueue: local.taskQueue,
        workflowId: `bench-stacks-${randomUUID()}`,
        args: [
          {
            name: `bench stacks ${i}`,
            collection: BENCH_COLLECTION,
            identifiers: [identifier!],
            polling: { initialInterval: '100ms', maxInterval: '200ms', backoff: 1.5, deadline: '5m' },
            output: { storage: 'TEMPORARY', sink: pathToFileURL(path.join(sink, String(i))).toString() },
          },
        ],
      });
      latencies.push(Date.now() - t0);
    }
    return { startMs, harvestMs: median(latencies), rssMiB: process.memoryUsage().rss / 2 ** 20 };
  } finally {
    await connection.close();
    await local.close();
    await rm(sink, { recursive: true, force: true });
  }
}

runBench(async () => {
  say('Dev server (baseline)…');
  const dev = await measure(false);
  say('Cluster on PostgreSQL…');
  const cluster = await measure(true);
  const row = (what: string, figure: number, baseline: number, unit: string, note: string): BenchRow => ({
    benchmark: `7. Temporal cluster vs dev server: ${what}`,
    figure: `${round(figure, 1)} ${unit}`,
    baseline: `${round(baseline, 1)} ${unit} (dev server)`,
    ratio: round(figure / baseline, 2),
    aim: 'none (reported)',
    met: null,
    note,
  });
  emitRows([
    row(
      'start',
      cluster.startMs / 1000,
      dev.startMs / 1000,
      's',
      'stack, emulator and worker up (tools already built)',
    ),
    row(
      'harvest latency',
      cluster.harvestMs,
      dev.harvestMs,
      'ms',
      `one 64 KiB TEMPORARY product, start to result, median of ${HARVESTS}`,
    ),
    row('worker RSS', cluster.rssMiB, dev.rssMiB, 'MiB', 'this process (worker and emulator) after the harvests'),
  ]);
});
