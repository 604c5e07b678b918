/** `dedl-harvest start <request.json>`: start a harvest and return at once with its workflow id. */
import { type Command, stringFlag } from '../command';
import { connectClient } from '../connect';
import { line, printJson } from '../io';
import { startHarvest, taskQueueFor } from '../start-harvest';
import { planFromContext } from './harvest';
import { DRY_RUN_FLAGS, REQUEST_FLAGS, requestFromContext } from './request-flags';

export const startCommand: Command = {
  name: 'start',
  usage: 'start <request.json> | start --from-env <.env_tutorial>',
  summary: 'start a harvest and print its workflow id (follow it with watch, status or result)',
  flags: { ...REQUEST_FLAGS, ...DRY_RUN_FLAGS },
  positionals: { min: 0, max: 1 },
  async run(ctx) {
    if (ctx.flags['dry-run']) return planFromContext(ctx);
    const { input, request } = await requestFromContext(ctx);
    const temporal = await connectClient(ctx.io.env, ctx.io.cwd);
    try {
      const started = await startHarvest(temporal.client, input, {
        workflowId: stringFlag(ctx.flags, 'id'),
        taskQueue: taskQueueFor(stringFlag(ctx.flags, 'task-queue'), ctx.io.env),
      });
      if (ctx.json) {
        printJson(ctx.io.stdout, { ...started, name: request.name, items: request.identifiers.length });
      } else {
        line(
          ctx.io.stdout,
          `Started harvest "${request.name}" as workflow ${started.workflowId} (run ${started.runId})`,
        );
        line(ctx.io.stdout, `  follow it:   dedl-harvest watch ${started.workflowId}`);
        line(ctx.io.stdout, `  its report:  dedl-harvest result ${started.workflowId}`);
      }
      return 0;
    } finally {
      await temporal.close();
    }
  },
};
