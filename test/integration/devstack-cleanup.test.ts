/**
 * The harness promise: a server started by the stack does not outlive whoever started it, even
 * when that process is killed outright, and its scratch folder goes with it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startS3Server } from '../../src/devstack/s3-server';
import { PROJECT_ROOT, VERSITYGW, ensureTool } from '../../src/devstack/tools';
import { waitUntilReady } from '../../src/devstack/wait';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('leashed servers', () => {
  it('stop() ends the server and removes its scratch folder', async () => {
    const server = await startS3Server({ binary: await ensureTool(VERSITYGW, { log: () => undefined }) });
    const scratch = path.dirname(server.dataDir);
    expect(existsSync(scratch)).toBe(true);
    await server.stop();
    expect(existsSync(scratch)).toBe(false);
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

    parent.kill('SIGKILL');

    await waitUntilReady('leash shutdown', async () => !isRunning(leashPid) && !existsSync(scratch), {
      timeoutMs: 15_000,
    });
    expect(isRunning(leashPid)).toBe(false);
    expect(existsSync(scratch)).toBe(false);
  });
});
