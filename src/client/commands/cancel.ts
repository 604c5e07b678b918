/** `dedl-harvest cancel <workflowId>`: cancel a harvest (and with it, its Hook order). */
import type { Command } from '../command';
import { connectClient } from '../connect';
import { CliError } from '../errors';
import { awaitHarvestEnd } from '../harvest-end';
import { line, printJson } from '../io';
import { formatHarvestReport } from '../render';

export const cancelCommand: Command = {
  name: 'cancel',
  usage: 'cancel <workflowId>',
  summary: 'cancel a harvest: its Hook order is cancelled and partial files removed; waits until it has ended',
  flags: {
    'no-wait': { type: 'boolean', description: 'return once the cancellation is requested' },
  },
  positionals: { min: 1, max: 1 },
  async run(ctx) {
    const workflowId = ctx.positionals[0]!;
    const temporal = await connectClient(ctx.io.env, ctx.io.cwd);
    try {
      const handle = temporal.client.workflow.getHandle(workflowId);
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING') {
        throw new CliError(`harvest ${workflowId} has already ended (${description.status.name.toLowerCase()})`);
      }
      await handle.cancel();
      if (ctx.flags['no-wait']) {
        if (ctx.json) printJson(ctx.io.stdout, { workflowId, cancellation: 'requested' });
        else line(ctx.io.stdout, `Cancellation of ${workflowId} requested.`);
        return 0;
      }
      const end = await awaitHarvestEnd(temporal.client, temporal.client.workflow.getHandle(workflowId));
      if (ctx.json) {
        printJson(ctx.io.stdout, { workflowId, cancellation: end.kind === 'cancelled' ? 'done' : 'too late', end });
      } else if (end.kind === 'cancelled') {
        line(ctx.io.stdout, `Harvest ${workflowId} cancelled; its Hook order was cancelled too.`);
        if (end.progress) for (const text of formatHarvestReport(end.progress)) line(ctx.io.stdout, text);
      } else {
        line(ctx.io.stdout, `Harvest ${workflowId} ended before the cancellation took effect (${end.kind}).`);
      }
      return 0;
    } finally {
      await temporal.close();
    }
  },
};
