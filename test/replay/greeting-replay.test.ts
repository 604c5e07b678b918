/**
 * Replays a committed history (no server needed): the guard that catches workflow code changes
 * which would break runs already in flight. Histories are exported with
 * `temporal workflow show -w <id> --output json`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from '@temporalio/worker';

const historyFile = path.join(__dirname, '../fixtures/histories/greeting.json');

describe('replay of a committed greeting history', () => {
  it('replays cleanly against the current workflow code', async () => {
    const history = JSON.parse(await readFile(historyFile, 'utf8'));
    await expect(
      Worker.runReplayHistory({ workflowsPath: require.resolve('../fixtures/workflows/greeting') }, history),
    ).resolves.toBeUndefined();
  });

  it('fails with a determinism error against incompatible workflow code', async () => {
    const history = JSON.parse(await readFile(historyFile, 'utf8'));
    await expect(
      Worker.runReplayHistory({ workflowsPath: require.resolve('../fixtures/workflows-changed/greeting') }, history),
    ).rejects.toMatchObject({ name: 'DeterminismViolationError' });
  });
});
