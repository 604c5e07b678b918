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
 * removed when the bytes themselves are wrong (integrity errors) or the transfer was cancelled.
 */
import { constants } from 'node:fs';
import { type FileHandle, mkdir, open, realpath, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isIntegrityError } from './errors';
import { type ProductExpectations, ProductVerifier, type VerificationRecord } from './integrity';
import { safeFileName } from './safe-name';

/** Suffix of files still being written. */
export const PART_SUFFIX = '.part';

/** How many bytes are read at a time when an existing `.part` is replayed into the verifier. */
const REPLAY_CHUNK = 1024 * 1024;

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
  /** Called with the file's total length after each chunk is handed to the file, e.g. to heartbeat. */
  onProgress?: (bytes: number) => void;
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
  async open(name: string, options: { resume?: boolean } = {}): Promise<PartFile> {
    const { fileName, finalPath, partPath } = this.paths(name);
    const flags =
      constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW | (options.resume ? 0 : constants.O_TRUNC);
    const handle = await open(partPath, flags, 0o644);
    try {
      const { size } = await handle.stat();
      return new PartFile(this.dir, fileName, finalPath, partPath, handle, size);
    } catch (err) {
      await handle.close();
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

  /** @internal created by {@link LocalSink.open} */
  constructor(
    readonly dir: string,
    readonly fileName: string,
    readonly finalPath: string,
    readonly partPath: string,
    handle: FileHandle,
    offset: number,
  ) {
    this.#handle = handle;
    this.#offset = offset;
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
   * according to `keepPartialOnFailure`, and the error is rethrown.
   */
  async fill(body: AsyncIterable<Uint8Array>, options: FillOptions = {}): Promise<LocalDelivery> {
    const handle = this.#open();
    const resumedFrom = this.#offset;
    const verifier = options.expect === false ? undefined : new ProductVerifier(options.expect ?? {});
    try {
      options.signal?.throwIfAborted();
      if (verifier && resumedFrom > 0) await this.#replay(handle, verifier, options.signal);

      let written = resumedFrom;
      const file = fileWriter(handle, resumedFrom, (position) => {
        written = position;
        options.onProgress?.(position);
      });
      if (verifier) await pipeline(body, verifier.transform(), file, { signal: options.signal });
      else await pipeline(body, file, { signal: options.signal });
      this.#offset = written;

      await handle.sync();
      await handle.close();
      this.#handle = undefined;
      await rename(this.partPath, this.finalPath);
      await fsyncDirectory(this.dir);
      return {
        path: this.finalPath,
        fileName: this.fileName,
        size: written,
        resumedFrom,
        verification: verifier?.result ?? null,
      };
    } catch (err) {
      verifier?.dispose();
      const keep =
        !isIntegrityError(err) &&
        !options.signal?.aborted &&
        (typeof options.keepPartialOnFailure === 'function'
          ? options.keepPartialOnFailure(err)
          : (options.keepPartialOnFailure ?? false));
      if (keep) await this.close();
      else await this.discard();
      throw err;
    }
  }

  /** Closes the file and removes the `.part`. */
  async discard(): Promise<void> {
    await this.close();
    await removeIfExists(this.partPath);
  }

  /** Closes the file and keeps the `.part` for a later resume (fsynced, so its length is trustworthy). */
  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    if (!handle) return;
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
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
 * A Writable that writes at explicit positions of an open file and never closes it (the sink
 * fsyncs and closes it itself). `onWritten` gets the new end position after each write lands.
 * Chunks that arrive while a write is in flight are written together with one `writev`: network
 * bodies come in small chunks, and one system call per chunk would cap throughput well below the
 * network's.
 */
function fileWriter(handle: FileHandle, start: number, onWritten: (position: number) => void): Writable {
  let position = start;
  const land = (chunks: Buffer[], callback: (err?: Error | null) => void) => {
    const size = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    writeAllV(handle, chunks, position).then(() => {
      position += size;
      onWritten(position);
      callback();
    }, callback);
  };
  return new Writable({
    highWaterMark: 4 * 1024 * 1024,
    write: (chunk: Buffer, _encoding, callback) => land([chunk], callback),
    writev: (entries, callback) =>
      land(
        entries.map((entry) => entry.chunk as Buffer),
        callback,
      ),
  });
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

async function removeIfExists(file: string): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
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
