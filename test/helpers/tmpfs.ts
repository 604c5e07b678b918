/**
 * A small filesystem of its own for sink tests: a size-limited tmpfs (root only), so "disk full"
 * and "read-only" are the kernel's real ENOSPC and EROFS at the sink's write boundary, not fakes.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Tmpfs {
  dir: string;
  url: string;
  /** Remounts with other options, e.g. `size=4m`; what is on it stays. */
  remount(options: string): Promise<void>;
  /**
   * Turns the folder read-only while a writer may hold a file open on it: `remount,ro` would fail
   * with EBUSY then, so a read-only bind mount goes on top. Opens through the path get EROFS from
   * now on; a handle opened before keeps writing, as on a real remount.
   */
  makeReadOnly(): Promise<void>;
  unmount(): Promise<void>;
}

/** Mounts a tmpfs of `size` (e.g. `1m`) with extra `options` (e.g. `ro`) on a fresh folder. */
export async function mountTmpfs(size: string, options = ''): Promise<Tmpfs> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dedl-tmpfs-'));
  await run('mount', ['-t', 'tmpfs', '-o', [`size=${size}`, options].filter(Boolean).join(','), 'tmpfs', dir]);
  let layers = 1;
  return {
    dir,
    url: pathToFileURL(dir).toString(),
    remount: async (more) => {
      await run('mount', ['-o', `remount,${more}`, dir]);
    },
    async makeReadOnly() {
      await run('mount', ['--bind', dir, dir]);
      layers++;
      await run('mount', ['-o', 'remount,bind,ro', dir]);
    },
    async unmount() {
      for (; layers > 0; layers--) await run('umount', [dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
