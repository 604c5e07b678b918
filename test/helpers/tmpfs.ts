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
  /** Remounts with other options, e.g. `ro`, `rw`, `size=4m`; what is on it stays. */
  remount(options: string): Promise<void>;
  unmount(): Promise<void>;
}

/** Mounts a tmpfs of `size` (e.g. `1m`) with extra `options` (e.g. `ro`) on a fresh folder. */
export async function mountTmpfs(size: string, options = ''): Promise<Tmpfs> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dedl-tmpfs-'));
  await run('mount', ['-t', 'tmpfs', '-o', [`size=${size}`, options].filter(Boolean).join(','), 'tmpfs', dir]);
  return {
    dir,
    url: pathToFileURL(dir).toString(),
    remount: async (more) => {
      await run('mount', ['-o', `remount,${more}`, dir]);
    },
    async unmount() {
      await run('umount', [dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
