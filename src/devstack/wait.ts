/** Ports for the servers the devstack starts, and waiting for those servers to be ready. */
import { type Socket, connect, createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * A TCP port on `host` for a server we are about to start, held back from everyone else's
 * port-0 picks until that server binds it. A port merely released (listen on 0, close) is handed
 * out again by the OS to the next bind(0) anywhere on the machine — another jest worker's server,
 * the Temporal dev server's own internal ports — and then our server fails with "address already
 * in use". So, as Temporal's own freeport does: connect to the port and close the accepted end
 * first, which leaves it in TIME_WAIT for 60 s; the OS skips it for bind(0) and outgoing
 * connections meanwhile, while a server that binds it explicitly (SO_REUSEADDR: Go, Node and
 * PostgreSQL set it) is not refused.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const port = await reservePort(0, host);
  if (port === undefined) throw new Error('could not allocate a port');
  return port;
}

/**
 * A free port below 32768, for servers that store their port as a 16-bit signed number (Temporal
 * keeps membership ports in a `smallint` column; the OS's own picks are above that on Linux).
 * Held back like `freePort`'s.
 */
export async function freeLowPort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const candidate = 10_000 + Math.floor(Math.random() * 22_000);
    const port = await reservePort(candidate, host);
    if (port !== undefined) return port;
  }
  throw new Error('could not find a free port below 32768');
}

/** Listens on `port` (0: the OS picks), then leaves the port in TIME_WAIT (see `freePort`). */
async function reservePort(port: number, host: string): Promise<number | undefined> {
  const server = createServer();
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, host, () => resolve(true));
  });
  if (!listening) return undefined;
  const address = server.address();
  try {
    if (address === null || typeof address === 'string') return undefined;
    const client = connect(address.port, host);
    const clientClosed = new Promise<void>((resolve) => {
      client.once('close', () => resolve());
      client.once('error', () => undefined);
    });
    // The server's end closes first, so the TIME_WAIT is on the server's side: on `port`.
    (await accepted).destroy();
    await clientClosed;
    return address.port;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
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
