/**
 * Benchmark: how many order-status requests per second the Hook emulator serves.
 *
 * The emulator runs in a child process (this same file, forked with `--serve`), so the load
 * generator does not share its event loop. The parent creates one order of 10 small TEMPORARY
 * items, waits for it to complete, then runs `concurrency` keep-alive undici loops over
 * `ProductionOrders(id)` and `BatchOrder(id)/Products` for `durationMs` and prints one JSON line.
 * Bounded, loopback only, stops by itself.
 *
 * Environment: BENCH_DURATION_MS (default 5000), BENCH_CONCURRENCY (default 32),
 * BENCH_MIN_RPS (exit 1 when the rate is lower; default 0 = report only).
 */
import { fork } from 'node:child_process';
import { Agent, request } from 'undici';
import { startEmulator } from '../src/emulator';

const CLIENT = { clientId: 'bench', clientSecret: 'bench-secret' };

async function serve(): Promise<void> {
  const emu = await startEmulator({
    serviceAccounts: [{ ...CLIENT, maxParallelItems: 10 }],
    timing: { queuedMs: 10, processingMs: 20 },
  });
  process.send?.({ url: emu.url, odataUrl: emu.odataUrl });
  process.on('disconnect', () => void emu.close().then(() => process.exit(0)));
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0);
}

async function main(): Promise<void> {
  const durationMs = Number(process.env['BENCH_DURATION_MS'] ?? 5000);
  const concurrency = Number(process.env['BENCH_CONCURRENCY'] ?? 32);
  const minRps = Number(process.env['BENCH_MIN_RPS'] ?? 0);

  const child = fork(__filename, ['--serve'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: process.execArgv,
  });
  const killTimer = setTimeout(() => child.kill('SIGKILL'), durationMs + 60_000);
  killTimer.unref();
  try {
    const { url, odataUrl } = await new Promise<{ url: string; odataUrl: string }>((resolve, reject) => {
      child.once('message', (m) => resolve(m as { url: string; odataUrl: string }));
      child.once('exit', (code) => reject(new Error(`emulator exited early (${String(code)})`)));
    });
    const dispatcher = new Agent({ connections: concurrency, keepAliveTimeout: 30_000 });
    const tokenRes = await request(`${url}/auth/realms/dedl/protocol/openid-connect/token`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: CLIENT.clientId,
        client_secret: CLIENT.clientSecret,
      }).toString(),
    });
    const token = ((await tokenRes.body.json()) as { access_token: string }).access_token;
    const headers = { authorization: `Bearer ${token}` };
    const created = await request(`${odataUrl}BatchOrder/OData.CSC.Order`, {
      method: 'POST',
      dispatcher,
      headers,
      body: JSON.stringify({
        Name: 'bench status',
        WorkflowName: 'dedl_hello_world',
        IdentifierList: Array.from({ length: 10 }, (_, i) => `Custom Hook ${i}`),
        WorkflowOptions: [{ Name: 'output_storage', Value: 'TEMPORARY' }],
      }),
    });
    const orderId = ((await created.body.json()) as { value: { Id: number } }).value.Id; // numeric in the creation answer (recorded)
    for (let deadline = Date.now() + 10_000; ;) {
      const res = await request(`${odataUrl}ProductionOrders(${orderId})`, { dispatcher, headers });
      const status = ((await res.body.json()) as { Status: string }).Status;
      if (status === 'completed') break;
      if (Date.now() > deadline) throw new Error(`order ${orderId} did not complete (${status})`);
      await new Promise((r) => setTimeout(r, 50));
    }

    const paths = [`ProductionOrders(${orderId})`, `BatchOrder(${orderId})/Products`];
    const latencies: number[] = [];
    let errors = 0;
    const started = performance.now();
    const stopAt = started + durationMs;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, worker) => {
        for (let i = worker; performance.now() < stopAt; i++) {
          const t0 = performance.now();
          try {
            const res = await request(`${odataUrl}${paths[i % paths.length] ?? ''}`, { dispatcher, headers });
            await res.body.dump({ limit: Infinity });
            if (res.statusCode !== 200) errors++;
          } catch {
            errors++;
          }
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const requestsPerSec = Math.round(latencies.length / seconds);
    await dispatcher.close();
    const report = {
      bench: 'emulator-status',
      concurrency,
      seconds: Number(seconds.toFixed(2)),
      requests: latencies.length,
      errors,
      requestsPerSec,
      p50Ms: Number(percentile(latencies, 50).toFixed(2)),
      p99Ms: Number(percentile(latencies, 99).toFixed(2)),
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
    if (errors > 0 || requestsPerSec < minRps) process.exitCode = 1;
  } finally {
    child.disconnect();
  }
}

if (process.argv.includes('--serve')) {
  serve().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
