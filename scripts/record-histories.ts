/**
 * Records the workflow histories that the replay tests (test/replay) hold the workflow code to:
 * real runs of `harvest` (TEMPORARY and PRIVATE output), `harvestCampaign` and `scheduledHarvest` on a fresh local stack (Temporal
 * dev server, versitygw) with the Hook emulator and a real worker, each exported exactly as
 * `temporal workflow show -w <id> --output json` prints it, into test/fixtures/histories.
 *
 * Re-record only after a deliberate change that is safe for running workflows (behind `patched()`),
 * or to cover new code paths; never to make a failing replay test pass.
 *
 *   npx tsx scripts/record-histories.ts [harvest|harvest-private|campaign|campaign-continued|scheduled …]   (default: all)
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { TEMPORAL_CLI, ensureTool } from '../src/devstack/tools';
import { startLocalStack } from '../src/devstack/stack';
import type { CampaignReport } from '../src/shared/campaign-report';
import type { HarvestReport } from '../src/shared/harvest-report';
import type { HarvestRequestInput } from '../src/shared/harvest-request';
import type { ScheduledHarvestResult } from '../src/workflows/scheduled-harvest';
import {
  type CampaignEnv,
  campaignRequest,
  catalogueIds,
  catalogueSearch,
  startCampaignEnv,
} from '../test/helpers/campaign-env';
import { request } from '../test/helpers/harvest-env';
import { createTestBucket, s3CredentialEnv, stackS3Client } from '../test/helpers/s3';
import { STACK_ENV, type TestStack, testStack } from '../test/helpers/stack';

const run = promisify(execFile);
const HISTORIES = path.join(__dirname, '..', 'test', 'fixtures', 'histories');
const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';
/** Not in the catalogue: the Hook fails this item, so the history has a failed product too. */
const MISSING = 'S2B_MSIL1C_20990101T000000_N0509_R001_T00AAA_20990101T000000.SAFE';

/** One recording: starts the workflow, waits for its end, and says what it did (for the log). */
interface Recording {
  file: string;
  workflowId: string;
  record(env: CampaignEnv): Promise<string>;
  /** Also export the chain's first run (it ends by continuing as new) into this file… */
  firstRunFile?: string;
  /** …the run id `record` started. */
  firstRunId?: string;
}

/** A harvest of two catalogue products and one the Hook fails, into `output`; says what it did. */
async function recordHarvest(
  env: CampaignEnv,
  workflowId: string,
  name: string,
  output: HarvestRequestInput['output'],
): Promise<string> {
  const identifiers = catalogueIds(env.emulator, 2, COLLECTION);
  const report: HarvestReport = await env.client.workflow.execute('harvest', {
    taskQueue: env.taskQueue,
    workflowId,
    args: [request({ name, identifiers: [...identifiers, MISSING], output })],
  });
  return `${report.outcome}: ${report.totals.delivered} delivered, ${report.totals.failed} failed`;
}

const RECORDINGS: Record<string, Recording> = {
  harvest: {
    file: 'harvest-temporary.json',
    workflowId: 'harvest-recorded',
    record(env) {
      return recordHarvest(env, this.workflowId, 'recorded', {
        storage: 'TEMPORARY',
        sink: env.freshSink('harvest').url,
      });
    },
  },
  'harvest-private': {
    // PRIVATE output: the emulator writes the products into a bucket on versitygw, the harvest
    // verifies them by listing it and writes the STAC files there.
    file: 'harvest-private.json',
    workflowId: 'harvest-private-recorded',
    async record(env) {
      const s3 = stackS3Client();
      try {
        const bucket = await createTestBucket(s3, 'recorded');
        return await recordHarvest(env, this.workflowId, 'recorded private', {
          storage: 'PRIVATE',
          target: `s3://${bucket}/recorded`,
          endpoint: testStack().s3.endpoint,
          credentials: 'local',
        });
      } finally {
        s3.destroy();
      }
    },
  },
  campaign: {
    file: 'harvest-campaign.json',
    workflowId: 'campaign-recorded',
    async record(env) {
      const identifiers = catalogueIds(env.emulator, 5, COLLECTION);
      const report: CampaignReport = await env.client.workflow.execute('harvestCampaign', {
        taskQueue: env.taskQueue,
        workflowId: this.workflowId,
        args: [
          campaignRequest({
            name: 'recorded campaign',
            identifiers,
            orderSize: 2,
            maxOrdersInFlight: 2,
            output: { storage: 'TEMPORARY', sink: env.freshSink('campaign').url },
          }),
        ],
      });
      return `${report.outcome}: ${report.counts.delivered} delivered in ${report.orders} orders`;
    },
  },
  'campaign-continued': {
    // A campaign that continues as new every few orders: its last run starts from the state the
    // run before carried, so replaying it holds the code to reading that state. (The
    // `-one-letter` copies were recorded from the code before CampaignBook: keep them.)
    file: 'harvest-campaign-continued.json',
    firstRunFile: 'harvest-campaign-continued-first-run.json',
    workflowId: 'campaign-continued-recorded',
    async record(env) {
      const identifiers = catalogueIds(env.emulator, 5, COLLECTION);
      const handle = await env.client.workflow.start('harvestCampaign', {
        taskQueue: env.taskQueue,
        workflowId: this.workflowId,
        args: [
          campaignRequest({
            name: 'recorded continued campaign',
            identifiers: [...identifiers, MISSING],
            orderSize: 1,
            maxOrdersInFlight: 1,
            continueAsNewAfterEvents: 50,
            output: { storage: 'TEMPORARY', sink: env.freshSink('campaign-continued').url },
          }),
        ],
      });
      this.firstRunId = handle.firstExecutionRunId;
      const report = (await handle.result()) as CampaignReport;
      return `${report.outcome}: ${report.counts.delivered} delivered, ${report.counts.failed} failed in ${report.orders} orders, ${report.runs} runs`;
    },
  },
  scheduled: {
    file: 'scheduled-harvest.json',
    workflowId: 'scheduled-recorded',
    async record(env) {
      // A window ending just after the catalogue's earliest products, so it finds a few of them.
      const first = catalogueSearch(env.emulator, { collections: [COLLECTION] })
        .map((item) => Date.parse(item.properties.datetime as string))
        .sort((a, b) => a - b)[0]!;
      const result: ScheduledHarvestResult = await env.client.workflow.execute('scheduledHarvest', {
        taskQueue: env.taskQueue,
        workflowId: this.workflowId,
        args: [
          {
            ...campaignRequest({ output: { storage: 'TEMPORARY', sink: env.freshSink('scheduled').url } }),
            name: 'recorded schedule',
            every: '1d',
            overlap: '1h',
            maxItems: 3,
            orderSize: 2,
            scheduledTime: new Date(first + 3_600_000).toISOString(),
          },
        ],
      });
      return `${result.campaign.outcome}: ${result.campaign.counts.delivered} delivered, window ${result.window.start} – ${result.window.end}`;
    },
  },
};

async function main(): Promise<void> {
  const wanted = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(RECORDINGS);
  const unknown = wanted.filter((name) => !(name in RECORDINGS));
  if (unknown.length)
    throw new Error(`unknown recording ${unknown.join(', ')}; choose from ${Object.keys(RECORDINGS).join(', ')}`);

  const stack = await startLocalStack({ log: (line) => process.stderr.write(`[stack] ${line}\n`) });
  const addresses: TestStack = {
    temporal: { address: stack.temporal.address, namespace: stack.temporal.namespace, kind: stack.temporal.kind },
    s3: { ...stack.s3 },
  };
  process.env[STACK_ENV] = JSON.stringify(addresses);
  let env: CampaignEnv | undefined;
  try {
    env = await startCampaignEnv(
      { timing: { queuedMs: 20, processingMs: 80 }, productSize: 4096 },
      s3CredentialEnv('local'),
    );
    const temporal = await ensureTool(TEMPORAL_CLI);
    for (const name of wanted) {
      const recording = RECORDINGS[name]!;
      const summary = await recording.record(env);
      const exportRun = async (file: string, runId?: string) => {
        const { stdout } = await run(
          temporal,
          [
            ...['workflow', 'show', '-w', recording.workflowId, ...(runId ? ['-r', runId] : [])],
            ...['--output', 'json', '--address', stack.temporal.address],
          ],
          { maxBuffer: 64 * 1024 * 1024 },
        );
        const events = (JSON.parse(stdout) as { events: unknown[] }).events.length;
        await writeFile(path.join(HISTORIES, file), stdout.endsWith('\n') ? stdout : `${stdout}\n`);
        process.stdout.write(`${file}: ${recording.workflowId}, ${events} events (${summary})\n`);
      };
      await exportRun(recording.file);
      if (recording.firstRunFile) await exportRun(recording.firstRunFile, recording.firstRunId);
    }
  } finally {
    await env?.close();
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`record-histories: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
