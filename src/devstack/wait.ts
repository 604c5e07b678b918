import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** A TCP port that was free a moment ago on `host` (the OS picks it). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const port = await tryListen(0, host);
  if (port === undefined) throw new Error('could not allocate a port');
  return port;
}

/**
 * A free port below 32768, for servers that store their port as a 16-bit signed number (Temporal
 * keeps membership ports in a `smallint` column; the OS's own picks are above that on Linux).
 */
export async function freeLowPort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const candidate = 10_000 + Math.floor(Math.random() * 22_000);
    const port = await tryListen(candidate, host);
    if (port !== undefined) return port;
  }
  throw new Error('could not find a free port below 32768');
}

async function tryListen(port: number, host: string): Promise<number | undefined> {
  const server = createServer();
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, host, () => resolve(true));
  });
  if (!listening) return undefined;
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address !== null && typeof address !== 'string' ? address.port : undefined;
}

/**
 * Calls `probe` until it resolves true, the deadline passes, or `abort` settles first (a server
 * that exited during start-up). Readiness polling, not a sleep: it returns as soon as the probe does.
 */
export async function waitUntilReady(
  what: string,
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; abort?: Promise<unknown>; describeFailure?: () => Promise<string> },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let aborted = false;
  void options.abort?.then(() => (aborted = true));
  let interval = 50;
  while (!aborted && Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await delay(interval);
    interval = Math.min(interval * 1.5, 500);
  }
  const detail = options.describeFailure ? `\n${await options.describeFailure()}` : '';
  throw new Error(
    aborted
      ? `${what} exited during start-up.${detail}`
      : `${what} was not ready within ${options.timeoutMs} ms.${detail}`,
  );
}
