/**
 * Child process of bench/download.ts: downloads one product the way a given method does and
 * prints `{ seconds, bytes, maxRssMb, sha256? }` as JSON. Methods:
 * - `harvester`: the harvester's path — HookClient.openProduct streamed into the local sink with
 *   every integrity check (sha256, size, zip CRCs), fsync and atomic rename;
 * - `tutorial`: the tutorial's approach — the whole body read into memory, then written.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { request } from 'undici';
import { HookClient } from '../src/hook/client';
import { endpointsAt } from '../src/hook/endpoints';
import { createHttpAgent } from '../src/hook/http';
import { staticTokenSource } from '../src/hook/tokens';
import { LocalSink } from '../src/storage/local-sink';

async function main(): Promise<void> {
  const [method, url, dest] = process.argv.slice(2);
  if (!method || !url || !dest) throw new Error('usage: download-one <harvester|tutorial> <url> <dest-file>');
  const started = process.hrtime.bigint();
  let bytes = 0;
  let sha256: string | undefined;
  if (method === 'harvester' || method === 'unverified') {
    const agent = createHttpAgent();
    const hook = new HookClient({
      endpoints: endpointsAt(new URL(url).origin),
      tokens: staticTokenSource('unused'),
      dispatcher: agent,
    });
    const response = await hook.openProduct({ url });
    const sink = await LocalSink.create(path.dirname(dest));
    const delivered = await sink.write(path.basename(dest), response.body, {
      expect: method === 'unverified' ? false : { contentLength: response.totalSize },
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
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const usage = process.resourceUsage();
  const maxRssMb = Math.round(usage.maxRSS / 1024);
  // CPU seconds (user + system) of this process: unlike wall time, barely moved by other load.
  const cpuSeconds = Number(((usage.userCPUTime + usage.systemCPUTime) / 1e6).toFixed(2));
  process.stdout.write(`${JSON.stringify({ seconds, bytes, maxRssMb, cpuSeconds, sha256 })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
