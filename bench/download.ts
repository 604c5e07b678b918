/**
 * Download benchmark (issue: Hook client, performance): a TEMPORARY product from the emulator to a
 * local file, three ways, side by side in one run on loopback:
 * - `curl -o` (the baseline),
 * - the harvester's streaming path with every integrity check,
 * - the tutorial's whole-body-in-memory approach,
 * and two floors that explain the ratio on a small machine: Node's HTTP stack reading and dropping
 * every byte (`receive-only`), and the native tools' way to download with a checksum
 * (`curl | tee <file> | openssl dgst -sha256`). The emulator runs in this process, so its CPU
 * seconds per transfer are measured too; with the CPU cost of sha256 + CRC-32 over the product
 * and curl's CPU seconds they give the ceiling this machine puts on any verifying download (row 1c).
 * Each method runs BENCH_RUNS times, interleaved (median reported); every file goes to the same
 * directory, so to the same filesystem. Peak RSS and CPU seconds are each child's own. `curl -o`
 * does not fsync and the harvester must (a delivered file survives a power cut), so the time a
 * `sync <file>` takes after curl is shown too (`curl + fsync`), for a like-for-like reading.
 * Aim: peak RSS ≤ 256 MiB. The ratio to curl's wall time is shown, with no aim: on loopback it
 * measures the CPU shared with the server, not the harvester (issue 16 retired the old
 * "≥ 0.9 × curl" aim; CPU per GiB against the native pipe is row 9, bench/download-ranged.ts).
 *
 * Run: `npm run bench:download` (BENCH_SIZE bytes, default 2 GiB; BENCH_RUNS, default 3).
 * `--json`: the last stdout line is `{"rows":[…]}`, one row per benchmark, for the bench runner.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { constants as bufferConstants } from 'node:buffer';
import { availableParallelism, freemem, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import { startEmulator } from '../src/emulator';
import { productDigest } from '../src/emulator/product';
import type { BenchRow } from './lib/rows';
import { orderTemporaryLinks } from './lib/temporary-link';

const run = promisify(execFile);
const SIZE = Number(process.env.BENCH_SIZE ?? 2 * 1024 ** 3);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ID = 'S2A_MSIL1C_20230910T050701_N0509_R019_T47VLH_20230910T074321.SAFE';
const JSON_OUTPUT = process.argv.includes('--json');
const RSS_LIMIT_MB = 256;
/**
 * The largest product the tutorial's whole-body approach can hold here, and why: Node's own limit
 * on one buffer (`buffer.constants.MAX_LENGTH`, read, not assumed: 4 GiB on Node 20 x64), and the
 * memory available now, of which it needs about twice the product (the body as it arrives, then
 * the whole ArrayBuffer; measured: 4.2 GiB RSS for 2 GiB).
 */
const TUTORIAL_MEMORY_FACTOR = 2.2;
function tutorialLimit(): { bytes: number; reason: string } {
  const byNode = bufferConstants.MAX_LENGTH;
  const byMemory = Math.floor(freemem() / TUTORIAL_MEMORY_FACTOR);
  return byNode <= byMemory
    ? {
        bytes: byNode,
        reason: `Node ${process.version} holds at most ${byNode} bytes in one buffer (buffer.constants.MAX_LENGTH)`,
      }
    : {
        bytes: byMemory,
        reason: `it needs about ${TUTORIAL_MEMORY_FACTOR} × the product in memory and ${(freemem() / 1024 ** 3).toFixed(1)} GiB is available`,
      };
}

interface Sample {
  seconds: number;
  maxRssMb?: number;
  cpuSeconds?: number;
  /** CPU seconds the emulator (this process) spent serving the transfer. */
  serverCpuSeconds?: number;
}

type Method =
  'curl' | 'curl + fsync' | 'curl | tee | openssl' | 'harvester' | 'unverified' | 'receive-only' | 'tutorial';
const METHODS: readonly Method[] = [
  'curl',
  'curl + fsync',
  'curl | tee | openssl',
  'harvester',
  'unverified',
  'receive-only',
  'tutorial',
];
/** Methods run as a child process of ours (download-one.ts), so their RSS and CPU are their own. */
const CHILD_METHODS = new Set<Method>(['harvester', 'unverified', 'receive-only', 'tutorial']);

/** CPU seconds of this process (the emulator's, while a transfer runs) spent in `work`. */
async function withServerCpu<T extends Sample>(work: () => Promise<T>): Promise<T> {
  const before = process.cpuUsage();
  const sample = await work();
  const used = process.cpuUsage(before);
  return { ...sample, serverCpuSeconds: (used.user + used.system) / 1e6 };
}

/**
 * `curl -o`: its own timing (`time_total`) and CPU seconds (the shell's `times` for its children),
 * both excluding process start-up as far as curl can tell.
 */
async function curlOnce(link: string, target: string): Promise<Sample> {
  const { stdout } = await run('sh', [
    '-c',
    'curl -sS -o "$1" -w "%{time_total}\\n" "$2" || exit $?; times',
    'sh',
    target,
    link,
  ]);
  const [total, , children] = stdout.trim().split('\n');
  const [user, system] = [...(children ?? '').matchAll(/(\d+)m([\d.]+)s/g)].map(
    (m) => Number(m[1]) * 60 + Number(m[2]),
  );
  return { seconds: Number(total), cpuSeconds: (user ?? Number.NaN) + (system ?? Number.NaN) };
}

/** CPU seconds that sha256 and CRC-32 take over `size` bytes here, fed 1 MiB at a time (the least per byte). */
function hashingCpuSeconds(size: number): number {
  const block = randomBytes(1024 * 1024);
  const before = process.cpuUsage();
  const hash = createHash('sha256');
  let crc = 0;
  for (let done = 0; done < size; done += block.length) {
    hash.update(block);
    crc = crc32(block, crc);
  }
  hash.digest();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
}

/** `curl | tee <file> | openssl dgst -sha256`: the native tools' checksummed download; NaN without openssl. */
async function nativeChecksumPipeline(link: string, target: string, expected: string): Promise<Sample> {
  const started = process.hrtime.bigint();
  try {
    const { stdout } = await run('sh', [
      '-c',
      'curl -sS "$1" | tee "$2" | openssl dgst -sha256 -r',
      'sh',
      link,
      target,
    ]);
    if (!stdout.startsWith(expected))
      throw new Error(`curl | tee | openssl computed ${stdout.trim()}, expected ${expected}`);
    return { seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  } catch (err) {
    if ((err as { code?: number }).code === 127) return { seconds: Number.NaN };
    throw err;
  } finally {
    await rm(target, { force: true });
  }
}

/** An emulator serving one TEMPORARY product of `size` bytes, its signed link and its sha256. */
async function productLink(size: number) {
  const emulator = await startEmulator({ productSize: size, timing: { queuedMs: 0, processingMs: 0 } });
  try {
    const [link] = (await orderTemporaryLinks(emulator.url, [ID])) as [string];
    const expected = (await productDigest({ identifier: ID, size })).sha256;
    return { link, expected, close: () => emulator.close() };
  } catch (err) {
    await emulator.close();
    throw err;
  }
}

/** One download by a child process (`download-one.ts`), checked for size and sha256. */
async function downloadOnce(method: string, link: string, target: string, size: number, expected: string) {
  const child = await run('npx', ['tsx', path.join(__dirname, 'download-one.ts'), method, link, target], {
    maxBuffer: 1 << 20,
  });
  const result = JSON.parse(child.stdout) as Sample & { sha256?: string; bytes: number };
  if (result.bytes !== size || (result.sha256 && result.sha256 !== expected)) {
    throw new Error(`${method} delivered ${result.bytes} bytes with sha256 ${result.sha256}, expected ${expected}`);
  }
  await rm(target, { force: true });
  return result;
}

/**
 * When BENCH_SIZE is more than the tutorial's approach can hold here, its memory use is measured
 * on the largest whole GiB it can hold, next to the harvester's on the same product.
 */
async function tutorialMemory(dir: string): Promise<{ size: number; tutorialMb: number; harvesterMb: number }> {
  const limit = tutorialLimit().bytes;
  const size =
    limit >= 1024 ** 3 ? Math.floor(limit / 1024 ** 3) * 1024 ** 3 : Math.floor(limit / 1024 ** 2) * 1024 ** 2;
  const product = await productLink(size);
  try {
    const target = path.join(dir, 'tutorial.zip');
    const tutorial = await downloadOnce('tutorial', product.link, target, size, product.expected);
    const harvester = await downloadOnce('harvester', product.link, target, size, product.expected);
    return { size, tutorialMb: tutorial.maxRssMb ?? Number.NaN, harvesterMb: harvester.maxRssMb ?? Number.NaN };
  } finally {
    await product.close();
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dedl-bench-download-'));
  const { link, expected, close } = await productLink(SIZE);
  try {
    const samples = Object.fromEntries(METHODS.map((method) => [method, [] as Sample[]])) as Record<Method, Sample[]>;
    for (let i = 0; i < RUNS; i++) {
      // Interleaved, so machine noise hits every method alike.
      const target = path.join(dir, `run-${i}.zip`);
      const curl = await withServerCpu(() => curlOnce(link, target));
      samples.curl.push(curl);
      const syncStarted = process.hrtime.bigint();
      await run('sync', [target]);
      const syncSeconds = Number(process.hrtime.bigint() - syncStarted) / 1e9;
      samples['curl + fsync'].push({ seconds: curl.seconds + syncSeconds });
      await rm(target, { force: true });
      samples['curl | tee | openssl'].push(await nativeChecksumPipeline(link, target, expected));
      for (const method of ['harvester', 'unverified', 'receive-only', 'tutorial'] as const) {
        if (method === 'tutorial' && SIZE > tutorialLimit().bytes) {
          // More than one buffer may hold, or than memory can: the tutorial's approach cannot download this.
          samples.tutorial.push({ seconds: Number.NaN });
          continue;
        }
        samples[method].push(await withServerCpu(() => downloadOnce(method, link, target, SIZE, expected)));
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const mbps = (s: number) => SIZE / 1e6 / s;
    const curlSeconds = median(samples.curl.map((s) => s.seconds));
    const row = (method: Method) => {
      const seconds = median(samples[method].map((s) => s.seconds));
      const failed = Number.isNaN(seconds);
      const child = CHILD_METHODS.has(method) && !failed;
      const measuredCpu = (child || method === 'curl') && !failed;
      return {
        method,
        medianSeconds: Number(seconds.toFixed(2)),
        MBps: failed ? null : Math.round(mbps(seconds)),
        ratioToCurl: failed ? null : Number((curlSeconds / seconds).toFixed(2)),
        peakRssMb: child ? Math.max(...samples[method].map((s) => s.maxRssMb ?? 0)) : null,
        cpuSeconds: measuredCpu ? median(samples[method].map((s) => s.cpuSeconds ?? Number.NaN)) : null,
        serverCpuSeconds: measuredCpu ? median(samples[method].map((s) => s.serverCpuSeconds ?? Number.NaN)) : null,
      };
    };
    const rows = METHODS.map(row);
    const byMethod = Object.fromEntries(rows.map((r) => [r.method, r])) as Record<Method, ReturnType<typeof row>>;
    const { curl, harvester, unverified, tutorial } = byMethod;
    const curlSync = byMethod['curl + fsync'];
    const native = byMethod['curl | tee | openssl'];
    console.table(rows);
    const ceiling = verifyingCeiling(curl, byMethod['receive-only']);
    console.log(ceiling.text);
    const met = {
      rss: (harvester.peakRssMb ?? Infinity) <= RSS_LIMIT_MB,
    };
    console.log(
      JSON.stringify({
        bench: 'download',
        sizeBytes: SIZE,
        runs: RUNS,
        rows,
        aims: { peakRssMb: `<= ${RSS_LIMIT_MB}` },
        met,
      }),
    );
    if (JSON_OUTPUT) {
      const size = sizeLabel(SIZE);
      const benchRows: BenchRow[] = [
        {
          benchmark: `1. Download ${size} to a local file`,
          figure: `${harvester.MBps} MB/s`,
          baseline: `curl ${curl.MBps} MB/s`,
          ratio: harvester.ratioToCurl,
          aim: `RSS ≤ ${RSS_LIMIT_MB} MiB (ratio: comparison only, see row 9)`,
          met: met.rss,
          note:
            `median of ${RUNS} interleaved runs; every check (sha256, sizes, zip CRC-32), fsync and rename; ` +
            `peak RSS ${harvester.peakRssMb} MiB, ${harvester.cpuSeconds} CPU s; ` +
            `without verification ${unverified.MBps} MB/s (${unverified.ratioToCurl} ×); ` +
            `curl + fsync of its file ${curlSync.MBps} MB/s`,
        },
        tutorial.MBps === null
          ? await tutorialRow(dir, size)
          : {
              benchmark: '1b. Tutorial approach (in memory)',
              figure: `${tutorial.MBps} MB/s, peak RSS ${tutorial.peakRssMb} MiB`,
              baseline: `curl ${curl.MBps} MB/s; harvester peak RSS ${harvester.peakRssMb} MiB`,
              ratio: tutorial.ratioToCurl,
              aim: 'none (comparison)',
              met: null,
              note: `whole body in memory, no checks; it holds up to ${sizeLabel(tutorialLimit().bytes)} here (${tutorialLimit().reason})`,
            },
        {
          benchmark: '1c. Ceiling for any verifying download here',
          figure: `≤ ${ceiling.ratio} × curl`,
          baseline: `curl ${curl.MBps} MB/s`,
          ratio: ceiling.ratio,
          aim: 'none (explains row 1)',
          met: null,
          note:
            `${ceiling.text}; native tools with sha256 only (curl | tee | openssl dgst -sha256): ` +
            `${native.MBps ?? 'n/a'} MB/s (${native.ratioToCurl ?? 'n/a'} ×)`,
        },
      ];
      console.log(JSON.stringify({ rows: benchRows }));
    }
  } finally {
    await close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The fastest any download that checks sha256 and CRC-32 can be on this machine, by CPU alone:
 * curl's own work (receiving and writing, the cheapest way there is), plus hashing every byte,
 * plus the emulator serving them, spread perfectly over every core (yet never below the time of
 * hashing the one stream, which cannot be split). A downloader in Node pays
 * more than curl to receive (the `receive-only` row), so its real ceiling is lower still.
 */
function verifyingCeiling(
  curl: { medianSeconds: number; cpuSeconds: number | null; serverCpuSeconds: number | null },
  receiveOnly: { cpuSeconds: number | null },
) {
  const hashing = hashingCpuSeconds(SIZE);
  const curlCpu = curl.cpuSeconds ?? Number.NaN;
  const server = curl.serverCpuSeconds ?? Number.NaN;
  const cores = availableParallelism();
  // Spread over every core, but no shorter than hashing one stream (sha256 cannot be split).
  const lowestSeconds = Math.max((curlCpu + hashing + server) / cores, hashing);
  const ratio = Number((curl.medianSeconds / lowestSeconds).toFixed(2));
  const text =
    `CPU ceiling: max((curl ${curlCpu.toFixed(2)} + sha256 & CRC-32 ${hashing.toFixed(2)} + emulator ` +
    `${server.toFixed(2)} CPU s) / ${cores} cores, hashing) = ${lowestSeconds.toFixed(2)} s at best vs curl ` +
    `${curl.medianSeconds.toFixed(2)} s: ≤ ${ratio} × curl (Node's HTTP stack alone, reading and dropping ` +
    `every byte: ${receiveOnly.cpuSeconds ?? 'n/a'} CPU s)`;
  return { ratio, text };
}

/** The tutorial's approach beside the harvester on the largest product it can hold. */
async function tutorialRow(dir: string, size: string): Promise<BenchRow> {
  const { reason } = tutorialLimit();
  const memory = await tutorialMemory(dir);
  return {
    benchmark: '1b. Tutorial approach (in memory)',
    figure: `cannot run at ${size}; peak RSS ${memory.tutorialMb} MiB at ${sizeLabel(memory.size)}`,
    baseline: `harvester at ${sizeLabel(memory.size)}: peak RSS ${memory.harvesterMb} MiB`,
    ratio: Number((memory.tutorialMb / memory.harvesterMb).toFixed(1)),
    aim: 'none (comparison)',
    met: null,
    note:
      `the whole body of a ${size} product cannot be held: ${reason}; ` +
      `ratio = the tutorial's peak RSS / the harvester's on the same ${sizeLabel(memory.size)} product`,
  };
}

function sizeLabel(bytes: number): string {
  if (bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3} GiB`;
  if (bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2} MiB`;
  return `${bytes} bytes`;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
