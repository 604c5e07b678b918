/** `dedl-harvest status <workflowId>`: one look at a harvest, running or not. */
import type { Command } from '../command';
import { connectClient } from '../connect';
import { awaitHarvestEnd } from '../harvest-end';
import { line, printJson } from '../io';
import { presentEnd } from '../present';
import { HarvestWatcher } from '../progress';
import { progressBlock } from '../render';

export const statusCommand: Command = {
  name: 'status',
  usage: 'status <workflowId>',
  summary: 'show where a harvest stands: per item state and bytes, retries, or its report once it ended',
  details: 'Exits 0 when the status could be read, whatever the harvest state (use `result` for its outcome).',
  flags: {},
  positionals: { min: 1, max: 1 },
  async run(ctx) {
    const workflowId = ctx.positionals[0]!;
    const temporal = await connectClient(ctx.io.env, ctx.io.cwd);
    try {
      const snapshot = await new HarvestWatcher(temporal.client, workflowId).snapshot();
      if (snapshot.status === 'RUNNING') {
        if (ctx.json) printJson(ctx.io.stdout, snapshot);
        else for (const text of progressBlock(snapshot, ctx.io.stdout.columns ?? 120)) line(ctx.io.stdout, text);
        return 0;
      }
      // Closed: the result is there at once, and says more than a query (which needs a worker) would.
      const end = await awaitHarvestEnd(temporal.client, temporal.client.workflow.getHandle(workflowId));
      if (ctx.json) {
        printJson(ctx.io.stdout, { ...snapshot, end });
      } else {
        line(ctx.io.stdout, `${workflowId}: ${snapshot.status.toLowerCase()} at ${snapshot.closeTime ?? '?'}`);
        presentEnd({ ...ctx.io, stderr: ctx.io.stdout }, false, end, workflowId);
      }
      return 0;
    } finally {
      await temporal.close();
    }
  },
};
