/**
 * Memory of another process, from /proc/<pid>/status (Linux): VmRSS is the resident set now,
 * VmHWM its peak since the process started.
 */
import { readFile } from 'node:fs/promises';

export interface ProcMemory {
  rssMiB: number;
  hwmMiB: number;
}

export async function procMemory(pid: number): Promise<ProcMemory> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
    return Number(match[1]) / 1024;
  };
  return { rssMiB: kib('VmRSS'), hwmMiB: kib('VmHWM') };
}
