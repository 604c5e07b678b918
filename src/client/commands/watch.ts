/** `dedl-harvest watch <workflowId>`: follow a running harvest with progress until it is done. */
import type { Command } from '../command';
import { connectClient } from '../connect';
import { followHarvest } from '../follow';
import { stopSignal } from '../io';
import { presentEnd } from '../present';
import { createProgressRenderer } from '../render';

export const watchCommand: Command = {
  name: 'watch',
  usage: 'watch <workflowId>',
  summary: 'follow a harvest with progress until it is done, print the report',
  flags: {},
  positionals: { min: 1, max: 1 },
  async run(ctx) {
    const workflowId = ctx.positionals[0]!;
    const temporal = await connectClient(ctx.io.env, ctx.io.cwd);
    const stop = stopSignal(ctx.io);
    try {
      const end = await followHarvest(temporal.client, workflowId, {
        renderer: createProgressRenderer(ctx.io.stdout, { json: ctx.json }),
        intervalMs: ctx.io.stdout.isTTY ? 250 : 500,
        signal: stop.signal,
      });
      return presentEnd(ctx.io, ctx.json, end, workflowId);
    } finally {
      stop.dispose();
      await temporal.close();
    }
  },
};
