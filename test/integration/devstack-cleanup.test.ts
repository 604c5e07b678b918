/**
 * The harness promise: a server started by the stack does not outlive whoever started it, even
 * when that process is killed outright, and its scratch folder goes with it.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startS3Server } from '../../src/devstack/s3-server';
import { PROJECT_ROOT, VERSITYGW, ensureTool } from '../../src/devstack/tools';
import { waitUntilReady } from '../../src/devstack/wait';

/** Alive: the process exists and is not a zombie waiting to be reaped (Linux /proc). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The pids of `pid`'s children (Linux /proc), [] when it has none or is gone. */
function childrenOf(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return text ? text.split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}

describe('leashed servers', () => {
  it('stop() ends the server and removes its scratch folder', async () => {
    const server = await startS3Server({ binary: await ensureTool(VERSITYGW, { log: () => undefined }) });
    const scratch = path.dirname(server.dataDir);
    expect(existsSync(scratch)).toBe(true);
    expect(isRunning(server.pid)).toBe(true);
    await server.stop();
    expect(existsSync(scratch)).toBe(false);
    expect(isRunning(server.pid)).toBe(false);
  });

  it('dies with its parent when the parent is SIGKILLed', async () => {
    const scratch = await mkdtemp(path.join(tmpdir(), 'dedl-leash-test-'));
    await writeFile(path.join(scratch, 'marker'), 'x');
    // The parent starts `sleep 600` on a leash, prints the leash's pid, then waits forever.
    const parent = spawn(
      process.execPath,
      [
        '-e',
        `const { spawn } = require('node:child_process');
         const leash = spawn(process.execPath, [${JSON.stringify(path.join(PROJECT_ROOT, 'scripts/leash.cjs'))}, ${JSON.stringify(scratch)}, '--', 'sleep', '600'], { stdio: ['pipe', 'inherit', 'inherit'] });
         console.log(leash.pid);
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const leashPid = await new Promise<number>((resolve) =>
      parent.stdout.once('data', (d) => resolve(Number(String(d).trim()))),
    );
    expect(isRunning(leashPid)).toBe(true);
    // The leashed process itself: the leash's one child, `sleep 600`.
    let leashed: number[] = [];
    await waitUntilReady('leashed process started', async () => (leashed = childrenOf(leashPid)).length === 1, {
      timeoutMs: 15_000,
    });
    const sleepPid = leashed[0]!;
    expect(readFileSync(`/proc/${sleepPid}/cmdline`, 'utf8').split('\0')[0]).toBe('sleep');

    parent.kill('SIGKILL');

    await waitUntilReady(
      'leash shutdown',
      async () => !isRunning(leashPid) && !isRunning(sleepPid) && !existsSync(scratch),
      { timeoutMs: 15_000 },
    );
    expect(isRunning(leashPid)).toBe(false);
    expect(isRunning(sleepPid)).toBe(false);
    expect(existsSync(scratch)).toBe(false);
  });
});
