/**
 * `dedl-harvest demo` (`npm run demo`): the main job on this machine, start to finish — local
 * stack, emulator and worker; one TEMPORARY harvest into ./harvest-output and one PRIVATE harvest
 * into a bucket of the local S3; progress, both reports, where the files are, the UI address; then
 * everything it started is stopped (`--keep` leaves it up until Ctrl-C).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Client } from '@temporalio/client';
import type { HarvestRequestInput } from '../../shared/harvest-request';
import type { Command } from '../command';
import { connectClient } from '../connect';
import { EXIT } from '../exit-codes';
import { type FollowResult, followHarvest } from '../follow';
import { awaitHarvestEnd } from '../harvest-end';
import { type CliIO, line, printJson, stopSignal, untilStopped } from '../io';
import { LOCAL_CREDENTIALS, type LocalHarvestEnv, startLocalHarvestEnv } from '../local-env';
import { exitCodeOf, presentEnd } from '../present';
import type { HarvestSnapshot } from '../progress';
import { createProgressRenderer } from '../render';
import { defaultWorkflowId, startHarvest } from '../start-harvest';

export const DEMO_COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';
export const DEMO_BUCKET = 'dedl-harvest-demo';
const PRODUCT_SIZE = 16 * 1024 * 1024;
/** A harvest of the demo that has not ended by then is cancelled and reported as such. */
const HARVEST_BUDGET_MS = 40_000;
const POLLING = { initialInterval: '500ms', maxInterval: '2s', backoff: 1.5, deadline: '5m' };

interface DemoHarvest {
  label: string;
  workflowId: string;
  end: FollowResult | { kind: 'over-budget'; message: string };
  exitCode: number;
}

export const demoCommand: Command = {
  name: 'demo',
  usage: 'demo [--keep] [--output <dir>]',
  summary: 'run a TEMPORARY and a PRIVATE harvest against the local Hook emulator, start to finish',
  details:
    'Starts the local stack (builds the tools on the first run), the emulator and a worker; harvests 3 products\n' +
    'into ./harvest-output and 2 into a bucket of the local S3; prints both reports; stops everything.',
  flags: {
    keep: { type: 'boolean', description: 'leave the stack up afterwards (to explore the Temporal UI) until Ctrl-C' },
    output: {
      type: 'string',
      value: '<dir>',
      description: 'folder of the TEMPORARY harvest (default ./harvest-output)',
    },
  },
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    const began = Date.now();
    const out = (text = '') => {
      if (!ctx.json) line(ctx.io.stdout, text);
    };
    const outputDir = path.resolve(
      ctx.io.cwd,
      typeof ctx.flags.output === 'string' ? ctx.flags.output : 'harvest-output',
    );
    out('dedl-harvest demo: two harvests against the local Hook emulator, on a local Temporal dev server.');
    out('Starting Temporal (with UI), S3 (versitygw), the Hook emulator and a worker…');
    // Listening before the worker exists: a Ctrl-C during start-up then stops the demo, not just the worker.
    const stop = stopSignal(ctx.io);
    let local: LocalHarvestEnv;
    try {
      local = await startLocalHarvestEnv({
        emulator: { timing: { queuedMs: 400, processingMs: 2_000 }, productSize: PRODUCT_SIZE },
        bucket: DEMO_BUCKET,
        log: (text) => line(ctx.io.stderr, text),
        logLevel: ctx.io.env.LOG_LEVEL ?? 'WARN',
      });
    } catch (err) {
      stop.dispose();
      throw err;
    }
    const temporal = await connectClient(local.env).catch(async (err: unknown) => {
      stop.dispose();
      await local.close();
      throw err;
    });
    try {
      if (stop.signal.aborted) return EXIT.DETACHED;
      const uiUrl = local.stack.temporal.uiUrl;
      out(`Up in ${seconds(Date.now() - began)}. Temporal UI: ${uiUrl ?? '(headless)'}`);

      const [a, b, c, d, e] = local.emulator.catalogue
        .search({ collections: [DEMO_COLLECTION], limit: 5 })
        .items.map((item) => item.id);
      const harvests: DemoHarvest[] = [];
      const temporary: HarvestRequestInput = {
        name: 'demo temporary',
        collection: DEMO_COLLECTION,
        identifiers: [a!, b!, c!],
        output: { storage: 'TEMPORARY', sink: pathToFileURL(outputDir).toString() },
        polling: POLLING,
      };
      out();
      out(`1/2 TEMPORARY harvest of 3 products into ${outputDir}`);
      harvests.push(await harvest(ctx.io, ctx.json, temporal.client, local, 'TEMPORARY', temporary, stop.signal));

      const prefix = 'demo-private';
      const privateRequest: HarvestRequestInput = {
        name: 'demo private',
        collection: DEMO_COLLECTION,
        identifiers: [d!, e!],
        output: {
          storage: 'PRIVATE',
          target: `s3://${local.bucket}/${prefix}`,
          // The Hook (here: the emulator) writes into the bucket through this endpoint, with the keys of the credential set.
          endpoint: local.stack.s3.endpoint,
          credentials: LOCAL_CREDENTIALS,
        },
        polling: POLLING,
      };
      if (!stop.signal.aborted) {
        out();
        out(
          `2/2 PRIVATE harvest of 2 products into s3://${local.bucket}/${prefix} (local S3 at ${local.stack.s3.endpoint})`,
        );
        harvests.push(await harvest(ctx.io, ctx.json, temporal.client, local, 'PRIVATE', privateRequest, stop.signal));
      }

      const exitCode = stop.signal.aborted
        ? EXIT.DETACHED
        : (harvests.map((h) => h.exitCode).find((code) => code !== EXIT.OK) ?? EXIT.OK);
      if (ctx.json) {
        printJson(ctx.io.stdout, {
          exitCode,
          seconds: Math.round((Date.now() - began) / 1000),
          temporalUi: uiUrl,
          outputDir,
          bucket: { url: `s3://${local.bucket}/${prefix}`, endpoint: local.stack.s3.endpoint },
          harvests,
        });
      } else {
        out();
        out(`Demo finished in ${seconds(Date.now() - began)}:`);
        for (const h of harvests) out(`  ${h.label.padEnd(9)} ${summary(h)}`);
        out(`  Products:    ${outputDir} (with manifest.json)`);
        out(
          `  Bucket:      s3://${local.bucket}/${prefix} on ${local.stack.s3.endpoint}, on disk ${path.join(local.stack.s3.dataDir, local.bucket, prefix)}`,
        );
        out(
          `  Temporal UI: ${uiUrl ? `${uiUrl}/namespaces/${local.stack.temporal.namespace}/workflows` : '(headless)'}`,
        );
      }

      if (ctx.flags.keep && !stop.signal.aborted) {
        stop.dispose();
        out();
        out('--keep: everything stays up until Ctrl-C. Environment for another shell:');
        for (const [key, value] of Object.entries(local.env)) out(`  export ${key}=${value}`);
        await untilStopped(ctx.io);
      } else if (!ctx.flags.keep) {
        out('  (the local S3 and Temporal are stopped now and their data removed; --keep leaves them up)');
      }
      return exitCode;
    } finally {
      stop.dispose();
      await temporal.close();
      await local.close();
    }
  },
};

async function harvest(
  io: CliIO,
  json: boolean,
  client: Client,
  local: LocalHarvestEnv,
  label: string,
  request: HarvestRequestInput,
  signal: AbortSignal,
): Promise<DemoHarvest> {
  const started = await startHarvest(client, request, {
    workflowId: defaultWorkflowId(request.name),
    taskQueue: local.taskQueue,
  });
  if (!json && local.stack.temporal.uiUrl) {
    line(
      io.stdout,
      `    ${local.stack.temporal.uiUrl}/namespaces/${local.stack.temporal.namespace}/workflows/${started.workflowId}`,
    );
  }
  // The demo must end: a harvest still running after its budget is cancelled, and the reason shown.
  const budget = new AbortController();
  const onStop = () => budget.abort();
  signal.addEventListener('abort', onStop, { once: true });
  let last: HarvestSnapshot | undefined;
  const timer = setTimeout(() => budget.abort(), HARVEST_BUDGET_MS);
  try {
    const end = await followHarvest(client, started.workflowId, {
      renderer: createProgressRenderer(io.stdout, { json }),
      intervalMs: io.stdout.isTTY ? 200 : 500,
      signal: budget.signal,
      onSnapshot: (snapshot) => (last = snapshot),
    });
    if (end.kind === 'detached' && signal.aborted) {
      return { label, workflowId: started.workflowId, end, exitCode: EXIT.DETACHED };
    }
    if (end.kind === 'detached') {
      const trouble = last?.retrying.map((r) => `${r.type} failed ${r.attempt - 1} time(s): ${r.message}`).join('; ');
      const message = `did not finish within ${HARVEST_BUDGET_MS / 1000} s${trouble ? ` (${trouble})` : ''}; cancelled`;
      if (!json) line(io.stderr, `dedl-harvest demo: the ${label} harvest ${message}`);
      const handle = client.workflow.getHandle(started.workflowId);
      await handle.cancel();
      // Let the workflow cancel its Hook order before the demo takes the stack down.
      const grace = AbortSignal.timeout(10_000);
      await client.withAbortSignal(grace, () => awaitHarvestEnd(client, handle)).catch(() => undefined);
      return { label, workflowId: started.workflowId, end: { kind: 'over-budget', message }, exitCode: EXIT.ERROR };
    }
    const exitCode = json ? exitCodeOf(end) : presentEnd(io, false, end, started.workflowId);
    return { label, workflowId: started.workflowId, end, exitCode };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onStop);
  }
}

function summary(h: DemoHarvest): string {
  const end = h.end;
  switch (end.kind) {
    case 'report':
      return `${end.report.outcome}: ${end.report.totals.delivered} of ${end.report.totals.items} products (${h.workflowId})`;
    case 'invalid':
      return `refused: ${end.problems.join('; ')}`;
    case 'over-budget':
      return `FAILED: ${end.message} (${h.workflowId})`;
    case 'detached':
      return `interrupted (${h.workflowId})`;
    default:
      return `${end.kind}: ${end.message} (${h.workflowId})`;
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
