/**
 * Child process of bench/download.ts: downloads one product the way a given method does and
 * prints `{ seconds, bytes, maxRssMb, sha256? }` as JSON. Methods:
 * - `harvester`: the harvester's path — HookClient.openProduct streamed into the local sink with
 *   every integrity check (sha256, size, zip CRCs), fsync and atomic rename;
 * - `unverified`: the same without any integrity check (no record);
 * - `receive-only`: HookClient.openProduct with every byte read and dropped (each chunk's memory
 *   freed at once, as the worker path frees it once written) — no file, no checks: what Node's HTTP
 *   stack alone costs, the floor under every method that goes through it;
 * - `tutorial`: the tutorial's approach — the whole body read into memory, then written;
 * - `ranged:<n>`: the worker's parallel ranged delivery (src/activities/ranged-delivery.ts), up to
 *   n connections, every check, fsync and rename (bench/download-ranged.ts).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { request } from 'undici';
import { HookClient } from '../src/hook/client';
import { endpointsAt } from '../src/hook/endpoints';
import { createHttpAgent } from '../src/hook/http';
import { staticTokenSource } from '../src/hook/tokens';
import { LocalSink, releaseChunks } from '../src/storage/local-sink';
import { ConnectionBudget } from '../src/activities/connection-budget';
import { deliverRanged, localRanges } from '../src/activities/ranged-delivery';

async function main(): Promise<void> {
  const [method, url, dest] = process.argv.slice(2);
  if (!method || !url || !dest)
    throw new Error('usage: download-one <harvester|unverified|receive-only|tutorial> <url> <dest-file>');
  const started = { at: process.hrtime.bigint(), cpu: process.cpuUsage() };
  let bytes = 0;
  let sha256: string | undefined;
  if (method.startsWith('ranged:')) {
    const connections = Number(method.slice('ranged:'.length));
    const agent = createHttpAgent();
    const hook = new HookClient({
      endpoints: endpointsAt(new URL(url).origin),
      tokens: staticTokenSource('unused'),
      dispatcher: agent,
    });
    const sink = await LocalSink.create(path.dirname(dest));
    const part = await sink.open(path.basename(dest));
    const outcome = await deliverRanged({
      hook,
      url,
      target: localRanges(part),
      // A worker knows the product's size from the Hook item's ProcessedSize.
      processedSize: Number(process.env.BENCH_PRODUCT_SIZE) || undefined,
      maxConnections: connections,
      budget: new ConnectionBudget(connections),
      signal: new AbortController().signal,
      onCheckpoint: () => undefined,
    });
    if (!('verification' in outcome)) throw new Error('the server did not honour ranges');
    bytes = outcome.size;
    sha256 = outcome.verification.sha256;
    await agent.close();
  } else if (method === 'harvester' || method === 'unverified' || method === 'receive-only') {
    const agent = createHttpAgent();
    const hook = new HookClient({
      endpoints: endpointsAt(new URL(url).origin),
      tokens: staticTokenSource('unused'),
      dispatcher: agent,
    });
    const response = await hook.openProduct({ url });
    if (method === 'receive-only') {
      for await (const chunk of response.body) {
        bytes += (chunk as Uint8Array).byteLength;
        releaseChunks([chunk as Uint8Array]); // as the worker path frees each chunk once written
      }
      await agent.close();
      return report(started, bytes, undefined);
    }
    const sink = await LocalSink.create(path.dirname(dest));
    const delivered = await sink.write(path.basename(dest), response.body, {
      expect: method === 'unverified' ? false : { contentLength: response.totalSize },
      releaseChunks: true, // as the worker's delivery does (delivery-activities.ts)
    });
    bytes = delivered.size;
    sha256 = delivered.verification?.sha256;
    await agent.close();
  } else if (method === 'tutorial') {
    const response = await request(url);
    const body = Buffer.from(await response.body.arrayBuffer());
    await writeFile(dest, body);
    bytes = body.length;
  } else {
    throw new Error(`unknown method ${method}`);
  }
  report(started, bytes, sha256);
}

function report(started: { at: bigint; cpu: NodeJS.CpuUsage }, bytes: number, sha256: string | undefined): void {
  const seconds = Number(process.hrtime.bigint() - started.at) / 1e9;
  const usage = process.resourceUsage();
  const maxRssMb = Math.round(usage.maxRSS / 1024);
  // CPU seconds (user + system, every thread) of this process during the transfer — module loading
  // excluded: unlike wall time, barely moved by other load.
  const cpu = process.cpuUsage(started.cpu);
  const cpuSeconds = Number(((cpu.user + cpu.system) / 1e6).toFixed(2));
  process.stdout.write(`${JSON.stringify({ seconds, bytes, maxRssMb, cpuSeconds, sha256 })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
