/**
 * The local file sink: a product is written to `<dir>/<safe name>.part`, verified while it
 * streams, fsynced, and only then renamed atomically to its final name (and the directory
 * fsynced, so the rename survives a power cut). A reader of the directory therefore never sees a
 * final name whose content is incomplete or unverified.
 *
 * Resume: {@link LocalSink.open} with `resume: true` reopens an existing `.part` at its current
 * length; the caller asks the server for `Range: bytes=<offset>-` and hands the rest of the body
 * to {@link PartFile.fill}, which re-reads the bytes already on disk into the verifier first (the
 * sha256 and zip checks must cover the whole file). When the server ignores the range, the caller
 * calls {@link PartFile.truncate} and sends the whole body.
 *
 * Failure: the `.part` is removed unless the caller asks to keep it for a resume, and it is always
 * removed when the bytes themselves are wrong (integrity errors) or the transfer was cancelled. A
 * kept `.part` holds every byte the body delivered before it failed.
 *
 * One writer: {@link LocalSink.open} locks the `.part` (see part-lock.ts) until the file is
 * delivered, closed or discarded; a second attempt meanwhile fails with `PartFileBusyError`.
 */
import { constants } from 'node:fs';
import { type FileHandle, mkdir, open, realpath, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { isIntegrityError } from './errors';
import { type ProductExpectations, ProductVerifier, type VerificationRecord } from './integrity';
import { type PartLock, lockPartFile } from './part-lock';
import { safeFileName } from './safe-name';

/** Suffix of files still being written. */
export const PART_SUFFIX = '.part';

/** How many bytes are read at a time when an existing `.part` is replayed into the verifier. */
const REPLAY_CHUNK = 1024 * 1024;

/** Bytes gathered before one write to the file (see {@link BlockWriter}). */
const BLOCK_BYTES = 1024 * 1024;

/** After this many more bytes have landed, a background datasync starts (see {@link BlockWriter}). */
const SYNC_BEHIND_BYTES = 64 * 1024 * 1024;

export interface FillOptions {
  /** What to check while writing; `false` writes without verification (no record is returned). */
  expect?: ProductExpectations | false;
  /** Aborting it stops the transfer and removes the `.part`. */
  signal?: AbortSignal;
  /**
   * Keep the `.part` when the transfer fails for a reason other than bad bytes or cancellation,
   * so a retry can resume it (default false: nothing is left behind). A function decides per error.
   */
  keepPartialOnFailure?: boolean | ((err: unknown) => boolean);
  /** Called with the file's length each time more of the body is in it (every few MiB), e.g. to heartbeat. */
  onProgress?: (bytes: number) => void;
  /**
   * The body's chunks belong to this call alone (a network body nobody else reads): each one's
   * memory is freed as soon as it is hashed and in the file (see {@link releaseChunks}). Default
   * false: a caller's own buffers are left as they are.
   */
  releaseChunks?: boolean;
}

/** A product delivered to the local sink. */
export interface LocalDelivery {
  /** Absolute path of the final file. */
  path: string;
  fileName: string;
  size: number;
  /** Bytes that were already on disk from an earlier attempt. */
  resumedFrom: number;
  /** Null when written with `expect: false`. */
  verification: VerificationRecord | null;
}

export class LocalSink {
  /** The sink directory, resolved (symlinks included) once so containment checks compare real paths. */
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Creates the directory if needed. */
  static async create(dir: string): Promise<LocalSink> {
    await mkdir(dir, { recursive: true });
    return new LocalSink(await realpath(dir));
  }

  /** The safe file name, final path and `.part` path a product name maps to. */
  paths(name: string): { fileName: string; finalPath: string; partPath: string } {
    const fileName = safeFileName(name);
    const finalPath = path.join(this.dir, fileName);
    // Defence in depth: safeFileName cannot produce a separator, but a path that leaves the
    // directory must never be opened whatever changes later.
    if (path.dirname(finalPath) !== this.dir || path.basename(finalPath) !== fileName) {
      throw new Error(`refusing a file name that leaves the sink directory: ${JSON.stringify(fileName)}`);
    }
    return { fileName, finalPath, partPath: `${finalPath}${PART_SUFFIX}` };
  }

  /**
   * Opens `<name>.part` for writing. With `resume`, an existing `.part` is kept and
   * {@link PartFile.offset} says how many bytes it holds; otherwise it is truncated.
   * Symbolic links are never followed.
   */
  async open(name: string, options: { resume?: boolean; owner?: string } = {}): Promise<PartFile> {
    const { fileName, finalPath, partPath } = this.paths(name);
    // Locked before it is opened: a truncating open must not cut another attempt's file.
    const lock = await lockPartFile(partPath, options.owner ?? defaultOwner());
    try {
      const flags =
        constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW | (options.resume ? 0 : constants.O_TRUNC);
      const handle = await open(partPath, flags, 0o644);
      try {
        const { size } = await handle.stat();
        return new PartFile(this.dir, fileName, finalPath, partPath, handle, size, lock);
      } catch (err) {
        await handle.close();
        throw err;
      }
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /** Writes a whole product from its first byte (no resume). */
  async write(name: string, body: AsyncIterable<Uint8Array>, options: FillOptions = {}): Promise<LocalDelivery> {
    const part = await this.open(name);
    return part.fill(body, options);
  }

  /** Removes `<name>.part` if it exists (cancellation from another attempt); true if one was removed. */
  async removePartial(name: string): Promise<boolean> {
    return removeIfExists(this.paths(name).partPath);
  }

  /** Removes a delivered product (e.g. one later found wrong); true if one was removed. */
  async remove(name: string): Promise<boolean> {
    return removeIfExists(this.paths(name).finalPath);
  }
}

/** An open `.part` file. Use it once: {@link fill}, or {@link discard}/{@link close}. */
export class PartFile {
  #handle: FileHandle | undefined;
  #offset: number;
  #lock: PartLock | undefined;

  /** @internal created by {@link LocalSink.open} */
  constructor(
    readonly dir: string,
    readonly fileName: string,
    readonly finalPath: string,
    readonly partPath: string,
    handle: FileHandle,
    offset: number,
    lock: PartLock,
  ) {
    this.#handle = handle;
    this.#offset = offset;
    this.#lock = lock;
  }

  /** Bytes already in the file: where a resumed body must start (`Range: bytes=<offset>-`). */
  get offset(): number {
    return this.#offset;
  }

  /** Empties the file, to restart from the first byte (the server ignored the range). */
  async truncate(): Promise<void> {
    await this.#open().truncate(0);
    this.#offset = 0;
  }

  /**
   * Appends `body` (which must start at {@link offset}), verifies the whole file while writing,
   * fsyncs it and renames it to its final name. On failure the `.part` is removed or kept
   * according to `keepPartialOnFailure`, and the error is rethrown. A kept `.part` holds every
   * byte the body delivered before it failed (each one already passed the verifier), and
   * `onProgress` has been told its final length, so the next attempt resumes exactly there.
   */
  async fill(body: AsyncIterable<Uint8Array>, options: FillOptions = {}): Promise<LocalDelivery> {
    const handle = this.#open();
    const { signal } = options;
    const resumedFrom = this.#offset;
    const verifier = options.expect === false ? undefined : new ProductVerifier(options.expect ?? {});
    const writer = new BlockWriter(
      handle,
      resumedFrom,
      (position) => {
        this.#offset = position;
        options.onProgress?.(position);
      },
      { releaseChunks: options.releaseChunks },
    );
    // A body that is a stream is destroyed on abort, so a stalled read does not outlive the signal.
    const stopBody = () => (body as Partial<Readable>).destroy?.(signal?.reason as Error);
    signal?.addEventListener('abort', stopBody, { once: true });
    try {
      signal?.throwIfAborted();
      if (verifier && resumedFrom > 0) await this.#replay(handle, verifier, signal);
      // A plain loop rather than stream.pipeline: on a failed body, the chunks already received
      // are still here to be written (pipeline would destroy the buffered ones with the streams).
      for await (const chunk of body) {
        signal?.throwIfAborted();
        if (verifier) await verifier.write(chunk);
        await writer.append(chunk);
      }
      signal?.throwIfAborted();
      await writer.flush();
      const verification = verifier ? await verifier.finish() : null;

      await this.commit();
      return {
        path: this.finalPath,
        fileName: this.fileName,
        size: this.#offset,
        resumedFrom,
        verification,
      };
    } catch (err) {
      verifier?.dispose();
      const keep =
        !isIntegrityError(err) &&
        !signal?.aborted &&
        (typeof options.keepPartialOnFailure === 'function'
          ? options.keepPartialOnFailure(err)
          : (options.keepPartialOnFailure ?? false));
      if (keep) {
        // What was received passed the verifier: write it all, so a resume asks only for the rest.
        await writer.flush().catch(() => writer.settle());
        await this.close();
      } else {
        await writer.settle();
        await this.discard();
      }
      throw err;
    } finally {
      signal?.removeEventListener('abort', stopBody);
    }
  }

  /**
   * Makes the `.part` the delivered product: fsync, close, rename to the final name, fsync the
   * directory, release the lock. Only for bytes already verified (see {@link fill}, ranged-part.ts).
   */
  async commit(): Promise<void> {
    const handle = this.#open();
    await handle.sync();
    await handle.close();
    this.#handle = undefined;
    await rename(this.partPath, this.finalPath);
    await fsyncDirectory(this.dir);
    await this.#releaseLock();
  }

  /** The open file, for writers that place bytes at their own offsets (ranged-part.ts). */
  get fileHandle(): FileHandle {
    return this.#open();
  }

  /** Closes the file and removes the `.part`, then lets another attempt have it. */
  async discard(): Promise<void> {
    try {
      await this.#closeFile();
      await removeIfExists(this.partPath);
    } finally {
      await this.#releaseLock();
    }
  }

  /** Closes the file and keeps the `.part` for a later resume (fsynced, so its length is trustworthy). */
  async close(): Promise<void> {
    try {
      await this.#closeFile();
    } finally {
      await this.#releaseLock();
    }
  }

  async #closeFile(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    if (!handle) return;
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async #releaseLock(): Promise<void> {
    const lock = this.#lock;
    this.#lock = undefined;
    await lock?.release();
  }

  #open(): FileHandle {
    if (!this.#handle) throw new Error(`${this.partPath} is already closed`);
    return this.#handle;
  }

  /** Feeds the bytes already on disk to the verifier, so its digest and zip walk cover the whole file. */
  async #replay(handle: FileHandle, verifier: ProductVerifier, signal: AbortSignal | undefined): Promise<void> {
    const buffer = Buffer.allocUnsafe(REPLAY_CHUNK);
    for (let position = 0; position < this.#offset;) {
      signal?.throwIfAborted();
      const { bytesRead } = await handle.read(buffer, 0, Math.min(REPLAY_CHUNK, this.#offset - position), position);
      if (bytesRead === 0) throw new Error(`${this.partPath} shrank while it was being resumed`);
      await verifier.write(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
  }
}

/**
 * Gathers chunks into blocks of {@link BLOCK_BYTES} and writes each block with one positional
 * `writev` (the chunks themselves, not a copy): network bodies arrive in 64 KiB chunks, and a
 * thread-pool write per chunk costs more than the copy into the page cache itself. Blocks stay
 * small (1 MiB measured cheaper in CPU than 8 MiB: the kernel copies data still in the CPU cache).
 * One block is being written while the next one gathers, so the disk and the network overlap.
 * `onLanded` gets the new end of the file after each block lands.
 *
 * With `releaseChunks` every chunk is freed once its block has landed (see {@link releaseChunks}).
 *
 * Write-behind: every {@link SYNC_BEHIND_BYTES} a datasync runs in the background, so the disk
 * writes back while the body is still arriving instead of all at the final fsync (which took
 * about 0.9 s for 2 GiB, half of what curl needs for the whole transfer). Its outcome is
 * collected by {@link flush}.
 */
export class BlockWriter {
  readonly #handle: FileHandle;
  readonly #onLanded: (position: number) => void;
  readonly #blockBytes: number;
  /** Where the next dispatched block starts. */
  #position: number;
  #gathered: Buffer[] = [];
  #gatheredBytes = 0;
  #writing: Promise<void> | undefined;
  #syncing: Promise<void> | undefined;
  #syncedUpTo: number;
  readonly #releaseChunks: boolean;

  constructor(
    handle: FileHandle,
    start: number,
    onLanded: (position: number) => void,
    options: { blockBytes?: number; releaseChunks?: boolean } = {},
  ) {
    this.#handle = handle;
    this.#position = start;
    this.#syncedUpTo = start;
    this.#onLanded = onLanded;
    this.#blockBytes = options.blockBytes ?? BLOCK_BYTES;
    this.#releaseChunks = options.releaseChunks ?? false;
  }

  /** Adds a chunk (it must not be modified afterwards); resolves when there is room for more. */
  async append(chunk: Uint8Array): Promise<void> {
    if (chunk.byteLength === 0) return;
    this.#gathered.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.#gatheredBytes += chunk.byteLength;
    if (this.#gatheredBytes >= this.#blockBytes) await this.#dispatch();
  }

  /** Writes everything appended so far; resolves once all of it is in the file. */
  async flush(): Promise<void> {
    if (this.#gatheredBytes > 0) await this.#dispatch();
    await this.#writing;
    this.#writing = undefined;
    await this.#syncing;
    this.#syncing = undefined;
  }

  /** Waits for the write in flight, if any, ignoring its outcome (the file is about to be discarded). */
  async settle(): Promise<void> {
    await this.#writing?.catch(() => undefined);
    await this.#syncing?.catch(() => undefined);
    this.#writing = undefined;
    this.#syncing = undefined;
    this.#gathered = [];
    this.#gatheredBytes = 0;
  }

  async #dispatch(): Promise<void> {
    await this.#writing; // one block in flight at a time: positions land in order
    const chunks = this.#gathered;
    const at = this.#position;
    const end = at + this.#gatheredBytes;
    this.#gathered = [];
    this.#gatheredBytes = 0;
    this.#position = end;
    this.#writing = writeAllV(this.#handle, chunks, at).then(() => {
      if (this.#releaseChunks) releaseChunks(chunks);
      this.#onLanded(end);
      this.#syncBehind(end);
    });
    // Observed by the next dispatch, flush or settle; this only stops an early "unhandled" report.
    this.#writing.catch(() => undefined);
  }

  #syncBehind(landed: number): void {
    if (this.#syncing || landed - this.#syncedUpTo < SYNC_BEHIND_BYTES) return;
    this.#syncedUpTo = landed;
    // Cleared when it succeeds; a failed one stays, so flush() rethrows its error.
    const syncing: Promise<void> = this.#handle.datasync().then(() => {
      if (this.#syncing === syncing) this.#syncing = undefined;
    });
    this.#syncing = syncing;
    syncing.catch(() => undefined);
  }
}

/** writev may write less than asked; continue with what is left until every byte is in the file. */
async function writeAllV(handle: FileHandle, chunks: Buffer[], position: number): Promise<void> {
  let pending = chunks;
  let at = position;
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending, at);
    at += bytesWritten;
    let skip = bytesWritten;
    const rest: Buffer[] = [];
    for (const chunk of pending) {
      if (skip >= chunk.length) skip -= chunk.length;
      else {
        rest.push(skip > 0 ? chunk.subarray(skip) : chunk);
        skip = 0;
      }
    }
    pending = rest;
  }
}

/**
 * Frees the memory of chunks that are done with, now rather than at V8's next full collection:
 * each chunk that is a whole ArrayBuffer (as a socket read delivers it) is detached, which
 * releases its bytes at once. Why: V8 frees a network chunk only when a collection finds it dead,
 * and the external memory piling up meanwhile starts a full mark-compact about every 40 MiB — on
 * loopback that was half of the CPU spent receiving (bench/download-ranged.ts, row 9). Only for
 * chunks nobody else holds: a detached buffer reads as empty everywhere. Views into a larger buffer
 * (a pool slice, one socket read holding headers and body) are left to the collector.
 */
export function releaseChunks(chunks: readonly Uint8Array[]): void {
  for (const chunk of chunks) {
    const buffer = chunk.buffer;
    if (!(buffer instanceof ArrayBuffer) || chunk.byteOffset !== 0 || chunk.byteLength !== buffer.byteLength) continue;
    try {
      buffer.transfer(0);
    } catch {
      // Not detachable (e.g. WebAssembly memory): the collector frees it as usual.
    }
  }
}

async function removeIfExists(file: string): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** How a lock holder describes itself to a refused attempt when the caller names no owner. */
function defaultOwner(): string {
  return `process ${process.pid}, since ${new Date().toISOString()}`;
}

/** Makes a rename in `dir` durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
