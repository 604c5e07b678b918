/**
 * Benchmark 4: verification of PRIVATE output — 10,000 objects under one prefix in versitygw —
 * by the project's `verifyPrivateOutput` (ListObjectsV2 pages, matched to the order's items) next
 * to the obvious alternative, one HeadObject per expected key, in the same run. The HEAD loop
 * runs at BENCH_HEAD_CONCURRENCY requests at once (default 32, within the SDK's 50-socket pool,
 * and well above the 2 cores of the machine this was written on, so it is not starved). Runs are
 * interleaved; medians reported. Both must find every object, or the bench fails.
 *
 *   node --import tsx bench/private-verify.ts [--json]
 *
 * Environment: BENCH_OBJECTS (default 10000), BENCH_RUNS (default 3), BENCH_HEAD_CONCURRENCY.
 */
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startS3Server } from '../src/devstack/s3-server';
import { VERSITYGW, ensureTool } from '../src/devstack/tools';
import { type CompletedItem, verifyPrivateOutput } from '../src/storage/private-output';
import { createS3Client } from '../src/storage/s3-client';
import { type BenchRow, emitRows, median, round, runBench, say } from './lib/rows';

const OBJECTS = Number(process.env['BENCH_OBJECTS'] ?? 10_000);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const HEAD_CONCURRENCY = Number(process.env['BENCH_HEAD_CONCURRENCY'] ?? 32);
const PUT_CONCURRENCY = 32;
const BUCKET = 'private-output';
const PREFIX = 'orders/4711';
const AIM = 5;

async function forEachBounded<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

async function timed(body: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await body();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Every item's key gets a HEAD; all must exist with bytes. */
async function headEach(s3: S3Client, keys: readonly string[]): Promise<void> {
  let found = 0;
  await forEachBounded(keys, HEAD_CONCURRENCY, async (key) => {
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    if ((head.ContentLength ?? 0) > 0) found++;
  });
  if (found !== keys.length) throw new Error(`HEAD found ${found} of ${keys.length} objects`);
}

async function verifyByListing(s3: S3Client, items: readonly CompletedItem[]): Promise<number> {
  const report = await verifyPrivateOutput({ s3, target: `s3://${BUCKET}/${PREFIX}`, items });
  const found = report.items.filter((i) => i.status === 'found').length;
  if (found !== items.length || report.listedObjects !== items.length) {
    throw new Error(`verifyPrivateOutput found ${found} of ${items.length} items (${report.listedObjects} listed)`);
  }
  return report.pages;
}

async function main(): Promise<void> {
  const server = await startS3Server({ binary: await ensureTool(VERSITYGW) });
  const s3 = createS3Client({
    endpoint: server.endpoint,
    region: server.region,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const items: CompletedItem[] = Array.from({ length: OBJECTS }, (_, i) => ({
      identifier: `S2B_MSIL1C_20240101T${String(i).padStart(6, '0')}_N0510_R001_T31UFT_20240101T120000.SAFE`,
      itemId: i + 1,
    }));
    const keys = items.map((item) => `${PREFIX}/${item.identifier}.zip`);
    const body = Buffer.alloc(256, 7);
    const putSeconds = await timed(() =>
      forEachBounded(keys, PUT_CONCURRENCY, async (key) => {
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
      }),
    );
    say(`created ${OBJECTS} objects in ${putSeconds.toFixed(1)} s`);

    const listSeconds: number[] = [];
    const headSeconds: number[] = [];
    let pages = 0;
    for (let run = 0; run < RUNS; run++) {
      listSeconds.push(
        await timed(async () => {
          pages = await verifyByListing(s3, items);
        }),
      );
      headSeconds.push(await timed(() => headEach(s3, keys)));
      say(
        `run ${run + 1}/${RUNS}: verifyPrivateOutput ${listSeconds[run]!.toFixed(2)} s, HEAD each ${headSeconds[run]!.toFixed(2)} s`,
      );
    }
    const list = median(listSeconds);
    const head = median(headSeconds);
    const ratio = round(head / list, 1);
    const rows: BenchRow[] = [
      {
        benchmark: '4. PRIVATE verification',
        figure: `${OBJECTS.toLocaleString('en')} objects in ${list.toFixed(2)} s (${pages} ListObjectsV2 pages)`,
        baseline: `one HeadObject per object, ${HEAD_CONCURRENCY} at once: ${head.toFixed(2)} s`,
        ratio,
        aim: `≥ ${AIM} × faster`,
        met: ratio >= AIM,
        note:
          `versitygw (posix backend) on loopback, ${OBJECTS} objects under one prefix; both methods must find every object; ` +
          `median of ${RUNS} interleaved runs` +
          (ratio >= AIM
            ? ''
            : `; miss: listing is only ${ratio} × faster than ${HEAD_CONCURRENCY} parallel HEADs here`),
      },
    ];
    emitRows(rows);
  } finally {
    s3.destroy();
    await server.stop();
  }
}

runBench(main);
