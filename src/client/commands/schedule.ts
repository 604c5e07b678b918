/**
 * `dedl-harvest schedule <create|list|describe|pause|unpause|trigger|backfill|delete>`: scheduled
 * harvests (Temporal Schedules running `scheduledHarvest`) over schedule-api.ts.
 */
import type { Client } from '@temporalio/client';
import { parseDuration } from '../../shared/duration';
import { type ScheduledHarvestInput, parseScheduledHarvest } from '../../shared/scheduled-harvest';
import { type Command, type CommandContext, stringFlag } from '../command';
import { connectClient } from '../connect';
import { InvalidInputError, UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { line, printJson } from '../io';
import { readJsonFile, resolveSinks } from '../request-input';
import {
  backfillHarvestSchedule,
  createHarvestSchedule,
  deleteHarvestSchedule,
  describeHarvestSchedule,
  listHarvestSchedules,
  pauseHarvestSchedule,
  scheduleGaps,
  triggerHarvestSchedule,
  unpauseHarvestSchedule,
} from '../schedule-api';
import { taskQueueFor } from '../start-harvest';
import { TASK_QUEUE_FLAG } from './request-flags';

const SUBCOMMANDS = [
  'create',
  'list',
  'describe',
  'gaps',
  'pause',
  'unpause',
  'trigger',
  'backfill',
  'delete',
] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

export const scheduleCommand: Command = {
  name: 'schedule',
  usage: `schedule ${SUBCOMMANDS.join('|')} [<scheduled.json> | <scheduleId>]`,
  summary: 'harvest the new products of a time window on a schedule (Temporal Schedules)',
  details: [
    '  schedule create <scheduled.json> --schedule-id <id> --every 1d [--offset 2h] [--paused]',
    '  schedule list',
    '  schedule describe|pause|unpause|trigger|delete <scheduleId>',
    "  schedule gaps <scheduleId>          every run's window and what it delivered; windows that delivered nothing are gaps (exit 3)",
    '  schedule backfill <scheduleId> --start <time> --end <time>   run the windows scheduled in [start, end], one by one',
    '    (both ends included, as Temporal ≥ 1.24 runs a backfill: runs scheduled exactly at --start and at --end both run)',
    '',
    'Each run harvests [scheduled time - delay - every - overlap, scheduled time - delay]; the ledger skips what',
    'earlier runs verified, so overlaps and backfills never order a product twice.',
  ].join('\n'),
  flags: {
    'schedule-id': { type: 'string', value: '<id>', description: 'create: the schedule id' },
    every: {
      type: 'string',
      value: '<duration>',
      description: 'create: interval between runs and window length (e.g. 1d)',
    },
    offset: {
      type: 'string',
      value: '<duration>',
      description: 'create: phase of the interval (e.g. 2h: runs at 02:00)',
    },
    paused: { type: 'boolean', description: 'create: create it paused' },
    start: { type: 'string', value: '<time>', description: 'backfill: start of the range (ISO 8601, inclusive)' },
    end: { type: 'string', value: '<time>', description: 'backfill: end of the range (ISO 8601, inclusive)' },
    'task-queue': TASK_QUEUE_FLAG,
  },
  positionals: { min: 1, max: 2 },
  async run(ctx) {
    const sub = ctx.positionals[0] as Subcommand;
    if (!SUBCOMMANDS.includes(sub))
      throw new UsageError(`unknown schedule command "${sub}"; see dedl-harvest schedule --help`);
    const target = ctx.positionals[1];
    if (sub !== 'list' && !target)
      throw new UsageError(
        `usage: dedl-harvest schedule ${sub} <${sub === 'create' ? 'scheduled.json' : 'scheduleId'}>`,
      );
    const temporal = await connectClient(ctx.io.env, ctx.io.cwd);
    try {
      return await RUNNERS[sub](temporal.client, target ?? '', ctx);
    } finally {
      await temporal.close();
    }
  },
};

type Runner = (client: Client, target: string, ctx: CommandContext) => Promise<number>;

const done = (ctx: CommandContext, scheduleId: string, what: string): number => {
  if (ctx.json) printJson(ctx.io.stdout, { scheduleId, done: what });
  else line(ctx.io.stdout, `Schedule ${scheduleId}: ${what}.`);
  return EXIT.OK;
};

const RUNNERS: Record<Subcommand, Runner> = {
  async create(client, file, ctx) {
    const scheduleId = stringFlag(ctx.flags, 'schedule-id');
    const every = stringFlag(ctx.flags, 'every');
    if (!scheduleId || !every) throw new UsageError('schedule create needs --schedule-id and --every');
    if (parseDuration(every) === undefined) throw new UsageError('--every must be a duration like 6h or 1d');
    const offset = stringFlag(ctx.flags, 'offset');
    const input = await loadScheduled(file, ctx.io.cwd, every);
    await createHarvestSchedule(client, {
      scheduleId,
      every,
      offset,
      input,
      paused: ctx.flags.paused === true,
      taskQueue: taskQueueFor(stringFlag(ctx.flags, 'task-queue'), ctx.io.env),
    });
    return done(ctx, scheduleId, `created, every ${every}${offset ? ` at +${offset}` : ''}`);
  },

  async list(client, _target, ctx) {
    const schedules = await listHarvestSchedules(client);
    if (ctx.json) {
      printJson(
        ctx.io.stdout,
        schedules.map((s) => ({
          scheduleId: s.scheduleId,
          paused: s.state.paused,
          nextActionTimes: s.info?.nextActionTimes,
        })),
      );
    } else if (schedules.length === 0) line(ctx.io.stdout, 'No scheduled harvests.');
    else {
      for (const s of schedules) {
        const next = s.info?.nextActionTimes[0]?.toISOString() ?? '-';
        line(ctx.io.stdout, `${s.scheduleId.padEnd(32)} ${s.state.paused ? 'paused ' : 'active '} next ${next}`);
      }
    }
    return EXIT.OK;
  },

  async describe(client, scheduleId, ctx) {
    const d = await describeHarvestSchedule(client, scheduleId);
    if (ctx.json)
      printJson(ctx.io.stdout, { scheduleId, state: d.state, info: d.info, spec: d.spec, policies: d.policies });
    else {
      line(
        ctx.io.stdout,
        `Schedule ${scheduleId}: ${d.state.paused ? 'paused' : 'active'}, ${d.info.numActionsTaken} runs so far`,
      );
      for (const a of d.info.recentActions.slice(-5)) {
        line(ctx.io.stdout, `  ${a.scheduledAt.toISOString()}  ${a.action.workflow.workflowId}`);
      }
      const next = d.info.nextActionTimes[0];
      if (next) line(ctx.io.stdout, `  next: ${next.toISOString()}`);
    }
    return EXIT.OK;
  },

  async gaps(client, scheduleId, ctx) {
    const windows = await scheduleGaps(client, scheduleId);
    const gaps = windows.filter((w) => w.gap);
    if (ctx.json) printJson(ctx.io.stdout, { scheduleId, runs: windows.length, gaps: gaps.length, windows });
    else {
      line(ctx.io.stdout, `Schedule ${scheduleId}: ${windows.length} runs, ${gaps.length} windows delivered nothing`);
      for (const w of windows) {
        const span = w.window ? `${w.window.start} … ${w.window.end}` : (w.scheduledTime ?? w.workflowId);
        const what =
          w.found === undefined
            ? w.status.toLowerCase()
            : `${w.found} found, ${w.delivered} delivered, ${w.held} held already, ${w.failed} failed`;
        line(ctx.io.stdout, `  ${w.gap ? 'GAP ' : '    '}${span}  ${what}${w.gap && w.why ? ` (${w.why})` : ''}`);
      }
    }
    return gaps.length > 0 ? EXIT.ITEMS_FAILED : EXIT.OK;
  },

  async pause(client, scheduleId, ctx) {
    await pauseHarvestSchedule(client, scheduleId, 'paused with dedl-harvest');
    return done(ctx, scheduleId, 'paused');
  },

  async unpause(client, scheduleId, ctx) {
    await unpauseHarvestSchedule(client, scheduleId, 'unpaused with dedl-harvest');
    return done(ctx, scheduleId, 'unpaused');
  },

  async trigger(client, scheduleId, ctx) {
    await triggerHarvestSchedule(client, scheduleId);
    return done(ctx, scheduleId, 'triggered (its window ends now)');
  },

  async backfill(client, scheduleId, ctx) {
    const start = timeFlag(ctx, 'start');
    const end = timeFlag(ctx, 'end');
    if (start >= end) throw new UsageError('--start must be before --end');
    await backfillHarvestSchedule(client, scheduleId, start, end);
    return done(ctx, scheduleId, `backfill of ${start.toISOString()} … ${end.toISOString()} requested`);
  },

  async delete(client, scheduleId, ctx) {
    await deleteHarvestSchedule(client, scheduleId);
    return done(ctx, scheduleId, 'deleted (runs under way go on)');
  },
};

function timeFlag(ctx: CommandContext, name: string): Date {
  const text = stringFlag(ctx.flags, name);
  const time = text ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(time)) throw new UsageError(`backfill needs --${name} <time> (ISO 8601)`);
  return new Date(time);
}

async function loadScheduled(file: string, cwd: string, every: string): Promise<ScheduledHarvestInput> {
  const json = await readJsonFile(
    file,
    cwd,
    (problems) => new InvalidInputError(`the scheduled harvest ${file} was refused`, problems),
  );
  const input = { every, ...(resolveSinks(json, cwd) as object) };
  const parsed = parseScheduledHarvest(input);
  if (!parsed.ok)
    throw new InvalidInputError(`the scheduled harvest ${file} was refused; nothing was created`, parsed.problems);
  return input as ScheduledHarvestInput;
}
