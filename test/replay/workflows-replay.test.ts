/**
 * Replays committed histories of real runs of `harvest` (two products delivered, one failed by the
 * Hook; into a TEMPORARY sink, and PRIVATE into a bucket), `harvestCampaign` (five products in three orders, with the account limiter; and a campaign
 * of six one-product orders that continued as new — its first and last runs, the last starting
 * from the state the run before carried — recorded once with the current code and once with the
 * code before `CampaignBook`, whose carried outcomes had one-letter fields) and `scheduledHarvest`
 * (one window, its child campaign) against the current workflow code, with no server. A change to a workflow that would break runs already in flight fails here; such a change
 * needs `patched()` (see the Temporal docs on versioning). The same histories replayed against a
 * deliberately broken copy of the workflows must fail, so a pass is not vacuous.
 *
 * The histories are recorded by `npx tsx scripts/record-histories.ts` (real runs on a fresh dev
 * server, exported as `temporal workflow show --output json` prints them).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type WorkflowBundleWithSourceMap, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../src/worker/create-worker';

const COMPLETED = 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED';
const CONTINUED = 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW';
const HISTORIES = [
  { type: 'harvest', file: 'harvest-temporary.json', workflowId: 'harvest-recorded', end: COMPLETED },
  // Recorded before the catalog was written once at the end: its verification merged it.
  { type: 'harvest', file: 'harvest-private.json', workflowId: 'harvest-private-recorded', end: COMPLETED },
  { type: 'harvestCampaign', file: 'harvest-campaign.json', workflowId: 'campaign-recorded', end: COMPLETED },
  ...['harvest-campaign-continued', 'harvest-campaign-continued-one-letter'].flatMap((name) => [
    {
      type: 'harvestCampaign',
      file: `${name}-first-run.json`,
      workflowId: 'campaign-continued-recorded',
      end: CONTINUED,
    },
    { type: 'harvestCampaign', file: `${name}.json`, workflowId: 'campaign-continued-recorded', end: COMPLETED },
  ]),
  { type: 'scheduledHarvest', file: 'scheduled-harvest.json', workflowId: 'scheduled-recorded', end: COMPLETED },
];

interface HistoryJson {
  events: { eventType: string; workflowExecutionStartedEventAttributes?: { workflowType: { name: string } } }[];
}

async function history(file: string): Promise<HistoryJson> {
  return JSON.parse(await readFile(path.join(__dirname, '../fixtures/histories', file), 'utf8')) as HistoryJson;
}

const quiet = { trace() {}, debug() {}, info() {}, log() {}, warn() {}, error: console.error };
let current: WorkflowBundleWithSourceMap;
let changed: WorkflowBundleWithSourceMap;

// Each code version is bundled once for all histories (bundling is the slow part).
beforeAll(async () => {
  current = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quiet });
  changed = await bundleWorkflowCode({ workflowsPath: require.resolve('./changed-workflows'), logger: quiet });
}, 120_000);

describe.each(HISTORIES)('replay of a committed $type history ($file)', ({ type, file, workflowId, end }) => {
  it('is a finished run of that workflow type', async () => {
    const { events } = await history(file);
    expect(events[0]!.workflowExecutionStartedEventAttributes!.workflowType.name).toBe(type);
    expect(events.at(-1)!.eventType).toBe(end);
  });

  it('replays cleanly against the current workflow code', async () => {
    await expect(
      Worker.runReplayHistory({ workflowBundle: current }, await history(file), workflowId),
    ).resolves.toBeUndefined();
  });

  it('fails with a determinism error against workflow code changed without patched()', async () => {
    await expect(
      Worker.runReplayHistory({ workflowBundle: changed }, await history(file), workflowId),
    ).rejects.toMatchObject({ name: 'DeterminismViolationError' });
  });
});
