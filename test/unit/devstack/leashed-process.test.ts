/**
 * A leashed server that dies during start-up still tells why: its log outlives the scratch
 * folder the leash removes as soon as the server exits, until `stop`.
 */
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startLeashed } from '../../../src/devstack/leashed-process';

describe('startLeashed', () => {
  it('keeps the log of a server that exited readable until stop, after its scratch folder is gone', async () => {
    const scratchDir = await mkdtemp(path.join(tmpdir(), 'dedl-leash-log-'));
    const server = startLeashed({
      command: process.execPath,
      args: ['-e', "console.log('starting'); console.error('bind: address already in use'); process.exit(3)"],
      scratchDir,
    });
    expect(await server.exited).toBe(3);
    expect(existsSync(scratchDir)).toBe(false);
    expect(await server.logTail()).toBe('starting\nbind: address already in use\n');
    await server.stop();
    // After stop the last tail read is still what it says.
    expect(await server.logTail(1)).toBe('');
    expect(await server.logTail(2)).toBe('bind: address already in use\n');
  });

  it('stops once however often stop is called', async () => {
    const scratchDir = await mkdtemp(path.join(tmpdir(), 'dedl-leash-log-'));
    const server = startLeashed({ command: 'sleep', args: ['600'], scratchDir });
    await Promise.all([server.stop(), server.stop()]);
    await server.stop();
    expect(existsSync(scratchDir)).toBe(false);
  });
});
