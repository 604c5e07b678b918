/**
 * The ledger in a local directory (one machine, any number of writers). Each record is its own
 * file, written to a temporary name, fsynced, then hard-linked into place: `link` fails instead
 * of overwriting, so a record file is either absent or complete, and two writers never touch the
 * same file's content. Readers ignore temporary files and anything that does not parse. A writer
 * killed mid-record leaves its temporary file; the next record in that folder removes it once it is
 * old enough that no live writer can still own it.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readFile, readdir, realpath, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { FolderLedger } from './ledger';
import { fsyncDirectory } from './local-sink';

/** A temporary file this old belongs to a writer that died (a record takes milliseconds). */
export const STALE_TEMP_MS = 10 * 60_000;
const TEMP_PREFIX = '.tmp-';

export class FileLedger extends FolderLedger {
  readonly dir: string;

  private constructor(dir: string) {
    super();
    this.dir = dir;
  }

  static async open(dir: string): Promise<FileLedger> {
    await mkdir(dir, { recursive: true });
    return new FileLedger(await realpath(dir));
  }

  protected async names(folder: string): Promise<string[]> {
    try {
      return await readdir(path.join(this.dir, folder));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  protected read(folder: string, name: string): Promise<string> {
    return readFile(path.join(this.dir, folder, name), 'utf8');
  }

  /** Writes an immutable file of the product folder (content-derived name: a second write is a no-op). */
  protected async put(folder: string, fileName: string, content: unknown): Promise<void> {
    const folderPath = path.join(this.dir, folder);
    await mkdir(folderPath, { recursive: true });
    const finalPath = path.join(folderPath, fileName);
    // A leading dot keeps half-written files out of readers' sight.
    const tempPath = path.join(folderPath, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    const handle = await open(tempPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    try {
      await handle.writeFile(`${JSON.stringify(content)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(tempPath, finalPath);
    } catch (err) {
      // The same record (same content, same name) was stored already: recording is idempotent.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      await unlink(tempPath);
    }
    await removeStaleTemps(folderPath);
    await fsyncDirectory(folderPath);
  }
}

/** Removes the temporary files of writers that died in this folder (a record folder holds a few files). */
async function removeStaleTemps(folderPath: string, now = Date.now()): Promise<void> {
  for (const name of await readdir(folderPath)) {
    if (!name.startsWith(TEMP_PREFIX)) continue;
    const file = path.join(folderPath, name);
    const info = await stat(file).catch(() => undefined);
    if (info && now - info.mtimeMs > STALE_TEMP_MS) await unlink(file).catch(() => undefined);
  }
}
