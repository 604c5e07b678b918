/**
 * Replays a committed history of a real `harvest` run (two products delivered, one failed by the
 * Hook, polls, downloads, manifest) against the current workflow code, with no server. A change to
 * the workflow that would break harvests already running fails here; such a change needs
 * `patched()` (see the Temporal docs on versioning). Re-record after a deliberate, patched change
 * with `temporal workflow show -w <id> --output json > test/fixtures/histories/<name>.json`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../src/worker/create-worker';

describe('replay of a committed harvest history', () => {
  it('replays cleanly against the current workflow code', async () => {
    const history = JSON.parse(
      await readFile(path.join(__dirname, '../fixtures/histories/harvest-temporary.json'), 'utf8'),
    );
    await expect(
      Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'harvest-recorded'),
    ).resolves.toBeUndefined();
  });
});
