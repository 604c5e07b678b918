/**
 * Benchmark: how fast the emulator generates and serves a product zip, and whether memory stays flat.
 *
 * 1. In process: reads `createProductStream` for BENCH_SIZE bytes and reports MB/s.
 * 2. Over loopback: a child process (this file, forked with `--serve`) serves the product with
 *    `serveProduct` on 127.0.0.1; the parent downloads it with undici, counting bytes (and hashing
 *    them when BENCH_VERIFY=1, checked against `productDigest`).
 * Both report the peak RSS of the generating process, sampled every 100 ms. Prints one JSON line.
 *
 * Environment: BENCH_SIZE (bytes, default 2 GiB), BENCH_VERIFY (default 0),
 * BENCH_MIN_MBPS (exit 1 when the HTTP rate is lower; default 0 = report only).
 */
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { createProductStream, productDigest } from '../src/emulator/product';
import { serveProduct } from '../src/emulator/product-server';

const IDENTIFIER = 'S2A_MSIL1C_20230910T050701_N0509_R019_T47VLH_20230910T074321.SAFE';

/** Samples this process's RSS until stopped; returns the peak in MB. */
function rssSampler(): () => number {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 100);
  return () => {
    clearInterval(timer);
    return Math.round(Math.max(peak, process.memoryUsage().rss) / 1e6);
  };
}

async function serve(size: number): Promise<void> {
  const server = createServer((req, res) => {
    void serveProduct(
      req,
      res,
      { identifier: IDENTIFIER, size },
      {
        etag: '"bench"',
        lastModified: new Date(0),
        fileName: 'bench.zip',
      },
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const stopSampling = rssSampler();
  process.send?.({ port: (server.address() as AddressInfo).port, rssMb: Math.round(process.memoryUsage().rss / 1e6) });
  process.on('message', () => process.send?.({ peakRssMb: stopSampling() }));
  process.on('disconnect', () => {
    server.close();
    process.exit(0);
  });
}

async function inProcess(size: number): Promise<{ mbPerSec: number; peakRssMb: number }> {
  const stopSampling = rssSampler();
  const started = process.hrtime.bigint();
  let bytes = 0;
  for await (const chunk of createProductStream({ identifier: IDENTIFIER, size })) bytes += (chunk as Buffer).length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (bytes !== size) throw new Error(`generated ${bytes} bytes, expected ${size}`);
  return { mbPerSec: Math.round(size / 1e6 / seconds), peakRssMb: stopSampling() };
}

async function overHttp(size: number, verify: boolean) {
  const child = fork(__filename, ['--serve', String(size)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: process.execArgv,
  });
  const [ready] = (await once(child, 'message')) as [{ port: number; rssMb: number }];
  const agent = new Agent();
  try {
    const started = process.hrtime.bigint();
    const res = await request(`http://127.0.0.1:${ready.port}/product.zip`, { dispatcher: agent });
    const hash = verify ? createHash('sha256') : undefined;
    let bytes = 0;
    for await (const chunk of res.body) {
      bytes += (chunk as Buffer).length;
      hash?.update(chunk as Buffer);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (bytes !== size) throw new Error(`downloaded ${bytes} bytes, expected ${size}`);
    child.send('report');
    const [report] = (await once(child, 'message')) as [{ peakRssMb: number }];
    const sha256Ok = hash
      ? hash.digest('hex') === (await productDigest({ identifier: IDENTIFIER, size })).sha256
      : undefined;
    return {
      mbPerSec: Math.round(size / 1e6 / seconds),
      serverRssAtStartMb: ready.rssMb,
      serverPeakRssMb: report.peakRssMb,
      ...(sha256Ok !== undefined ? { sha256Ok } : {}),
    };
  } finally {
    await agent.close();
    child.disconnect();
  }
}

async function main(): Promise<void> {
  const size = Number(process.env['BENCH_SIZE'] ?? 2 * 1024 ** 3);
  const verify = process.env['BENCH_VERIFY'] === '1';
  const minMbps = Number(process.env['BENCH_MIN_MBPS'] ?? 0);
  const generation = await inProcess(size);
  const http = await overHttp(size, verify);
  process.stdout.write(`${JSON.stringify({ bench: 'emulator-stream', sizeBytes: size, generation, http })}\n`);
  if (http.mbPerSec < minMbps) {
    process.stderr.write(`HTTP streaming ${http.mbPerSec} MB/s is below BENCH_MIN_MBPS=${minMbps}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[2] === '--serve') {
  serve(Number(process.argv[3])).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
