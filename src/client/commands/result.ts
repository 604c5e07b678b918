/** `dedl-harvest result <workflowId>`: wait for a harvest to end and print its report. */
import type { Command } from '../command';
import { connectClient } from '../connect';
import { awaitHarvestEnd } from '../harvest-end';
import { stopSignal } from '../io';
import { presentEnd } from '../present';

export const resultCommand: Command = {
  name: 'result',
  usage: 'result <workflowId>',
  summary: "wait for a harvest to end (if it has not) and print its report; the exit code is the harvest's",
  flags: {},
  positionals: { min: 1, max: 1 },
  async run(ctx) {
    const workflowId = ctx.positionals[0]!;
    const temporal = await connectClient(ctx.io.env, ctx.io.cwd);
    const stop = stopSignal(ctx.io);
    try {
      const handle = temporal.client.workflow.getHandle(workflowId);
      await handle.describe(); // an unknown id fails here, at once, instead of waiting
      const detached = new Promise<{ kind: 'detached' }>((resolve) =>
        stop.signal.addEventListener('abort', () => resolve({ kind: 'detached' }), { once: true }),
      );
      const ending = temporal.client.withAbortSignal(stop.signal, () => awaitHarvestEnd(temporal.client, handle));
      ending.catch(() => undefined); // after Ctrl-C the aborted long poll rejects; nobody waits for it
      const end = await Promise.race([ending, detached]);
      return presentEnd(ctx.io, ctx.json, end, workflowId);
    } finally {
      stop.dispose();
      await temporal.close();
    }
  },
};
