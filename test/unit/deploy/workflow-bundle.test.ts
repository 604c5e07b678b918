/**
 * The prebuilt workflow bundle the Docker image ships (scripts/bundle-workflows.ts): the file it
 * writes is what `DEDL_WORKFLOW_BUNDLE` points the worker at, so it must replay a real harvest
 * history and, when built for payload encryption, pass the worker's check for the encrypting
 * failure converter. No server: replay runs the bundle in the SDK's workflow sandbox.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { assertBundleEncryptsFailures } from '../../../src/codec/data-converter';
import { ConfigError } from '../../../src/config/worker-config';
import { writeWorkflowBundle } from '../../../scripts/bundle-workflows';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dedl-bundle-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the prebuilt workflow bundle', () => {
  it('replays a recorded harvest from the file the worker would load', async () => {
    const codePath = path.join(dir, 'workflow-bundle.js');
    expect(await writeWorkflowBundle(codePath, false)).toBeGreaterThan(100_000);
    const history = JSON.parse(
      await readFile(path.join(__dirname, '../../fixtures/histories/harvest-temporary.json'), 'utf8'),
    );
    await expect(
      Worker.runReplayHistory({ workflowBundle: { codePath } }, history, 'harvest-recorded'),
    ).resolves.toBeUndefined();
    // A worker with payload keys refuses this one: its workflow failures would be plain text.
    await expect(assertBundleEncryptsFailures({ codePath })).rejects.toBeInstanceOf(ConfigError);
  });

  it('includes the encrypting failure converter when asked', async () => {
    const codePath = path.join(dir, 'workflow-bundle-encrypted.js');
    await writeWorkflowBundle(codePath, true);
    await expect(assertBundleEncryptsFailures({ codePath })).resolves.toBeUndefined();
  });
});
