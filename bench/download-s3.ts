/**
 * Benchmark 2: a TEMPORARY product from the emulator into S3 (versitygw on loopback), through
 * the path a delivery takes — `openSinkTarget('s3://…')` → `open` → `HookClient.openProduct` →
 * `fill` (multipart upload with a SHA-256 checksum per part, the product verified while it
 * streams) — next to `curl -o` of the same link to a local file, in the same run. Runs are
 * interleaved (curl, S3, curl, S3, …) so machine noise hits both alike; medians are reported.
 * Each S3 delivery runs in its own child process, so its peak RSS is its own.
 *
 *   node --import tsx bench/download-s3.ts [--json]
 *
 * Environment: BENCH_SIZE (bytes, default 2 GiB), BENCH_RUNS (default 3).
 */
import { execFile, spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { openSinkTarget } from '../src/storage/sinks';
import type { S3CredentialSet } from '../src/config/credentials';
import { startS3Server } from '../src/devstack/s3-server';
import { VERSITYGW, ensureTool } from '../src/devstack/tools';
import { startEmulator } from '../src/emulator';
import { productDigest } from '../src/emulator/product';
import { HookClient } from '../src/hook/client';
import { endpointsAt } from '../src/hook/endpoints';
import { createHttpAgent } from '../src/hook/http';
import { staticTokenSource } from '../src/hook/tokens';
import { createS3Client, parseS3Url } from '../src/storage/s3-client';
import { multipartUpload } from '../src/storage/s3-multipart';
import { type BenchRow, MiB, emitRows, mbps, median, round, runBench, say } from './lib/rows';
import { BENCH_COLLECTION, orderTemporaryLinks } from './lib/temporary-link';

const SIZE = Number(process.env['BENCH_SIZE'] ?? 2 * 1024 ** 3);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const BUCKET = 'bench';
const AIM = 0.6;

interface ChildResult {
  seconds: number;
  bytes: number;
  sha256: string;
  maxRssMiB: number;
}

/** The child: one delivery into `s3://bucket/prefix`, credentials from the environment. */
async function deliverOnce(link: string, sinkUrl: string, name: string): Promise<void> {
  const keys: S3CredentialSet = JSON.parse(process.env['BENCH_S3'] ?? '{}') as S3CredentialSet;
  const started = process.hrtime.bigint();
  const agent = createHttpAgent();
  const hook = new HookClient({
    endpoints: endpointsAt(new URL(link).origin),
    tokens: staticTokenSource('unused'), // signed links carry no bearer
    dispatcher: agent,
  });
  const target = await openSinkTarget(sinkUrl, keys);
  try {
    const part = await target.open(name);
    const response = await hook.openProduct({ url: link });
    const delivered = await part.fill(response.body, {
      expect: { contentLength: response.totalSize },
      signal: new AbortController().signal,
      keepPartialOnFailure: () => false,
      onProgress: () => undefined,
      onCheckpoint: () => undefined,
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const result: ChildResult = {
      seconds,
      bytes: delivered.verification.size,
      sha256: delivered.verification.sha256,
      maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    target.close();
    await agent.close();
  }
}

/** The ceiling of the storage alone: the same bytes from a local file, plain multipart, no Hook and no checks. */
async function uploadRawOnce(file: string, sinkUrl: string, name: string): Promise<void> {
  const keys: S3CredentialSet = JSON.parse(process.env['BENCH_S3'] ?? '{}') as S3CredentialSet;
  const started = process.hrtime.bigint();
  const s3 = createS3Client(keys);
  try {
    const { bucket, prefix } = parseS3Url(sinkUrl);
    const result = await multipartUpload({
      s3,
      bucket,
      key: `${prefix}/${name}`,
      body: createReadStream(file, { highWaterMark: 1 << 20 }),
      partSize: 16 * MiB,
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const out: ChildResult = {
      seconds,
      bytes: result.size,
      sha256: '',
      maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    s3.destroy();
  }
}

/** Why the delivery misses its aim: the storage itself, or the delivery's own path. */
function missReason(deliveryRatio: number, storageRatio: number): string {
  const ofCeiling = deliveryRatio / storageRatio;
  if (ofCeiling >= 0.8) {
    return (
      `the storage is the bound here: a plain upload of the same bytes into versitygw (row 2b) reaches only ` +
      `${round(storageRatio)} × curl, and the delivery reaches ${round(ofCeiling)} × that`
    );
  }
  return (
    `the delivery reaches ${round(ofCeiling)} × the storage ceiling (row 2b): parts go up one at a time ` +
    `and the download waits while a part uploads`
  );
}

function runChild(mode: '--child' | '--raw', args: string[], env: NodeJS.ProcessEnv): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', __filename, mode, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the ${mode} child exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as ChildResult);
    });
  });
}

async function main(): Promise<void> {
  const s3Server = await startS3Server({ binary: await ensureTool(VERSITYGW) });
  const emulator = await startEmulator({ productSize: SIZE, timing: { queuedMs: 0, processingMs: 0 } });
  const scratch = await mkdtemp(path.join(tmpdir(), 'dedl-bench-s3-'));
  const keys: S3CredentialSet = {
    accessKeyId: s3Server.accessKeyId,
    secretAccessKey: s3Server.secretAccessKey,
    region: s3Server.region,
    endpoint: s3Server.endpoint,
  };
  const s3 = createS3Client(keys);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const identifier = emulator.catalogue.search({ collections: [BENCH_COLLECTION], limit: 1 }).items[0]!.id;
    const [link] = await orderTemporaryLinks(emulator.url, [identifier]);
    const expected = (await productDigest({ identifier, size: SIZE })).sha256;
    const name = `${identifier}.zip`;

    const env = { ...process.env, BENCH_S3: JSON.stringify(keys) };
    const curlSeconds: number[] = [];
    const rawRuns: ChildResult[] = [];
    const s3Runs: ChildResult[] = [];
    for (let run = 0; run < RUNS; run++) {
      const file = path.join(scratch, name);
      const curl = await promisify(execFile)('curl', ['-sS', '-f', '-o', file, '-w', '%{time_total}', link!]);
      curlSeconds.push(Number(curl.stdout));
      const raw = await runChild('--raw', [file, `s3://${BUCKET}/raw-${run}`, name], env);
      if (raw.bytes !== SIZE) throw new Error(`the raw upload stored ${raw.bytes} bytes, expected ${SIZE}`);
      rawRuns.push(raw);
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `raw-${run}/${name}` }));
      await rm(file, { force: true });

      const prefix = `run-${run}`;
      const result = await runChild('--child', [link!, `s3://${BUCKET}/${prefix}`, name], env);
      if (result.bytes !== SIZE || result.sha256 !== expected) {
        throw new Error(`S3 delivery stored ${result.bytes} bytes with sha256 ${result.sha256}, expected ${expected}`);
      }
      s3Runs.push(result);
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${name}` }));
      say(
        `run ${run + 1}/${RUNS}: curl ${curlSeconds[run]!.toFixed(2)} s, raw upload ${raw.seconds.toFixed(2)} s, ` +
          `S3 delivery ${result.seconds.toFixed(2)} s`,
      );
    }

    const curl = median(curlSeconds);
    const delivery = median(s3Runs.map((r) => r.seconds));
    const rawUpload = median(rawRuns.map((r) => r.seconds));
    const rawRatio = round(curl / rawUpload);
    const ratio = round(curl / delivery);
    const peakRss = Math.max(...s3Runs.map((r) => r.maxRssMiB));
    const rows: BenchRow[] = [
      {
        benchmark: '2. Download to S3',
        figure: `${mbps(SIZE, delivery)}, peak RSS ${peakRss} MiB`,
        baseline: `curl -o to a local file ${mbps(SIZE, curl)}`,
        ratio,
        aim: `≥ ${AIM} × curl`,
        met: ratio >= AIM,
        note:
          `${(SIZE / 1024 ** 3).toFixed(2)} GiB product, median of ${RUNS} interleaved runs; multipart upload into versitygw ` +
          `(posix backend, same disk) with per-part SHA-256 and streaming verification, through openSinkTarget/fill as a delivery does` +
          (ratio >= AIM ? '' : `; miss: ${missReason(curl / delivery, curl / rawUpload)}`),
      },
      {
        benchmark: '2b. S3 storage ceiling',
        figure: `${mbps(SIZE, rawUpload)}`,
        baseline: `curl -o to a local file ${mbps(SIZE, curl)}`,
        ratio: rawRatio,
        aim: 'none (context for row 2)',
        met: null,
        note: `the same bytes from a local file into versitygw as a plain 16 MiB-part multipart upload (no Hook, no checksums, no verification), median of ${RUNS}`,
      },
    ];
    emitRows(rows);
  } finally {
    s3.destroy();
    await emulator.close();
    await s3Server.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  const [link, sinkUrl, name] = process.argv.slice(3);
  runBench(() => deliverOnce(link!, sinkUrl!, name!));
} else if (process.argv[2] === '--raw') {
  const [file, sinkUrl, name] = process.argv.slice(3);
  runBench(() => uploadRawOnce(file!, sinkUrl!, name!));
} else {
  runBench(main);
}
