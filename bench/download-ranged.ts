/**
 * Parallel ranges bench (issue 16): the questions a user asks of a downloader on a real network.
 *
 * 8. Shaped link: the emulator caps each connection at 20 Mbit/s (DEDL HDA's documented quota)
 *    and adds 30 ms before each answer; one product (BENCH_SHAPED_SIZE, default 256 MiB) is
 *    fetched by the harvester's ranged delivery (8 connections, every check, fsync), `curl -o`
 *    (one stream) and `aria2c -x8 -s8 -k1M` (Debian's aria2, installed with apt-get when missing),
 *    in the same run. Aim: ≥ 0.9 × aria2c and ≥ 6 × curl.
 * 9. CPU per GiB on loopback (BENCH_CPU_SIZE, default 1 GiB): the worker path's own process CPU
 *    (one stream, every check, fsync) vs `curl -s URL | openssl dgst -sha256` (CPU of both), with
 *    the harvester's breakdown: receive (Node's HTTP stack reading and dropping every byte), write
 *    (the unverified path minus receive), sha256 and CRC/zip (measured in this process over the
 *    same bytes). Aim: ≤ 1.0 × the native pipe. For comparison the note also gives the pipe that writes
 *    and fsyncs the file as well (`curl | tee file | openssl`, `sync file`): the work the harvester
 *    does but for the CRC-32.
 * 10. Peak RSS of the ranged delivery at 1, 2 and 8 connections, a 2 GiB product (BENCH_RSS_SIZE)
 *    on loopback. Aim: ≤ 256 MiB each.
 *
 * Every download runs in a child (bench/download-one.ts), so its CPU and RSS are its own; the
 * emulator serves from this process. Run: `npm run bench:ranged` (`--json`: rows for run-all.ts).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type FaultsInput, startEmulator } from '../src/emulator';
import { createProductStream, productDigest } from '../src/emulator/product';
import { ZipStreamVerifier } from '../src/storage/zip-verify';
import { rangeSize } from '../src/activities/ranged-delivery';
import { type BenchRow, emitRows, runBench, say } from './lib/rows';
import { orderTemporaryLinks } from './lib/temporary-link';

const run = promisify(execFile);
const MIB = 1024 ** 2;
const GIB = 1024 ** 3;
const SHAPED_SIZE = Number(process.env.BENCH_SHAPED_SIZE ?? 256 * MIB);
const CPU_SIZE = Number(process.env.BENCH_CPU_SIZE ?? GIB);
const RSS_SIZE = Number(process.env.BENCH_RSS_SIZE ?? 2 * GIB);
const ID = 'S2A_MSIL1C_20230910T050701_N0509_R019_T47VLH_20230910T074321.SAFE';
const SHAPING = { perConnectionRate: '20Mbit', firstByteMs: 30 };
const RSS_LIMIT_MB = 256;

interface ChildResult {
  seconds: number;
  bytes: number;
  maxRssMb: number;
  cpuSeconds: number;
  sha256?: string;
}

async function withProduct<T>(
  size: number,
  faults: FaultsInput,
  use: (link: string, expected: string) => Promise<T>,
): Promise<T> {
  const emulator = await startEmulator({ productSize: size, timing: { queuedMs: 0, processingMs: 0 }, faults });
  try {
    const [link] = (await orderTemporaryLinks(emulator.url, [ID])) as [string];
    return await use(link, (await productDigest({ identifier: ID, size })).sha256);
  } finally {
    await emulator.close();
  }
}

/** One download by download-one.ts, checked for size and (when it hashes) sha256. */
async function child(method: string, link: string, target: string, size: number, expected: string) {
  const { stdout } = await run('npx', ['tsx', path.join(__dirname, 'download-one.ts'), method, link, target], {
    maxBuffer: 1 << 20,
    env: { ...process.env, BENCH_PRODUCT_SIZE: String(size) },
  });
  const result = JSON.parse(stdout) as ChildResult;
  if (result.bytes !== size || (result.sha256 && result.sha256 !== expected)) {
    throw new Error(`${method} delivered ${result.bytes} bytes with sha256 ${result.sha256}, expected ${expected}`);
  }
  await rm(target, { force: true });
  return result;
}

/** Runs a shell command; its wall seconds and its children's CPU seconds (the shell's `times`). */
async function timedShell(
  script: string,
  args: string[],
): Promise<{ seconds: number; cpuSeconds: number; out: string }> {
  const started = process.hrtime.bigint();
  const { stdout } = await run('bash', ['-c', `${script}\ntimes`, 'bash', ...args], { maxBuffer: 1 << 20 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const lines = stdout.trim().split('\n');
  const children = lines.at(-1) ?? '';
  const [user, system] = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return { seconds, cpuSeconds: (user ?? Number.NaN) + (system ?? Number.NaN), out: lines.slice(0, -2).join('\n') };
}

async function ensureAria2(): Promise<void> {
  try {
    await run('aria2c', ['--version']);
  } catch {
    say('installing aria2 (apt-get install -y aria2)');
    await run('apt-get', ['install', '-y', 'aria2'], { maxBuffer: 16 << 20 });
  }
}

async function sizeOf(file: string): Promise<number> {
  return (await stat(file)).size;
}

async function shapedLink(dir: string): Promise<BenchRow> {
  await ensureAria2();
  return withProduct(SHAPED_SIZE, { shaping: SHAPING }, async (link, expected) => {
    const target = path.join(dir, 'shaped.zip');
    say(`shaped link: harvester (8 ranged connections), ${SHAPED_SIZE / MIB} MiB`);
    const harvester = await child('ranged:8', link, target, SHAPED_SIZE, expected);
    say('shaped link: aria2c -x8 -s8 -k1M');
    const aria = await timedShell(
      'aria2c -q -x8 -s8 -k1M --allow-overwrite=true --auto-file-renaming=false -d "$1" -o aria.zip "$2"',
      [dir, link],
    );
    if ((await sizeOf(path.join(dir, 'aria.zip'))) !== SHAPED_SIZE) throw new Error('aria2c delivered a wrong size');
    await rm(path.join(dir, 'aria.zip'), { force: true });
    say('shaped link: curl -o (one stream)');
    const curl = await timedShell('curl -sS -o "$1" "$2"', [path.join(dir, 'curl.zip'), link]);
    if ((await sizeOf(path.join(dir, 'curl.zip'))) !== SHAPED_SIZE) throw new Error('curl delivered a wrong size');
    await rm(path.join(dir, 'curl.zip'), { force: true });
    const mbps = (s: number) => SHAPED_SIZE / 1e6 / s;
    const toAria = aria.seconds / harvester.seconds;
    const toCurl = curl.seconds / harvester.seconds;
    const f = (n: number) => n.toFixed(1);
    return {
      benchmark: `8. Shaped link (20 Mbit/s per connection, 30 ms to first byte), ${SHAPED_SIZE / MIB} MiB`,
      figure: `${f(mbps(harvester.seconds))} MB/s (${f(harvester.seconds)} s)`,
      baseline: `aria2c -x8 ${f(mbps(aria.seconds))} MB/s (${f(aria.seconds)} s); curl -o ${f(mbps(curl.seconds))} MB/s (${f(curl.seconds)} s)`,
      ratio: Number(toAria.toFixed(2)),
      aim: '≥ 0.9 × aria2c and ≥ 6 × curl',
      met: toAria >= 0.9 && toCurl >= 6,
      note:
        `same run, one product; harvester = ranged delivery, up to 8 connections (adaptive), ${rangeSize(SHAPED_SIZE, 8) / MIB} MiB ranges, ` +
        `every check, fsync, rename; ${f(toCurl)} × curl; peak RSS ${harvester.maxRssMb} MiB, ${harvester.cpuSeconds} CPU s`,
    };
  });
}

/** CPU seconds of sha256 and of the zip walk (CRC-32 of every entry) over the product's bytes, generation subtracted. */
async function checkCpu(size: number): Promise<{ sha256: number; zip: number }> {
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const spec = { identifier: ID, size };
  let at = cpu();
  for await (const _ of createProductStream(spec)) void _;
  const generate = cpu() - at;
  at = cpu();
  const hash = createHash('sha256');
  for await (const chunk of createProductStream(spec)) hash.update(chunk as Buffer);
  hash.digest();
  const sha256 = cpu() - at - generate;
  at = cpu();
  const zip = new ZipStreamVerifier();
  for await (const chunk of createProductStream(spec)) await zip.write(chunk as Buffer);
  await zip.finish();
  return { sha256, zip: cpu() - at - generate };
}

async function cpuPerGib(dir: string): Promise<BenchRow> {
  return withProduct(CPU_SIZE, {}, async (link, expected) => {
    const target = path.join(dir, 'cpu.zip');
    const gib = CPU_SIZE / GIB;
    say(`CPU per GiB: harvester (one stream, every check, fsync), ${gib} GiB`);
    const harvester = await child('harvester', link, target, CPU_SIZE, expected);
    const unverified = await child('unverified', link, target, CPU_SIZE, expected);
    const receive = await child('receive-only', link, target, CPU_SIZE, expected);
    say('CPU per GiB: curl -s | openssl dgst -sha256');
    const native = await timedShell('curl -sS "$1" | openssl dgst -sha256 -r', [link]);
    if (!native.out.startsWith(expected))
      throw new Error(`curl | openssl computed ${native.out}, expected ${expected}`);
    // The same pipe doing the file's share of the work too (write it, fsync it): a comparison
    // for the harvester's receive + write + sha256, which the aim's baseline leaves out.
    say('CPU per GiB: curl -s | tee file | openssl dgst -sha256, sync file');
    const nativeFile = await timedShell('curl -sS "$1" | tee "$2" | openssl dgst -sha256 -r && sync "$2"', [
      link,
      target,
    ]);
    await rm(target, { force: true });
    if (!nativeFile.out.startsWith(expected))
      throw new Error(`curl | tee | openssl computed ${nativeFile.out}, expected ${expected}`);
    const checks = await checkCpu(CPU_SIZE);
    const per = (s: number) => s / gib;
    const f = (n: number) => per(n).toFixed(2);
    const ratio = harvester.cpuSeconds / native.cpuSeconds;
    return {
      benchmark: '9. CPU per GiB on loopback (worker path vs curl | openssl)',
      figure: `${f(harvester.cpuSeconds)} CPU s/GiB`,
      baseline: `curl -s | openssl dgst -sha256 ${f(native.cpuSeconds)} CPU s/GiB`,
      ratio: Number(ratio.toFixed(2)),
      aim: '≤ 1.0 × the native pipe',
      met: ratio <= 1.0,
      note:
        `${gib} GiB, one stream, every check (sha256, sizes, zip CRC-32), fsync and rename; process CPU (user + sys) ` +
        `of the harvester's own process vs curl's and openssl's; breakdown per GiB: receive ${f(receive.cpuSeconds)}, ` +
        `write ${f(unverified.cpuSeconds - receive.cpuSeconds)}, sha256 ${f(checks.sha256)}, CRC/zip ${f(checks.zip)} ` +
        `(receive = reading and dropping every byte; write = unverified path − receive; sha256 and CRC/zip measured alone over the same bytes); ` +
        `vs \`curl -s | tee file | openssl dgst -sha256\` + \`sync file\` (the file written and fsynced too, no CRC) ` +
        `${f(nativeFile.cpuSeconds)} CPU s/GiB: ${(harvester.cpuSeconds / nativeFile.cpuSeconds).toFixed(2)} ×`,
    };
  });
}

async function rssByConnections(dir: string): Promise<BenchRow> {
  return withProduct(RSS_SIZE, {}, async (link, expected) => {
    const target = path.join(dir, 'rss.zip');
    const peaks: Record<number, number> = {};
    const cpu: string[] = [];
    for (const n of [1, 2, 8]) {
      say(`peak RSS: ${n} connection(s), ${RSS_SIZE / GIB} GiB`);
      const result = await child(n === 1 ? 'harvester' : `ranged:${n}`, link, target, RSS_SIZE, expected);
      peaks[n] = result.maxRssMb;
      cpu.push(`${n}: ${(result.cpuSeconds / (RSS_SIZE / GIB)).toFixed(2)}`);
    }
    const worst = Math.max(...Object.values(peaks));
    return {
      benchmark: `10. Peak RSS by connections, ${RSS_SIZE / GIB} GiB product`,
      figure: `1: ${peaks[1]} MiB, 2: ${peaks[2]} MiB, 8: ${peaks[8]} MiB`,
      baseline: `${RSS_LIMIT_MB} MiB`,
      ratio: Number((worst / RSS_LIMIT_MB).toFixed(2)),
      aim: `≤ ${RSS_LIMIT_MB} MiB each`,
      met: worst <= RSS_LIMIT_MB,
      note:
        'loopback; 1 = the single-stream path, 2 and 8 = ranged delivery (adaptive up to n; ranges re-read from the ' +
        `page cache for the in-order checks); every check, fsync; CPU s/GiB by connections ${cpu.join(', ')}`,
    };
  });
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dedl-bench-ranged-'));
  const only = process.env.BENCH_RANGED_ONLY?.split(',');
  const rows: BenchRow[] = [];
  try {
    if (!only || only.includes('shaped')) rows.push(await shapedLink(dir));
    if (!only || only.includes('cpu')) rows.push(await cpuPerGib(dir));
    if (!only || only.includes('rss')) rows.push(await rssByConnections(dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  emitRows(rows);
}

runBench(main);
