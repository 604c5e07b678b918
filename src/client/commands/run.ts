/** `dedl-harvest run <request.json>`: start a harvest, follow it until done, print the report. */
import type { Client } from '@temporalio/client';
import { type Command, type CommandContext, stringFlag } from '../command';
import { connectClient } from '../connect';
import { followHarvest } from '../follow';
import { line, stopSignal } from '../io';
import { presentEnd } from '../present';
import { createProgressRenderer } from '../render';
import { startHarvest, taskQueueFor } from '../start-harvest';
import { planFromContext } from './harvest';
import { DRY_RUN_FLAGS, REQUEST_FLAGS, requestFromContext } from './request-flags';

export const runCommand: Command = {
  name: 'run',
  usage: 'run <request.json> | run --from-env <.env_tutorial>',
  summary: 'start a harvest, follow its progress until it is done, print the report',
  details:
    'The request is checked before anything starts; relative sinks ("./dir") become absolute file:/// URLs.\n' +
    'Ctrl-C stops following (exit 130); the harvest goes on and `watch` picks it up again.',
  flags: { ...REQUEST_FLAGS, ...DRY_RUN_FLAGS },
  positionals: { min: 0, max: 1 },
  async run(ctx) {
    if (ctx.flags['dry-run']) return planFromContext(ctx);
    const { input, request } = await requestFromContext(ctx);
    const temporal = await connectClient(ctx.io.env, ctx.io.cwd);
    const stop = stopSignal(ctx.io);
    try {
      const started = await startHarvest(temporal.client, input, {
        workflowId: stringFlag(ctx.flags, 'id'),
        taskQueue: taskQueueFor(stringFlag(ctx.flags, 'task-queue'), ctx.io.env),
      });
      if (!ctx.json) {
        line(
          ctx.io.stdout,
          `Started harvest "${request.name}" (${plural(request.identifiers.length, 'item')}) as workflow ${started.workflowId} on task queue ${started.taskQueue}`,
        );
      }
      return await followToEnd(ctx, temporal.client, started.workflowId, stop.signal);
    } finally {
      stop.dispose();
      await temporal.close();
    }
  },
};

/** Follows a started harvest with live progress until it ends, prints how it ended; returns the exit code. */
export async function followToEnd(ctx: CommandContext, client: Client, workflowId: string, signal: AbortSignal) {
  const end = await followHarvest(client, workflowId, {
    renderer: createProgressRenderer(ctx.io.stdout, { json: ctx.json }),
    intervalMs: ctx.io.stdout.isTTY ? 250 : 500,
    signal,
  });
  return presentEnd(ctx.io, ctx.json, end, workflowId);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
