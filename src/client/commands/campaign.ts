/**
 * `dedl-harvest campaign <plan|start|watch|pause|resume|concurrency|retry-failed|cancel|report|account>`:
 * campaigns from the command line, over the client API in campaign-api.ts. `watch` shows a
 * progress bar (redrawn in place on a terminal, a line per change otherwise) until the campaign
 * ends; exit codes follow the harvest's (0 all delivered, 3 some failed, 4 cancelled).
 */
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type Client, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import type { CampaignProgress, CampaignReport } from '../../shared/campaign-report';
import { type CampaignRequestInput, parseCampaignRequest } from '../../shared/campaign-request';
import {
  accountStatus,
  campaignHandle,
  campaignProgress,
  campaignReport,
  campaignWorkflowId,
  cancelCampaign,
  pauseCampaign,
  planCampaign,
  resumeCampaign,
  retryFailedProducts,
  setAccountLimits,
  setCampaignConcurrency,
  startCampaign,
} from '../campaign-api';
import { type Command, type CommandContext, type FlagValues, stringFlag } from '../command';
import { connectClient } from '../connect';
import { CliError, InvalidInputError, UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { presentPlan, refusedPlan } from '../harvest-plan';
import { type OutputStream, line, printJson, stopSignal } from '../io';
import { ITEM_TIME_FLAG, itemTimeMs } from '../plan-output';
import { formatBytes } from '../render';
import { writeCampaignHtml } from '../report/campaign-html';
import { readJsonFile, resolveSinks } from '../request-input';
import { taskQueueFor } from '../start-harvest';
import { TASK_QUEUE_FLAG } from './request-flags';

const SUBCOMMANDS = [
  'plan',
  'start',
  'watch',
  'pause',
  'resume',
  'concurrency',
  'retry-failed',
  'cancel',
  'report',
  'account',
] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

export const campaignCommand: Command = {
  name: 'campaign',
  usage: `campaign ${SUBCOMMANDS.join('|')} <campaign.json | workflowId | account>`,
  summary: 'many products in quota-aware orders: plan, start, watch, pause/resume, retry failed, cancel',
  details: [
    '  campaign plan <campaign.json>           what would be ordered (found, already verified, size, orders vs the monthly budget, time); orders nothing',
    '  campaign start <campaign.json>          start it (again: the running one is returned; a finished one orders only what is missing)',
    '  campaign watch <workflowId>             progress bar until it ends, then the report',
    '  campaign pause|resume <workflowId>      hold / release new orders (orders under way finish)',
    '  campaign concurrency <workflowId>       change --max-orders, --max-items, --order-size while it runs',
    '  campaign retry-failed <workflowId>      order the failed products again (a finished campaign runs again for them)',
    '  campaign cancel <workflowId>            cancel it and its orders at the Hook',
    '  campaign report <workflowId>            the report (waits for the end); --html FILE: a page with a map of the footprints',
    '  campaign account <name>                 the account limiter: items in flight, orders this month; set with --max-items, --monthly-orders',
  ].join('\n'),
  flags: {
    id: { type: 'string', value: '<workflowId>', description: 'start: workflow id (default campaign/<name>)' },
    'task-queue': TASK_QUEUE_FLAG,
    paused: { type: 'boolean', description: 'start: start paused (resume when the plan looks right)' },
    'item-time': ITEM_TIME_FLAG,
    'retry-quarantined': {
      type: 'boolean',
      description: 'start, plan: order the products the ledger holds as quarantined (failed verification) again',
    },
    'max-orders': { type: 'string', value: '<n>', description: 'concurrency: orders under way at once' },
    'max-items': {
      type: 'string',
      value: '<n>',
      description: 'concurrency: items under way at once; account: the account limit',
    },
    'order-size': { type: 'string', value: '<n>', description: 'concurrency: items per order' },
    'monthly-orders': { type: 'string', value: '<n>', description: "account: the account's orders per month" },
    'include-timed-out': { type: 'boolean', description: 'retry-failed: also the products that timed out' },
    html: {
      type: 'string',
      value: '<file>',
      description: 'report: also write the campaign as one HTML page (map, timeline, totals)',
    },
    'no-wait': { type: 'boolean', description: 'cancel: return once the cancellation is requested' },
  },
  positionals: { min: 2, max: 2 },
  async run(ctx) {
    const sub = ctx.positionals[0] as Subcommand;
    if (!SUBCOMMANDS.includes(sub))
      throw new UsageError(`unknown campaign command "${sub}"; see dedl-harvest campaign --help`);
    const target = ctx.positionals[1]!;
    const temporal = await connectClient(ctx.io.env, ctx.io.cwd);
    try {
      return await SUBCOMMAND_RUNNERS[sub](temporal.client, target, ctx);
    } catch (err) {
      // The server says "not found" both for unknown ids and for campaigns that have ended.
      if (err instanceof WorkflowNotFoundError && sub !== 'account') {
        throw new CliError(`campaign ${target}: ${err.message.replace('workflow execution', 'the campaign has')}`);
      }
      throw err;
    } finally {
      await temporal.close();
    }
  },
};

type Runner = (client: Client, target: string, ctx: CommandContext) => Promise<number>;

const SUBCOMMAND_RUNNERS: Record<Subcommand, Runner> = {
  async plan(client, file, ctx) {
    const itemMs = itemTimeMs(stringFlag(ctx.flags, 'item-time'));
    const input = await loadCampaign(file, ctx.io.cwd);
    const plan = await planCampaign(
      client,
      ctx.flags['retry-quarantined'] ? { ...input, retryQuarantined: true } : input,
      {
        taskQueue: taskQueueFor(stringFlag(ctx.flags, 'task-queue'), ctx.io.env),
      },
    ).catch(refusedPlan(`the campaign ${file}`));
    return presentPlan(ctx, plan, itemMs);
  },

  async start(client, file, ctx) {
    const input = await loadCampaign(file, ctx.io.cwd);
    const request = {
      ...input,
      ...(ctx.flags.paused ? { paused: true } : {}),
      ...(ctx.flags['retry-quarantined'] ? { retryQuarantined: true } : {}),
    };
    const handle = await startCampaign(client, request, {
      workflowId: stringFlag(ctx.flags, 'id'),
      taskQueue: taskQueueFor(stringFlag(ctx.flags, 'task-queue'), ctx.io.env),
    });
    if (ctx.json) {
      printJson(ctx.io.stdout, { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, name: input.name });
    } else {
      line(ctx.io.stdout, `Campaign "${input.name}" runs as workflow ${handle.workflowId}`);
      line(ctx.io.stdout, `  follow it:  dedl-harvest campaign watch ${handle.workflowId}`);
      if (request.paused) line(ctx.io.stdout, `  it is paused: dedl-harvest campaign resume ${handle.workflowId}`);
    }
    return EXIT.OK;
  },

  async watch(client, workflowId, ctx) {
    const stop = stopSignal(ctx.io);
    const bar = progressLine(ctx.io.stdout, ctx.json);
    const ending = campaignReport(client, workflowId).then(
      (report) => ({ report }),
      (error: unknown) => ({ error }),
    );
    let ended = false;
    void ending.then(() => (ended = true));
    try {
      while (!ended && !stop.signal.aborted) {
        const progress = await campaignProgress(client, workflowId).catch(() => undefined);
        if (progress) bar.update(progress);
        await Promise.race([
          ending,
          delay(ctx.io.stdout.isTTY ? 250 : 1000, undefined, { signal: stop.signal }).catch(() => undefined),
        ]);
      }
      bar.finish();
      if (!ended) {
        if (!ctx.json)
          line(ctx.io.stderr, `Stopped following; the campaign goes on: dedl-harvest campaign watch ${workflowId}`);
        return EXIT.DETACHED;
      }
      return presentOutcome(ctx, workflowId, await ending);
    } finally {
      stop.dispose();
    }
  },

  async pause(client, workflowId, ctx) {
    return showProgress(ctx, await pauseCampaign(client, workflowId), 'paused: no new orders; those under way finish');
  },

  async resume(client, workflowId, ctx) {
    return showProgress(ctx, await resumeCampaign(client, workflowId), 'resumed');
  },

  async concurrency(client, workflowId, ctx) {
    const change = {
      maxOrdersInFlight: intFlag(ctx.flags, 'max-orders'),
      maxItemsInFlight: intFlag(ctx.flags, 'max-items'),
      orderSize: intFlag(ctx.flags, 'order-size'),
    };
    if (Object.values(change).every((v) => v === undefined)) {
      throw new UsageError('give at least one of --max-orders, --max-items, --order-size');
    }
    return showProgress(ctx, await setCampaignConcurrency(client, workflowId, change), 'concurrency changed');
  },

  async 'retry-failed'(client, workflowId, ctx) {
    const result = await retryFailedProducts(client, workflowId, {
      includeTimedOut: ctx.flags['include-timed-out'] === true,
    });
    if (ctx.json) printJson(ctx.io.stdout, { workflowId, how: result.how, requeued: result.requeued });
    else if (result.how === 'nothing-failed')
      line(ctx.io.stdout, `Campaign ${workflowId}: no failed product to retry.`);
    else {
      const how = result.how === 'restarted' ? 'the campaign runs again for them' : 'back in its queue';
      line(ctx.io.stdout, `Campaign ${workflowId}: ${result.requeued.length} failed products ordered again (${how}).`);
    }
    return EXIT.OK;
  },

  async cancel(client, workflowId, ctx) {
    const handle = campaignHandle(client, workflowId);
    if ((await handle.describe()).status.name !== 'RUNNING')
      throw new CliError(`campaign ${workflowId} has already ended`);
    if (ctx.flags['no-wait']) {
      await handle.cancel();
      if (ctx.json) printJson(ctx.io.stdout, { workflowId, cancellation: 'requested' });
      else line(ctx.io.stdout, `Cancellation of ${workflowId} requested.`);
      return EXIT.OK;
    }
    const status = await cancelCampaign(client, workflowId);
    if (ctx.json) printJson(ctx.io.stdout, { workflowId, status });
    else line(ctx.io.stdout, `Campaign ${workflowId} ${status.toLowerCase()}; its Hook orders were cancelled.`);
    return status === 'CANCELLED' ? EXIT.CANCELLED : EXIT.OK;
  },

  async report(client, workflowId, ctx) {
    const html = stringFlag(ctx.flags, 'html');
    if (html) {
      const page = await writeCampaignHtml(client, workflowId, path.resolve(ctx.io.cwd, html));
      line(
        ctx.json ? ctx.io.stderr : ctx.io.stdout,
        `Wrote ${page.file}: ${page.items} products, ${page.footprints} footprints on the map`,
      );
    }
    const outcome = await campaignReport(client, workflowId).then(
      (report) => ({ report }),
      (error: unknown) => ({ error }),
    );
    return presentOutcome(ctx, workflowId, outcome);
  },

  async account(client, name, ctx) {
    const change = {
      maxItemsInFlight: intFlag(ctx.flags, 'max-items'),
      monthlyOrders: intFlag(ctx.flags, 'monthly-orders'),
    };
    const changing = Object.values(change).some((v) => v !== undefined);
    const status = changing
      ? await setAccountLimits(
          client,
          name,
          Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined)),
        )
      : await accountStatus(client, name);
    if (!status)
      throw new CliError(`no campaign has used the account "${name}" yet (its limiter starts with the first order)`);
    if (ctx.json) printJson(ctx.io.stdout, status);
    else {
      line(
        ctx.io.stdout,
        `Account ${status.account}: ${status.inUse} of ${status.limits.maxItemsInFlight} items in flight (peak ${status.peakInUse}), ${status.waiting.length} orders waiting`,
      );
      line(
        ctx.io.stdout,
        `  ${status.month}: ${status.ordersThisMonth} orders, ${status.ordersLeftThisMonth} left of ${status.limits.monthlyOrders}`,
      );
    }
    return EXIT.OK;
  },
};

/** Reads a campaign JSON file, makes local sinks absolute, and validates it before anything starts. */
export async function loadCampaign(file: string, cwd: string): Promise<CampaignRequestInput> {
  const json = await readJsonFile(
    file,
    cwd,
    (problems) => new InvalidInputError(`the campaign ${file} was refused; nothing was started`, problems),
  );
  const input = resolveSinks(json, cwd);
  const parsed = parseCampaignRequest(input);
  if (!parsed.ok) throw new InvalidInputError(`the campaign ${file} was refused; nothing was started`, parsed.problems);
  return input as CampaignRequestInput;
}

function intFlag(flags: FlagValues, name: string): number | undefined {
  const text = stringFlag(flags, name);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} must be a positive integer`);
  return Number(text);
}

function showProgress(ctx: CommandContext, progress: CampaignProgress, what: string): number {
  if (ctx.json) printJson(ctx.io.stdout, progress);
  else {
    line(ctx.io.stdout, `Campaign ${progress.workflowId} ${what}.`);
    line(ctx.io.stdout, `  ${summaryLine(progress)}`);
  }
  return EXIT.OK;
}

function presentOutcome(
  ctx: CommandContext,
  workflowId: string,
  outcome: { report: CampaignReport } | { error: unknown },
): number {
  if ('error' in outcome) {
    const cancelled = outcome.error instanceof WorkflowFailedError && outcome.error.cause?.name === 'CancelledFailure';
    const message = cancelled ? 'cancelled (its manifest says what was delivered)' : (outcome.error as Error).message;
    if (ctx.json) printJson(ctx.io.stdout, { workflowId, outcome: cancelled ? 'cancelled' : 'failed', message });
    else line(cancelled ? ctx.io.stdout : ctx.io.stderr, `Campaign ${workflowId}: ${message}`);
    return cancelled ? EXIT.CANCELLED : EXIT.ERROR;
  }
  const { report } = outcome;
  const exitCode =
    report.outcome === 'delivered' || report.outcome === 'empty'
      ? EXIT.OK
      : report.outcome === 'cancelled'
        ? EXIT.CANCELLED
        : EXIT.ITEMS_FAILED;
  if (ctx.json) printJson(ctx.io.stdout, { workflowId, exitCode, report });
  else for (const text of formatCampaignReport(report)) line(ctx.io.stdout, text);
  return exitCode;
}

export function formatCampaignReport(report: CampaignReport): string[] {
  const c = report.counts;
  const lines = [
    `Campaign "${report.name}" ${report.outcome}: ${c.delivered} delivered, ${c.skipped} already verified, ${c.failed} failed, ${c.quarantined ?? 0} quarantined, ${c.timed_out} timed out, ${c.cancelled} cancelled of ${c.items}`,
    `  ${formatBytes(report.bytes)} in ${report.orders} orders, ${report.runs} runs`,
  ];
  if (report.manifest) lines.push(`  manifest: ${report.manifest}`);
  if (report.itemCollection) lines.push(`  STAC items: ${report.itemCollection}`);
  for (const item of (report.items ?? []).filter((i) => i.state === 'failed').slice(0, 10)) {
    lines.push(`  ✘ ${item.identifier}: ${item.error ?? 'failed'}`);
  }
  const quarantined = (report.items ?? []).filter((i) => i.state === 'quarantined');
  for (const item of quarantined)
    lines.push(`  ⚠ quarantined ${item.identifier}: ${item.error ?? 'failed verification'}`);
  if (quarantined.length > 0)
    lines.push('  (later runs skip quarantined products; order them again with --retry-quarantined)');
  return lines;
}

function summaryLine(p: CampaignProgress): string {
  const c = p.counts;
  const done = c.delivered + c.skipped + c.failed + c.quarantined + c.timed_out + c.cancelled;
  const rate = p.rate ? ` · ${p.rate.productsPerSecond.toFixed(1)}/s` : '';
  const eta = p.etaSeconds !== undefined && done < c.items ? ` · ETA ${formatSeconds(p.etaSeconds)}` : '';
  const budget =
    p.account.ordersLeftThisMonth !== undefined ? ` · ${p.account.ordersLeftThisMonth} orders left this month` : '';
  return `${p.phase} · ${done}/${c.items} done (${c.delivered} delivered, ${c.skipped} skipped, ${c.failed} failed) · ${formatBytes(p.bytes)} · orders ${p.orders.created} (${p.orders.inFlight} under way)${rate}${eta}${budget}`;
}

function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}

/** A progress bar redrawn in place on a terminal; a line per change otherwise; nothing with --json. */
function progressLine(out: OutputStream, json: boolean): { update(p: CampaignProgress): void; finish(): void } {
  let last = '';
  let drawn = false;
  return {
    update(p) {
      if (json) return;
      const c = p.counts;
      const done = c.delivered + c.skipped + c.failed + c.quarantined + c.timed_out + c.cancelled;
      const width = 24;
      const filled = c.items ? Math.round((done / c.items) * width) : 0;
      const text = `${p.name} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${summaryLine(p)}`;
      if (text === last) return;
      last = text;
      if (out.isTTY) {
        const columns = out.columns ?? 120;
        out.write(`\r\u001b[2K${text.slice(0, columns - 1)}`);
        drawn = true;
      } else {
        line(out, text);
      }
    },
    finish() {
      if (drawn) out.write('\n');
    },
  };
}

export { campaignWorkflowId };
