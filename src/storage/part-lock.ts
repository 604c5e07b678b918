/**
 * One writer per `.part` file among all processes of one machine. Two attempts of the same
 * download can overlap (an attempt that timed out is still unwinding, or a second worker picked
 * up the retry) and must not interleave their bytes in one file.
 *
 * The lock is a listening Unix socket in Linux's abstract namespace, named from the `.part` path.
 * Binding it is atomic (the second bind fails with EADDRINUSE), and the kernel releases it when
 * the holder closes it or its process dies in any way, SIGKILL included, so there is no stale
 * lock to detect and no takeover race (which pid files and O_EXCL lock files cannot avoid: their
 * staleness check and their removal are two steps). A refused attempt connects to the holder,
 * which answers with its description (pid, since when), and fails with {@link PartFileBusyError}
 * — a retryable error: Temporal retries the attempt later.
 *
 * Limits: abstract sockets are per network namespace, so containers that share a sink directory
 * but not a network namespace do not see each other's locks; other platforms than Linux have no
 * abstract namespace and get no lock (documented in README.md).
 */
import { createHash } from 'node:crypto';
import { type Server, connect, createServer } from 'node:net';

/** Another attempt is writing the same `.part` right now. */
export class PartFileBusyError extends Error {
  override readonly name = 'PartFileBusyError';
}

export interface PartLock {
  release(): Promise<void>;
}

/** How long a refused attempt waits for the holder to describe itself. */
const DESCRIBE_TIMEOUT_MS = 1000;

const noLock: PartLock = { release: async () => undefined };

/**
 * Takes the lock of `partPath` (an absolute, real path) or throws {@link PartFileBusyError}.
 * `owner` describes this attempt to a refused one; it must hold no secret.
 */
export async function lockPartFile(partPath: string, owner: string): Promise<PartLock> {
  if (process.platform !== 'linux') return noLock;
  const address = lockAddress(partPath);
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end(owner);
  });
  try {
    await listen(server, address);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    const holder = await describeHolder(address);
    throw new PartFileBusyError(
      `${partPath} is being written by another attempt (${holder}); this attempt leaves it alone and can be retried`,
    );
  }
  // A lock must never keep the process alive on its own.
  server.unref();
  let released: Promise<void> | undefined;
  return {
    release: () => (released ??= new Promise<void>((resolve) => server.close(() => resolve()))),
  };
}

/** The abstract socket name of a `.part` path (a hash: names are limited to 107 bytes). */
export function lockAddress(partPath: string): string {
  return `\0dedl-harvester/part-lock/${createHash('sha256').update(partPath).digest('hex')}`;
}

function listen(server: Server, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** What the holder says about itself, or a placeholder when it does not answer in time. */
function describeHolder(address: string): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const socket = connect(address);
    const done = (result: string) => {
      socket.destroy();
      resolve(result || 'holder did not describe itself');
    };
    socket.setTimeout(DESCRIBE_TIMEOUT_MS, () => done(text));
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => (text += data).length > 500 && done(text.slice(0, 500)));
    socket.on('end', () => done(text));
    socket.on('error', () => done(text));
  });
}
