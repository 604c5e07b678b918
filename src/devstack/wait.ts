import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** A TCP port that was free a moment ago on `host` (the OS picks it). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not allocate a port');
  return address.port;
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
